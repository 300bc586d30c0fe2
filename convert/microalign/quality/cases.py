"""Recordings that do not match their transcripts, built from a correct pair: the test cases of
the mismatch checks (``tests/test_quality.py``, ``eval/false_warnings.py``).

Each function takes int16 16 kHz PCM and its transcript and returns a new ``(pcm, transcript)``
pair; each must draw a warning from :func:`microalign.quality.assess`.
"""
from __future__ import annotations

import numpy as np

#: a word that is in none of the bundled recordings
UNSPOKEN_WORD = "elephant"


def _words(text: str, least: int) -> list[str]:
    w = text.split()
    if len(w) < least:
        raise ValueError(f"transcript needs at least {least} words for this case, got {len(w)}: {text!r}")
    return w


def partial_transcript(pcm: np.ndarray, text: str, keep: float = 0.4) -> tuple[np.ndarray, str]:
    """Only the first ``keep`` share of the words (at least one): the rest of the audio is unexplained."""
    w = _words(text, 4)
    return pcm, " ".join(w[:max(1, int(len(w) * keep))])


def unspoken_word(pcm: np.ndarray, text: str, word: str = UNSPOKEN_WORD) -> tuple[np.ndarray, str]:
    """A word nobody said, inserted in the middle of the transcript."""
    w = _words(text, 2)
    mid = len(w) // 2
    return pcm, " ".join(w[:mid] + [word] + w[mid:])


def truncated_audio(pcm: np.ndarray, text: str, keep: float = 0.3) -> tuple[np.ndarray, str]:
    """The audio cut after its first ``keep`` share, with the whole transcript."""
    _words(text, 4)
    return np.asarray(pcm)[: max(1600, int(len(pcm) * keep))].copy(), text


def white_noise(pcm: np.ndarray, text: str, seed: int = 0) -> tuple[np.ndarray, str]:
    """White noise as loud as the recording (same RMS and length), with its transcript."""
    x = np.asarray(pcm, dtype=np.float64)
    rms = max(float(np.sqrt(np.mean(x * x))), 100.0)
    noise = np.random.default_rng(seed).standard_normal(len(x)) * rms
    return np.clip(np.round(noise), -32768, 32767).astype(np.int16), text


def other_transcript(pcm: np.ndarray, text: str, other: str) -> tuple[np.ndarray, str]:
    """Another recording's transcript."""
    if other.split() == text.split():
        raise ValueError("the other transcript is the same as this one")
    return pcm, other


CASES = {"partial_transcript": partial_transcript, "unspoken_word": unspoken_word,
         "truncated_audio": truncated_audio, "white_noise": white_noise, "other_transcript": other_transcript}
