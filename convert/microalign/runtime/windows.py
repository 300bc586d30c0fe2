"""Long audio through a fixed-length model: overlapping windows, stitched into one score matrix.

Windows of the model's length ``W`` start every ``W - 2 * margin`` frames,
the last one flush with the end of the utterance; a short utterance (or the
tail of a window) is padded with the feature floor, -128. Each frame's
scores come from the window whose centre is nearest (the *owner rule*), so
away from the utterance's own ends no frame is scored within about
``margin`` frames of a window edge.
"""
from __future__ import annotations

import numpy as np

from .scores import FrameScores, WindowScorer

MARGIN = 50                 # frames of context dropped at each inner window edge
FEATURE_FLOOR = -128        # padding: the int8 feature of silence


def window_starts(n_frames: int, window: int, margin: int = MARGIN) -> list[int]:
    """First frame of every window over ``n_frames`` frames (``[0]`` when one window holds them all)."""
    if window < 1 or margin < 0 or window - 2 * margin < 1:
        raise ValueError(f"window {window} and margin {margin} leave no frames to score (need window > 2 * margin)")
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    if n_frames <= window:
        return [0]
    hop = window - 2 * margin
    starts = list(range(0, n_frames - window, hop)) + [n_frames - window]
    return sorted(set(starts))


def pad_window(feats: np.ndarray, start: int, window: int) -> np.ndarray:
    """Frames ``[start, start + window)`` of ``feats``, padded with the feature floor past its end."""
    w = np.full((window, feats.shape[1]), FEATURE_FLOOR, dtype=np.int8)
    seg = feats[start:start + window]
    w[:len(seg)] = seg
    return w


def window_owners(n_frames: int, starts: list[int], window: int) -> np.ndarray:
    """Index into ``starts`` of the window each frame's scores come from: the nearest window centre,
    the earlier window on a tie. O(T log n) time and O(T) memory (``starts`` ascending)."""
    centres = np.array([s + window / 2 for s in starts], dtype=np.float64)
    x = np.arange(n_frames, dtype=np.float64) + 0.5
    right = np.clip(np.searchsorted(centres, x), 0, len(centres) - 1)
    left = np.maximum(right - 1, 0)
    return np.where(np.abs(x - centres[left]) <= np.abs(centres[right] - x), left, right)


def frame_scores(feats: np.ndarray, scorer: WindowScorer, margin: int = MARGIN) -> FrameScores:
    """Scores for every frame of an utterance (int8 features ``[T, N_MELS]``) from fixed-length model windows."""
    feats = np.asarray(feats)
    if feats.ndim != 2 or feats.dtype != np.int8 or len(feats) == 0:
        raise ValueError(f"expected int8 features [T > 0, n_mels], got {feats.dtype} {feats.shape}")
    n, w = len(feats), scorer.window
    starts = window_starts(n, w, margin)
    owner = window_owners(n, starts, w)
    out: FrameScores | None = None
    for k, s in enumerate(starts):
        sc = scorer(pad_window(feats, s, w))
        if sc.values.shape[0] != w:
            raise ValueError(f"scorer returned {sc.values.shape[0]} frames for a window of {w}")
        if out is None:
            out = FrameScores(np.empty((n, sc.values.shape[1]), sc.values.dtype), sc.scale, sc.zero_point)
        idx = np.nonzero(owner == k)[0]
        out.values[idx] = sc.values[idx - s]
    assert out is not None
    return out
