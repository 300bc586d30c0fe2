"""The teacher interface: what every distillation teacher implements, and the checks they share.

A *teacher* is a stronger (bigger, slower) forced aligner whose word timings
the student learns from: distillation. Every teacher takes 16 kHz mono int16
PCM and the utterance's normalised words (:func:`microalign.text.normalize`)
and returns one :class:`~microalign.corpus.Segment` per word, in order, in
seconds from the start of the audio. A teacher that cannot align an
utterance raises :class:`TeacherError` (a ``ValueError``, so callers that
already catch bad input catch it too).

Running a teacher over a corpus is :mod:`microalign.teachers.labelling`
(:func:`~microalign.teachers.labelling.label_corpus`).
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..corpus import Segment

SAMPLE_RATE = 16000


class TeacherError(ValueError):
    """A teacher could not align an utterance (the message says why)."""


@dataclass
class TeacherAlignment:
    """What a teacher found for one utterance.

    ``words`` has one segment per input word, in order. ``phones`` may be
    empty (teachers that do not give phones). ``oov`` maps each word that was
    not in the teacher's own lexicon to where its pronunciation came from
    (for teachers that use one).
    """

    words: list[Segment]
    phones: list[Segment] = field(default_factory=list)
    oov: dict[str, str] = field(default_factory=dict)


class Teacher(abc.ABC):
    """A forced aligner used to label training data.

    Subclasses implement :meth:`align_detailed` (or only :meth:`align`). A
    teacher instance is not thread-safe; for parallel labelling
    :func:`~microalign.teachers.labelling.label_corpus` gives every worker process its own copy, so a
    teacher must be picklable before it has loaded its model (load lazily).
    """

    #: short identifier written as the manifest's ``source``
    name: str = "teacher"

    def align(self, pcm_int16_16k: np.ndarray, words: Sequence[str]) -> list[Segment]:
        """Word segments (seconds), one per word of ``words``, in order.

        Raises :class:`TeacherError` when the utterance cannot be aligned.
        """
        return self.align_detailed(pcm_int16_16k, words).words

    def align_detailed(self, pcm_int16_16k: np.ndarray, words: Sequence[str]) -> TeacherAlignment:
        """Words, and phones where the teacher gives them. Defaults to :meth:`align` without phones."""
        if type(self).align is Teacher.align:
            raise NotImplementedError(f"{type(self).__name__} must implement align() or align_detailed()")
        return TeacherAlignment(self.align(pcm_int16_16k, words))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


# ----------------------------------------------------------------------------- checks shared by teachers


def check_input(pcm: np.ndarray, words: Sequence[str]) -> list[str]:
    """Validate a teacher's input; returns the words as a list of ``str``.

    Raises :class:`TeacherError` for audio that is not 1-D int16 or is empty,
    and for an empty word list or an empty/whitespace-containing word.
    """
    if not isinstance(pcm, np.ndarray) or pcm.ndim != 1 or pcm.dtype != np.int16:
        desc = f"{pcm.dtype} array of shape {pcm.shape}" if isinstance(pcm, np.ndarray) else type(pcm).__name__
        raise TeacherError(f"audio must be a 1-D int16 array at 16 kHz, got {desc}")
    if pcm.size == 0:
        raise TeacherError("audio is empty")
    words = [str(w) for w in words]
    if not words:
        raise TeacherError("no words to align")
    for i, w in enumerate(words):
        if not w or any(c.isspace() for c in w):
            raise TeacherError(f"word {i} ({w!r}) is empty or contains whitespace; pass normalised words")
    return words


def finish_segments(words: Sequence[str], spans: Sequence[tuple[float, float]], duration: float) -> list[Segment]:
    """Word segments from raw (start, end) spans: clipped to [0, duration], made ordered and non-negative.

    Raises :class:`TeacherError` when the counts differ or a time is not finite.
    """
    if len(spans) != len(words):
        raise TeacherError(f"teacher returned {len(spans)} word spans for {len(words)} words")
    out: list[Segment] = []
    prev_start = 0.0
    for w, (s, e) in zip(words, spans):
        if not (math.isfinite(s) and math.isfinite(e)):
            raise TeacherError(f"teacher returned a non-finite time for {w!r}: {s}, {e}")
        s = min(max(float(s), prev_start, 0.0), duration)
        e = min(max(float(e), s), duration)
        out.append(Segment(w, round(s, 5), round(e, 5)))
        prev_start = s
    return out
