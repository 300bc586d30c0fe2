"""Output formats for an :class:`~microalign.align.Alignment`.

- ``json``: ``{"audio", "duration", "score", "warnings": [{"code", "word"?, "start"?, "end"?, "message"}],
  "words": [{"word", "source", "start", "end", "confidence", "chars": [{"char", "start", "end"}]}]}``,
  seconds (``score``, ``confidence`` and the warnings: :mod:`microalign.quality`).
- ``textgrid``: Praat TextGrid (written with praatio) with tiers ``words`` and ``chars``;
  gaps between words are empty intervals, as Praat and MFA expect.
- ``srt`` / ``vtt``: one cue per word (subtitle players, karaoke-style review).
- ``csv``: ``level,label,start,end,confidence`` rows, words and characters.
- ``jsonl``: one JSON object per word per line, what the firmware prints (:mod:`.jsonl`).
"""
from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from ..align import Alignment
from .jsonl import to_jsonl

FORMATS = ("json", "jsonl", "textgrid", "srt", "vtt", "csv")


def to_json(al: Alignment) -> str:
    return json.dumps(al.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _clock(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(al: Alignment) -> str:
    cues = [f"{i}\n{_clock(w.start, ',')} --> {_clock(w.end, ',')}\n{w.word}\n" for i, w in enumerate(al.words, 1)]
    return "\n".join(cues)


def to_vtt(al: Alignment) -> str:
    cues = [f"{_clock(w.start, '.')} --> {_clock(w.end, '.')}\n{w.word}\n" for w in al.words]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_csv(al: Alignment) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["level", "label", "start", "end", "confidence"])
    for w in al.words:
        wr.writerow(["word", w.word, f"{w.start:.3f}", f"{w.end:.3f}", f"{w.confidence:.4f}"])
        for c in w.chars:
            wr.writerow(["char", c.char, f"{c.start:.3f}", f"{c.end:.3f}", ""])
    return buf.getvalue()


def to_textgrid(al: Alignment) -> str:
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    end = max([al.duration] + [w.end for w in al.words])
    tg = textgrid.Textgrid(0.0, end)

    def tier(name: str, items):
        ivs, last = [], 0.0
        for label, s, e in items:
            s = max(s, last)
            if e > s:
                ivs.append(Interval(round(s, 3), round(e, 3), label))
                last = e
        return textgrid.IntervalTier(name, ivs, 0.0, end)

    tg.addTier(tier("words", [(w.word, w.start, w.end) for w in al.words]))
    tg.addTier(tier("chars", [(c.char, c.start, c.end) for w in al.words for c in w.chars]))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "out.TextGrid"
        tg.save(str(p), format="long_textgrid", includeBlankSpaces=True)
        return p.read_text(encoding="utf-8")


_WRITERS = {"json": to_json, "jsonl": to_jsonl, "textgrid": to_textgrid, "srt": to_srt, "vtt": to_vtt, "csv": to_csv}


def render(al: Alignment, fmt: str) -> str:
    try:
        return _WRITERS[fmt](al)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
