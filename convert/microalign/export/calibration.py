"""Calibration windows for int8 post-training quantisation: real frontend features, chosen reproducibly.

A calibration source is one of

- a sequence of int8 feature arrays ``[T, N_MELS]`` (any ``T``; one per utterance),
- a JSON-lines manifest (:mod:`microalign.corpus`): its audio goes through
  :func:`~microalign.frontend.features_from_pcm`,
- a folder of manifests: its ``train.jsonl`` files (every ``*.jsonl`` if there
  is none: never calibrate on a test split);
- any other folder: every ``.wav``/``.flac`` under it, likewise.

Windows are cut as the aligner cuts them (:func:`microalign.runtime.window_starts`,
short utterances padded with ``-128`` by :func:`microalign.runtime.pad_window`), so the converter sees what the
device will. Selection: utterances in a seeded random order, one random
window from each; when the utterances run out before ``n`` windows, a second
pass takes further windows. Only the utterances needed are read.
Same source, ``n`` and seed give the same windows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..frontend import N_MELS
from ..runtime.windows import pad_window, window_starts

AUDIO_SUFFIXES = (".wav", ".flac")
FEATURE_MIN, FEATURE_MAX = -128, 127


@dataclass
class CalibrationSet:
    windows: np.ndarray                  # int8 [n, window, N_MELS]
    source: str
    seed: int
    picks: list[tuple[str, int]] = field(default_factory=list)   # (utterance, start frame) per window

    def __len__(self) -> int:
        return len(self.windows)

    def describe(self) -> dict:
        return {"source": self.source, "n_windows": len(self), "seed": self.seed,
                "n_utterances": len({u for u, _ in self.picks}), "windows": [list(p) for p in self.picks]}


def _audio_items(source: Path) -> list[tuple[str, str]]:
    """(name, audio path) pairs, sorted by name."""
    if source.is_dir() and any(source.rglob("*.jsonl")):
        from ..data.readers import read_manifests

        split = "train" if any(source.rglob("train.jsonl")) else None
        items = sorted((u.id, u.audio) for u in read_manifests(source, split))
        if not items:
            raise ValueError(f"no utterances in the manifests under {source}")
        return items
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise ValueError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {source}")
        return [(str(p.relative_to(source)), str(p)) for p in files]
    if source.is_file():
        from ..corpus import read_manifest

        items = sorted((u.id, u.audio) for u in read_manifest(source))
        if not items:
            raise ValueError(f"manifest has no utterances: {source}")
        return items
    raise FileNotFoundError(f"calibration source not found: {source}")


def calibration_windows(source: str | Path | Sequence[np.ndarray], n: int, seed: int = 0,
                        window: int = 400) -> CalibrationSet:
    """``n`` int8 windows ``[window, N_MELS]`` of real features from ``source`` (see the module doc)."""
    if n < 1:
        raise ValueError(f"need at least one calibration window (n={n})")
    rng = np.random.default_rng(seed)
    if isinstance(source, (str, Path)):
        items = _audio_items(Path(source))
        label = str(source)

        def features(i: int) -> np.ndarray:
            from ..audio import load_audio
            from ..frontend import features_from_pcm

            return features_from_pcm(load_audio(items[i][1], quiet=True))
        names = [name for name, _ in items]
    else:
        arrays = list(source)
        if not arrays:
            raise ValueError("empty list of calibration features")
        for k, a in enumerate(arrays):
            if a.dtype != np.int8 or a.ndim != 2 or a.shape[1] != N_MELS or len(a) == 0:
                raise ValueError(f"calibration features #{k}: expected int8 [T, {N_MELS}], got {a.dtype} {a.shape}")
        label = f"{len(arrays)} feature arrays"
        names = [f"#{k}" for k in range(len(arrays))]

        def features(i: int) -> np.ndarray:
            return arrays[i]

    order = rng.permutation(len(names))
    cache: dict[int, np.ndarray] = {}
    remaining: dict[int, list[int]] = {}
    picks: list[tuple[int, int]] = []
    for i in order:                                          # pass 1: one window per utterance
        if len(picks) == n:
            break
        cache[i] = f = features(int(i))
        starts = window_starts(len(f), window)
        k = int(rng.integers(len(starts)))
        picks.append((int(i), starts[k]))
        remaining[int(i)] = starts[:k] + starts[k + 1:]
    while len(picks) < n and any(remaining.values()):         # further passes: the other windows
        for i in order:
            rest = remaining.get(int(i))
            if rest and len(picks) < n:
                picks.append((int(i), rest.pop(int(rng.integers(len(rest))))))
    if len(picks) < n:
        raise ValueError(f"calibration source {label} yields only {len(picks)} windows, {n} requested")
    windows = np.stack([pad_window(cache[i], s, window) for i, s in picks])
    return CalibrationSet(windows, label, seed, [(names[i], s) for i, s in picks])


def pin_input_range(windows: np.ndarray) -> np.ndarray:
    """A copy whose first window holds the int8 extremes (-128 and 127) once each.

    The converter sets the input's int8 range from the calibration min/max;
    with both extremes present it comes out as exactly scale 1/32, zero
    point 0 (float ``q/32`` for ``q`` in [-128, 127]), so the device feeds
    its int8 features to the model unchanged. Two elements of one window
    barely move any other tensor's range.
    """
    w = windows.copy()
    w[0, 0, 0], w[0, 0, 1] = FEATURE_MIN, FEATURE_MAX
    return w
