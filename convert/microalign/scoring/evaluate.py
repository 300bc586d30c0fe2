"""Run aligners over a labelled corpus and score them side by side."""
from __future__ import annotations

import sys
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from ..audio import load_audio
from ..corpus import Segment, Utterance
from .metrics import Scores, UtteranceErrors, score_utterances

#: an aligner for scoring: (pcm int16 16 kHz, transcript) -> word segments (normalised words)
Aligner = Callable[[np.ndarray, str], Sequence[Segment]]


def student_aligner(scorer) -> Aligner:
    from ..align import align_pcm

    def run(pcm: np.ndarray, text: str) -> list[Segment]:
        return [Segment(w.word, w.start, w.end) for w in align_pcm(pcm, text, scorer).words]

    return run


def uniform_aligner() -> Aligner:
    from ..text import normalize
    from .baselines import uniform_alignment

    return lambda pcm, text: uniform_alignment(pcm, [w.text for w in normalize(text)])


def pocketsphinx_aligner() -> Aligner:
    from ..teachers.pocketsphinx_teacher import PocketsphinxTeacher
    from ..text import normalize

    teacher = PocketsphinxTeacher()
    return lambda pcm, text: teacher.align(pcm, [w.text for w in normalize(text)])


def evaluate(utterances: Sequence[Utterance], aligners: dict[str, Aligner], progress: bool = True
             ) -> dict[str, tuple[Scores, list[UtteranceErrors]]]:
    """Scores per aligner; an utterance an aligner fails on counts as all words unmatched (and is reported)."""
    refs = {u.id: u.words for u in utterances}
    hyps: dict[str, dict[str, list[Segment]]] = {name: {} for name in aligners}
    for u in tqdm(utterances, desc="eval", unit="utt", disable=not progress):
        pcm = load_audio(u.audio, quiet=True)
        for name, fn in aligners.items():
            try:
                hyps[name][u.id] = list(fn(pcm, u.text))
            except ValueError as e:
                print(f"warning: {name} failed on {u.id}: {e}", file=sys.stderr)
    return {name: score_utterances(refs, h) for name, h in hyps.items()}
