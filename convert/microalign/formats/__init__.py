"""Writers for alignments: JSON, Praat TextGrid, SRT, WebVTT, CSV."""
from .writers import FORMATS, render, to_csv, to_json, to_srt, to_textgrid, to_vtt

__all__ = ["FORMATS", "render", "to_csv", "to_json", "to_srt", "to_textgrid", "to_vtt"]
