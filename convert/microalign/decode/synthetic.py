"""Realistic synthetic model outputs for tests and benchmarks (until trained-model outputs are available).

A "speaker" reads the transcript with random character durations and pauses;
the "model" puts most probability on the true token, some on a few
confusable tokens, and smears it near boundaries -- peaked log-softmax rows
like a trained CTC-free frame classifier. :func:`quantize_log_softmax` maps
them to int8 exactly as TFLite's int8 LOG_SOFTMAX output (scale 16/256,
zero point 127, saturating near -16).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..text.tokens import NUM_TOKENS

#: A small English-like vocabulary (token ids come from encode_words).
WORDS = ("the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
         "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word",
         "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there", "use", "each",
         "which", "she", "do", "how", "their", "if", "will", "up", "other", "about", "out", "many", "then",
         "them", "these", "so", "some", "her", "would", "make", "like", "him", "into", "time", "has", "look",
         "two", "more", "write", "go", "see", "number", "no", "way", "could", "people", "my", "than", "first",
         "water", "been", "call", "who", "oil", "its", "now", "find", "long", "down", "day", "did", "get",
         "come", "made", "may", "part", "balloon", "hello", "all", "committee", "street", "isn't", "llama")


@dataclass(frozen=True)
class Synthetic:
    log_probs: np.ndarray   # [T, V] float64 log-softmax rows
    scores: np.ndarray      # [T, V] int8, quantize_log_softmax(log_probs)
    words: list[list[int]]  # token ids per word
    frame_tokens: np.ndarray  # [T] the "true" token per frame


def quantize_log_softmax(lp: np.ndarray) -> np.ndarray:
    """int8 LOG_SOFTMAX output: round(lp * 16) + 127, clamped to [-128, 127]."""
    return np.clip(np.round(lp * 16.0) + 127, -128, 127).astype(np.int8)


def random_transcript(rng: np.random.Generator, n_words: int) -> list[str]:
    return [WORDS[i] for i in rng.integers(0, len(WORDS), n_words)]


def synthesize(rng: np.random.Generator, words: list[list[int]], n_frames: int | None = None, *,
               char_frames: tuple[int, int] = (3, 12), pause_prob: float = 0.3, pause_frames: tuple[int, int] = (5, 40),
               lead_frames: tuple[int, int] = (5, 50), sharpness: float = 6.0, noise: float = 1.5,
               n_vocab: int = NUM_TOKENS) -> Synthetic:
    """Scores for ``words`` read with random durations; ``n_frames`` pads/truncates silence at the end."""
    seq: list[int] = [0] * int(rng.integers(*lead_frames))
    for i, w in enumerate(words):
        if i and rng.random() < pause_prob:
            seq += [0] * int(rng.integers(*pause_frames))
        for c in w:
            seq += [c] * int(rng.integers(*char_frames))
    seq += [0] * int(rng.integers(*lead_frames))
    if n_frames is not None:
        n_chars = sum(len(w) for w in words)
        if n_frames < n_chars:
            raise ValueError(f"n_frames={n_frames} < {n_chars} characters")
        while len(seq) > n_frames:  # speak faster: drop frames of the longest runs first
            runs = np.flatnonzero(np.diff(np.r_[-1, seq, -1]))  # run starts
            lengths = np.diff(runs)
            j = int(np.argmax(lengths))
            del seq[runs[j]]
        seq += [0] * (n_frames - len(seq))
    truth = np.asarray(seq, dtype=np.int64)
    T = truth.shape[0]
    logits = rng.normal(0.0, noise, size=(T, n_vocab))
    # confusable tokens: each true token pulls up one fixed neighbour
    logits[np.arange(T), truth] += sharpness
    logits[np.arange(T), (truth * 7 + 3) % n_vocab] += sharpness * 0.4
    # boundary smear: the previous/next frame's token gets some mass
    logits[np.arange(1, T), truth[:-1]] += sharpness * 0.3
    logits[np.arange(T - 1), truth[1:]] += sharpness * 0.3
    lp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return Synthetic(log_probs=lp, scores=quantize_log_softmax(lp), words=[list(w) for w in words], frame_tokens=truth)
