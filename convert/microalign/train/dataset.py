"""Training windows: audio -> augmentation -> fixed-point features -> targets, on the fly.

Every item is a pure function of ``(seed, index)``, so a run resumed at step
``k`` sees exactly the batches it would have seen, and two runs with the
same seed are identical.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from ..audio import load_audio
from ..corpus import Utterance
from ..frontend import HOP, SAMPLE_RATE, features_from_pcm, float_to_pcm16, model_input
from .targets import WordTarget, frame_targets


@dataclass
class Source:
    """One corpus in the training mix."""

    name: str
    utterances: list[Utterance]
    weight: float = 1.0
    augment: bool = True
    pcm: list[np.ndarray] = field(default_factory=list, repr=False)

    def load(self, progress: bool = True) -> "Source":
        """Read all audio into memory once (int16, 16 kHz)."""
        self.pcm = [load_audio(u.audio, quiet=True)
                    for u in tqdm(self.utterances, desc=f"loading {self.name}", disable=not progress, unit="utt")]
        return self


def _augmenter():
    """The corpus augmenter from :mod:`microalign.data.augment`.

    Pitch shifting (a phase vocoder, ~0.4 s per utterance) is rare: the TTS
    voices already vary pitch, and it would dominate the data-loading time.
    """
    from ..data.augment import AugmentConfig, Augmenter

    return Augmenter(AugmentConfig(p_pitch=0.03))


class WindowDataset(torch.utils.data.Dataset):
    def __init__(self, sources: list[Source], window: int, length: int, seed: int = 0,
                 augment: bool = True, pronunciations: dict[str, tuple[int, ...]] | None = None) -> None:
        if not sources or not any(s.utterances for s in sources):
            raise ValueError("no training utterances")
        self.sources = [s for s in sources if s.utterances]
        w = np.array([s.weight for s in self.sources], dtype=np.float64)
        self.p = w / w.sum()
        self.window, self.length, self.seed, self.augment = window, length, seed, augment
        self.pronunciations = pronunciations
        self._aug = _augmenter() if augment else None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, i])
        src = self.sources[rng.choice(len(self.sources), p=self.p)]
        k = int(rng.integers(len(src.utterances)))
        utt, pcm = src.utterances[k], src.pcm[k]
        audio = pcm.astype(np.float32) / 32768.0
        words = list(utt.words)
        if self._aug is not None and src.augment:
            audio, words = self._aug.apply(audio, SAMPLE_RATE, words, rng)
        n = self.window * HOP
        # window start in samples: anywhere that keeps some speech; pads with digital silence
        lo = -n // 4
        hi = max(len(audio) - 3 * n // 4, lo + 1)
        s0 = int(rng.integers(lo, hi)) // HOP * HOP
        seg = np.zeros(n, dtype=np.float32)
        a, b = max(s0, 0), min(s0 + n, len(audio))
        if b > a:
            seg[a - s0:b - s0] = audio[a:b]
        feats = features_from_pcm(float_to_pcm16(seg))[: self.window]
        labels, targets, _ = frame_targets(words, self.window, offset_s=s0 / SAMPLE_RATE,
                                         pronunciations=self.pronunciations)
        return torch.from_numpy(model_input(feats)), torch.from_numpy(labels), targets


def collate(batch):
    x = torch.stack([b[0] for b in batch])
    y = torch.stack([b[1] for b in batch])
    return x, y, [b[2] for b in batch]


__all__ = ["Source", "WindowDataset", "collate", "WordTarget"]
