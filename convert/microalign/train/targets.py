"""Training targets from word timings: silence frames and word spans with their token ids.

Frame ``t`` covers ``[t, t+1) * FRAME_SECONDS``; a word ``[start, end)`` owns
the frames whose centres fall inside it. Where reference words overlap
slightly, the shared frames are split at the midpoint.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..corpus import Segment
from ..frontend import FRAME_SECONDS
from ..teachers.consensus import is_uncertain
from ..text.tokens import TokenError, encode_word

IGNORE = -1
SILENCE = 0
IN_WORD = 1


@dataclass
class WordTarget:
    start: int          # first frame
    end: int            # one past the last frame
    tokens: list[int]
    phones: tuple[int, ...] | None = None   # auxiliary phone targets (train/phones.py), if any


def word_frame_spans(words: list[Segment], n_frames: int, offset_s: float = 0.0) -> list[tuple[int, int]]:
    """Integer frame spans of words (after shifting times by ``-offset_s``), overlaps split."""
    spans = []
    for w in words:
        a = int(np.floor((w.start - offset_s) / FRAME_SECONDS + 0.5))
        b = int(np.floor((w.end - offset_s) / FRAME_SECONDS + 0.5))
        spans.append([a, max(b, a)])
    for i in range(len(spans) - 1):
        if spans[i][1] > spans[i + 1][0]:
            mid = (spans[i][1] + spans[i + 1][0]) // 2
            spans[i][1] = max(spans[i][0], mid)
            spans[i + 1][0] = min(spans[i + 1][1], mid)
    return [(a, b) for a, b in spans]


def frame_targets(words: list[Segment], n_frames: int, offset_s: float = 0.0,
                  pronunciations: dict[str, tuple[int, ...]] | None = None
                  ) -> tuple[np.ndarray, list[WordTarget], int]:
    """(frame labels [n_frames], word targets fully inside the window, words skipped).

    Labels: SILENCE outside words, IN_WORD inside a usable word, IGNORE for
    frames of words cut by the window edge or unusable (fewer frames than
    characters, characters without a token). An uncertain word (consensus
    labels, :mod:`microalign.teachers.consensus`) is ignored together with
    the pauses on either side of it, which its wrong timing would mislabel.
    ``pronunciations`` (word -> phone ids) adds each word's phones to its target
    when they fit in its frames.
    """
    labels = np.full(n_frames, SILENCE, dtype=np.int64)
    targets: list[WordTarget] = []
    skipped = 0
    spans = word_frame_spans(words, n_frames, offset_s)
    for i, (w, (a, b)) in enumerate(zip(words, spans)):
        if is_uncertain(w.label):
            lo = spans[i - 1][1] if i > 0 else 0
            hi = spans[i + 1][0] if i + 1 < len(spans) else n_frames
            labels[max(lo, 0):max(min(hi, n_frames), 0)] = IGNORE
            continue
        if b <= 0 or a >= n_frames:
            continue
        lo, hi = max(a, 0), min(b, n_frames)
        try:
            toks = encode_word(w.label)
        except TokenError:
            toks = []
        if a < 0 or b > n_frames or len(toks) > b - a or not toks:
            labels[lo:hi] = IGNORE
            skipped += int(a >= 0 and b <= n_frames)
            continue
        labels[lo:hi] = IN_WORD
        phones = (pronunciations or {}).get(w.label)
        targets.append(WordTarget(a, b, toks, phones if phones and len(phones) <= b - a else None))
    return labels, targets, skipped
