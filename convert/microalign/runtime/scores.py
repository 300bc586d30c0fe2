"""What a model window gives the aligner: :class:`FrameScores`, and the :class:`WindowScorer` protocol."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..text.tokens import TokenTable


@dataclass
class FrameScores:
    """Model output for a window or a whole utterance: float log-probs, or int8 scores with their quantisation."""

    values: np.ndarray                  # [T, V] float32 or int8
    scale: float | None = None          # int8 only
    zero_point: int | None = None

    @property
    def is_int8(self) -> bool:
        return self.values.dtype == np.int8

    def log_probs(self) -> np.ndarray:
        """float32 log-probabilities (int8 scores dequantised)."""
        if not self.is_int8:
            return np.asarray(self.values, np.float32)
        q = self.values.astype(np.float32) - np.float32(self.zero_point)
        return (q * np.float32(self.scale)).astype(np.float32)


class WindowScorer(Protocol):
    """Runs the model on one window of int8 features ``[window, N_MELS]``.

    ``window`` is the model's fixed input length in frames; ``tokens`` is the
    model's :class:`~microalign.text.tokens.TokenTable` (id 0 silence), one score
    column per token (the aligner assumes the English table when a scorer has none).
    """

    window: int
    tokens: "TokenTable"

    def __call__(self, feats: np.ndarray) -> FrameScores: ...
