"""``jsonl``: one JSON object per word, one line each, then one per quality warning -- exactly
what the firmware prints.

Each word's line is ``json.dumps(d, ensure_ascii=False)`` of::

    {"word": w, "start": s, "end": e, "confidence": c, "chars": [{"char": ch, "start": s, "end": e}, ...]}

with times in seconds rounded to 3 decimals and ``confidence`` the calibrated word confidence of
:mod:`microalign.quality` (the probability that both boundaries are within 50 ms), a multiple of
1e-4: the same number as the ``json`` format's. It is computed in fixed point
(:mod:`microalign.quality.fixed`) so that the firmware (``tflm_app/app/ma_quality.c``) computes it
bit for bit. After the words, one line per warning of :mod:`microalign.quality.checks`, in the
order of the ``json`` format's ``warnings`` list::

    {"warning": code}                                              (the whole utterance)
    {"warning": code, "word": i, "start": s, "end": e}             (word i; squeezed_words: the run)

(no message: the ``json`` format and stderr carry the messages). A reader tells the two kinds
apart by their first key.

:func:`ms_line` builds a word's line from integer milliseconds (the refined boundaries) the way
``align.py`` does (ms -> seconds, ends capped at the audio's length), for tests that drive the
decoder directly.
"""
from __future__ import annotations

import json
from typing import Iterable

import numpy as np

from ..align import Alignment

FIELDS = ("word", "start", "end", "confidence", "chars")
WARNING_FIELDS = ("warning", "word", "start", "end")


def word_line(word: str, start: float, end: float, confidence: float,
              chars: Iterable[tuple[str, float, float]]) -> str:
    """One word's line (with its ``\\n``); times in seconds."""
    d = {"word": word, "start": round(float(start), 3), "end": round(float(end), 3),
         "confidence": round(float(confidence), 4),
         "chars": [{"char": c, "start": round(float(a), 3), "end": round(float(b), 3)} for c, a, b in chars]}
    return json.dumps(d, ensure_ascii=False) + "\n"


def warning_line(code: str, word: int | None = None, start: float | None = None, end: float | None = None) -> str:
    """One warning's line (with its ``\\n``); ``word`` with its ``start``/``end`` in seconds, or none."""
    d: dict = {"warning": code}
    if word is not None:
        if start is None or end is None:
            raise ValueError(f"warning {code!r} of word {word} needs its start and end")
        d |= {"word": int(word), "start": round(float(start), 3), "end": round(float(end), 3)}
    return json.dumps(d, ensure_ascii=False) + "\n"


def ms_line(word: str, start_ms: int, end_ms: int, confidence: float, chars: Iterable[tuple[str, int, int]],
            n_samples: int) -> str:
    """:func:`word_line` from integer milliseconds, with ``align.py``'s times: ms / 1000, ends capped at the
    audio's length floored to the millisecond."""
    cap = int(np.floor(n_samples / 16000.0 * 1000.0))
    return word_line(word, int(start_ms) / 1000.0, min(int(end_ms), cap) / 1000.0, confidence,
                     [(c, int(a) / 1000.0, min(int(b), cap) / 1000.0) for c, a, b in chars])


def to_jsonl(al: Alignment) -> str:
    """The alignment's words, then its warnings, as JSON lines."""
    out = [word_line(w.word, w.start, w.end, w.confidence, [(c.char, c.start, c.end) for c in w.chars])
           for w in al.words]
    for w in al.warnings:
        out.append(warning_line(w.code, w.word, w.start, w.end))
    return "".join(out)
