"""Writers for alignments: JSON, Praat TextGrid, SRT, WebVTT, CSV."""
from .jsonl import frames_line, to_jsonl, word_line
from .writers import FORMATS, render, to_csv, to_json, to_srt, to_textgrid, to_vtt

__all__ = ["FORMATS", "frames_line", "render", "to_csv", "to_json", "to_jsonl", "to_srt", "to_textgrid", "to_vtt",
           "word_line"]
