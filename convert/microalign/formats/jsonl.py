"""``jsonl``: one JSON object per word, one line each -- exactly what the firmware prints.

Each line is ``json.dumps(d, ensure_ascii=False)`` of::

    {"word": w, "start": s, "end": e, "acoustic": a, "chars": [{"char": c, "start": s, "end": e}, ...]}

with times in seconds rounded to 3 decimals and ``acoustic`` rounded to 4. ``acoustic`` is the
decoder's acoustic confidence of the word, ``exp(scale * mean score gap over its frames)``
(:meth:`microalign.decode.viterbi_int.IntAlignment.word_confidence`), i.e. *before* calibration:
the firmware (``tflm_app/app/ma_json.c``) computes it bit for bit as the host does. The calibrated
``confidence`` of the ``json`` format (:mod:`microalign.quality`) is not computed on the device
yet, so it is not part of this format.

:func:`frames_line` builds a line from decoder frames the way ``align.py`` does (frame -> seconds,
end capped at the audio's length), for tests that drive the decoder directly.
"""
from __future__ import annotations

import json
from typing import Iterable

import numpy as np

from ..align import Alignment
from ..frontend import HOP, SAMPLE_RATE

FIELDS = ("word", "start", "end", "acoustic", "chars")


def word_line(word: str, start: float, end: float, acoustic: float,
              chars: Iterable[tuple[str, float, float]]) -> str:
    """One word's line (with its ``\\n``); times in seconds."""
    d = {"word": word, "start": round(float(start), 3), "end": round(float(end), 3),
         "acoustic": round(float(acoustic), 4),
         "chars": [{"char": c, "start": round(float(a), 3), "end": round(float(b), 3)} for c, a, b in chars]}
    return json.dumps(d, ensure_ascii=False) + "\n"


def frames_line(word: str, start_f: int, end_f: int, acoustic: float, chars: Iterable[tuple[str, int, int]],
                n_samples: int) -> str:
    """:func:`word_line` from frame indices, with ``align.py``'s times: frame * HOP / SAMPLE_RATE, ends capped
    at the audio's length floored to the millisecond."""
    def sec(f):
        return int(f) * HOP / SAMPLE_RATE
    cap = float(np.floor(n_samples / 16000.0 * 1000.0) / 1000.0)
    return word_line(word, sec(start_f), min(sec(end_f), cap), acoustic,
                     [(c, sec(a), min(sec(b), cap)) for c, a, b in chars])


def to_jsonl(al: Alignment) -> str:
    """The alignment's words as JSON lines; ValueError when a word lacks its acoustic confidence."""
    out = []
    for w in al.words:
        if w.acoustic is None:
            raise ValueError(f"word {w.word!r} has no acoustic confidence: the jsonl format needs an alignment "
                             "made by microalign.align.align_pcm")
        out.append(word_line(w.word, w.start, w.end, w.acoustic, [(c.char, c.start, c.end) for c in w.chars]))
    return "".join(out)
