"""A naive reference aligner: words spread over the voiced region by character count.

It shows what a model has to beat: speech/silence detection from frame
energy alone, no acoustics of the words.
"""
from __future__ import annotations

import numpy as np

from ..corpus import Segment
from ..frontend import FRAME_SECONDS, features_from_pcm


def voiced_region(pcm: np.ndarray) -> tuple[float, float]:
    """(start, end) seconds of the region whose frame energy is above a level between floor and peak."""
    e = features_from_pcm(pcm).astype(np.float32).mean(axis=1)
    lo, hi = np.percentile(e, 5), np.percentile(e, 99)
    on = np.nonzero(e > lo + 0.35 * (hi - lo))[0]
    if not len(on):
        return 0.0, len(pcm) / 16000.0
    return float(on[0] * FRAME_SECONDS), float((on[-1] + 1) * FRAME_SECONDS)


def uniform_alignment(pcm: np.ndarray, words: list[str]) -> list[Segment]:
    """Word spans proportional to their character counts inside the voiced region."""
    if not words:
        raise ValueError("no words")
    a, b = voiced_region(pcm)
    n = np.array([len(w) + 1 for w in words], dtype=np.float64)
    edges = a + (b - a) * np.concatenate([[0.0], np.cumsum(n) / n.sum()])
    return [Segment(w, float(edges[i]), float(edges[i + 1])) for i, w in enumerate(words)]
