"""Output formats for an :class:`~microalign.align.Alignment`.

- ``json``: ``{"version", "backend", "model": {"name", "sha256"}, "audio", "duration", "score",
  "warnings": [{"code", "word"?, "start"?, "end"?, "message"}],
  "words": [{"word", "source", "start", "end", "confidence", "chars": [{"char", "start", "end"}]}]}``,
  seconds (``score``, ``confidence`` and the warnings: :mod:`microalign.quality`; the first three keys
  when the caller passes ``meta``, as the CLI does).
- ``textgrid``: Praat TextGrid (written with praatio) with tiers ``words`` (the normalised, aligned
  words), ``chars`` and ``transcript`` (the transcript's own tokens, spelling and punctuation kept,
  each spanning the words it was spoken as); gaps are empty intervals, as Praat and MFA expect.
- ``srt`` / ``vtt``: one cue per phrase (:func:`phrases`: a break at a pause or after punctuation)
  in the transcript's own words; VTT adds each word's start as a karaoke timestamp tag
  (``<00:00:01.200>``).
- ``csv``: ``level,label,start,end,confidence`` rows, words and characters.
- ``jsonl``: one JSON object per word per line, what the firmware prints (:mod:`.jsonl`).

:func:`format_for` picks the format from ``--format`` and the output file's extension.
"""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..align import Alignment
from .jsonl import to_jsonl
from .names import EXTENSIONS, FORMATS, FormatError, format_for  # noqa: F401  (re-exported)



def to_json(al: Alignment, meta: dict | None = None) -> str:
    """The alignment as JSON; ``meta`` (``version``, ``backend``, ``model``) goes first."""
    return json.dumps((meta or {}) | al.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _clock(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


#: a pause of at least this long between two words starts a new subtitle cue (seconds)
PHRASE_PAUSE = 0.3
#: a cue is closed before its text would pass this many characters (two 42-character lines)
PHRASE_MAX_CHARS = 84
_PHRASE_END = re.compile(r"[.,;:!?\u2026\u2014\u2013][)\]\"'\u201d\u2019]*$")   # punctuation, closing quotes


@dataclass(frozen=True)
class SourceWord:
    """One token of the transcript as written, with the time span of the spoken words it became."""
    text: str
    start: float
    end: float


def source_words(al: Alignment) -> list[SourceWord]:
    """The transcript's own tokens in order, each spanning the aligned words it was spoken as
    (``$1.5`` -> "one point five dollars" -> one token). Words are grouped by their source index;
    alignments without one (``source_index`` -1) group runs of the same source text."""
    out: list[SourceWord] = []
    prev = None
    for w in al.words:
        if prev is not None and (w.source_index == prev.source_index if w.source_index >= 0
                                 else prev.source_index < 0 and w.source == prev.source):
            out[-1] = SourceWord(out[-1].text, out[-1].start, max(out[-1].end, w.end))
        else:
            out.append(SourceWord(w.source, w.start, w.end))
        prev = w
    return out


def phrases(al: Alignment, pause: float = PHRASE_PAUSE, max_chars: int = PHRASE_MAX_CHARS) -> list[list[SourceWord]]:
    """The transcript's tokens in subtitle phrases: a new phrase after a token ending in punctuation
    (``. , ; : ! ?`` ...), at a pause of ``pause`` seconds or more, or before the text passes
    ``max_chars`` characters."""
    out: list[list[SourceWord]] = []
    for sw in source_words(al):
        if out:
            cur = out[-1]
            prev = cur[-1]
            chars = sum(len(x.text) + 1 for x in cur) + len(sw.text)
            if _PHRASE_END.search(prev.text) or sw.start - prev.end >= pause or chars > max_chars:
                out.append([sw])
                continue
            cur.append(sw)
        else:
            out.append([sw])
    return out


def _cue_text(words: list[SourceWord]) -> str:
    return " ".join(w.text for w in words)


def to_srt(al: Alignment) -> str:
    cues = [f"{i}\n{_clock(p[0].start, ',')} --> {_clock(p[-1].end, ',')}\n{_cue_text(p)}\n"
            for i, p in enumerate(phrases(al), 1)]
    return "\n".join(cues)


def _vtt_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(al: Alignment) -> str:
    """WebVTT, one cue per phrase, each word after the first preceded by its start time as a
    timestamp tag (``<00:00:01.200>``: karaoke-style highlighting in players that support it)."""
    cues = []
    for p in phrases(al):
        start, end = _clock(p[0].start, "."), _clock(p[-1].end, ".")
        parts, last = [_vtt_escape(p[0].text)], start
        for w in p[1:]:
            t = _clock(w.start, ".")
            # a timestamp tag must lie strictly inside the cue and after the previous one
            if last < t < end:
                parts.append(f"<{t}>{_vtt_escape(w.text)}")
                last = t
            else:
                parts.append(_vtt_escape(w.text))
        cues.append(f"{start} --> {end}\n{' '.join(parts)}\n")
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
    tg.addTier(tier("transcript", [(sw.text, sw.start, sw.end) for sw in source_words(al)]))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "out.TextGrid"
        tg.save(str(p), format="long_textgrid", includeBlankSpaces=True)
        return p.read_text(encoding="utf-8")


_WRITERS = {"json": to_json, "jsonl": to_jsonl, "textgrid": to_textgrid, "srt": to_srt, "vtt": to_vtt, "csv": to_csv}


def render(al: Alignment, fmt: str, meta: dict | None = None) -> str:
    """``al`` in format ``fmt`` (any case; see :data:`FORMATS`); ``meta`` goes into JSON only."""
    fmt = format_for(fmt)
    if fmt == "json":
        return to_json(al, meta)
    return _WRITERS[fmt](al)
