"""What every TTS engine of the synthetic corpus shares: the result, the error and the engine protocol.

The engines (:mod:`.espeak`, :mod:`.festival`, :mod:`.piper`) and the corpus
builder (:mod:`.synth`) import this module; none of them imports another, so
there is no import loop (the builder loads an engine by name, on demand).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..corpus import Segment


class SynthesisError(RuntimeError):
    """A TTS engine failed, or its timing events do not match the words asked for."""


@dataclass
class Spoken:
    """What an engine returns for one utterance."""

    audio: np.ndarray  # float32 in [-1, 1] or int16, at sample_rate
    sample_rate: int
    words: list[Segment]
    phones: list[Segment]
    speaker: str


@runtime_checkable
class TTSEngine(Protocol):
    """A TTS engine of :func:`microalign.data.synth.synthesize_engine`.

    ``speak`` says the normalised ``words`` with a voice drawn from ``rng``
    (held-out voices when ``test`` is true, for engines that have them) and
    returns the audio with one word segment per word, in order; it raises
    :class:`SynthesisError` when the engine fails or its timings do not match
    the words (the builder drops the utterance and tries another sentence).
    Engines with resources to free also have ``close()``.
    """

    name: str

    def speak(self, words: list[str], rng: random.Random, test: bool) -> Spoken: ...
