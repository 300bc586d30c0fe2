"""Writers for alignments: JSON, Praat TextGrid, SRT, WebVTT, CSV; :func:`format_for` picks one.

Importing this package is cheap (the format names only); the writers load on first use.
"""
from .names import EXTENSIONS, FORMATS, FormatError, format_for

_WRITERS = {"jsonl": ("ms_line", "to_jsonl", "word_line"),
            "writers": ("SourceWord", "phrases", "render", "source_words", "to_csv", "to_json", "to_srt",
                        "to_textgrid", "to_vtt")}

__all__ = ["EXTENSIONS", "FORMATS", "FormatError", "format_for", *(n for names in _WRITERS.values() for n in names)]


def __getattr__(name: str):
    import importlib

    for module, names in _WRITERS.items():
        if name in names:
            return getattr(importlib.import_module(f".{module}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
