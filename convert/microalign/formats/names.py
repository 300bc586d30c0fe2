"""The output format names, the file extensions that select them and :func:`format_for` (no heavy imports:
the CLI reads these at start-up)."""
from __future__ import annotations

from pathlib import Path

FORMATS = ("json", "jsonl", "textgrid", "srt", "vtt", "csv")
#: output file extension (lower case) -> format
EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".textgrid": "textgrid", ".srt": "srt", ".vtt": "vtt",
              ".csv": "csv"}


class FormatError(ValueError):
    """An unknown format, or one that contradicts the output file's extension."""


def format_for(fmt: str | None, output: str | Path | None = None, default: str = "json") -> str:
    """The output format: ``fmt`` (any case) if given, else the one ``output``'s extension names
    (``.TextGrid``, ``.json``, ``.jsonl``, ``.csv``, ``.srt``, ``.vtt``, any case), else ``default``.

    Raises :class:`FormatError` for an unknown ``fmt``, for a ``fmt`` that contradicts a known
    extension (``--format json -o x.TextGrid``) and for an output file whose extension names no
    format when ``fmt`` is not given (``-o x.txt``).
    """
    if fmt is not None:
        fmt = str(fmt).lower()
        if fmt not in FORMATS:
            raise FormatError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if output is None or str(output) == "-":
        return fmt or default
    suffix = Path(output).suffix
    by_ext = EXTENSIONS.get(suffix.lower())
    if fmt is None:
        if by_ext is None:
            raise FormatError(f"cannot tell the output format from {Path(output).name!r} (extension "
                              f"{suffix or 'none'}; known: {', '.join(EXTENSIONS)}): give --format")
        return by_ext
    if by_ext is not None and by_ext != fmt:
        raise FormatError(f"--format {fmt} contradicts the output file {Path(output).name!r}, whose extension "
                          f"{suffix} means {by_ext}: drop --format or change the file name")
    return fmt
