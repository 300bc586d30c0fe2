"""Long recordings with known clip offsets, made by concatenating short clips (LJ Speech):
the long-audio evaluation (``eval/long_audio.py``) and tests (``tests/test_long_audio.py``).

Every clip keeps its own leading and trailing silence; clip ``i`` starts at sample
``offsets[i]``. A clip's first word is expected at ``offset + start of the first word when the
clip is aligned alone`` (a short recording, where the decoder is exact): the error measured is
what length adds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frontend import SAMPLE_RATE


@dataclass
class Concatenation:
    pcm: np.ndarray            #: int16
    text: str                  #: the clips' transcripts joined with spaces
    clip_ids: list[str]        #: one per placed clip (clips may repeat)
    offsets: np.ndarray        #: [n_clips] start of each clip, seconds
    first_word: np.ndarray     #: [n_clips] index of each clip's first word among all aligned words

    @property
    def duration(self) -> float:
        return len(self.pcm) / SAMPLE_RATE


def concatenate(clips: list[tuple[str, np.ndarray, str]], seconds: float) -> Concatenation:
    """Clips ``(id, int16 pcm, transcript)`` in order, cycling, until the recording lasts at least
    ``seconds`` (a single clip — the one closest to ``seconds`` — when the first clip alone is longer)."""
    from ..text import normalize

    if not clips:
        raise ValueError("no clips to concatenate")
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    if len(clips[0][1]) / SAMPLE_RATE >= seconds:
        chosen = [min(clips, key=lambda c: abs(len(c[1]) / SAMPLE_RATE - seconds))]
    else:
        chosen, total, i = [], 0, 0
        while total < seconds * SAMPLE_RATE:
            chosen.append(clips[i % len(clips)])
            total += len(clips[i % len(clips)][1])
            i += 1
    offsets, first, n_words, pos = [], [], 0, 0
    for cid, pcm, text in chosen:
        offsets.append(pos / SAMPLE_RATE)
        first.append(n_words)
        n_words += len(normalize(text))
        pos += len(pcm)
    return Concatenation(np.concatenate([c[1] for c in chosen]).astype(np.int16),
                         " ".join(c[2] for c in chosen), [c[0] for c in chosen],
                         np.array(offsets), np.array(first, dtype=int))


def first_word_errors(cat: Concatenation, word_starts: np.ndarray, alone_starts: dict[str, float]) -> np.ndarray:
    """Seconds between each clip's first word in the long alignment and where it is expected
    (clip offset + its first word's start when the clip is aligned alone)."""
    starts = np.asarray(word_starts, dtype=np.float64)
    expected = cat.offsets + np.array([alone_starts[c] for c in cat.clip_ids])
    return np.abs(starts[cat.first_word] - expected)
