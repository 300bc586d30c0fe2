"""Run aligners over a labelled corpus and score them side by side."""
from __future__ import annotations

import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AlignerSetup:
    """Builds the aligners in a worker (picklable: an executor's ``setup``, see :mod:`microalign.batch`).

    ``kinds``: ``student``, ``pocketsphinx``, ``uniform``; ``model``: the student's
    :class:`microalign.batch.model.ModelSetup`."""

    kinds: tuple[str, ...]
    model: object = None

    def names(self) -> list[str]:
        return [aligner_name(k, self.model) for k in self.kinds]

    def __call__(self) -> dict[str, Aligner]:
        out: dict[str, Aligner] = {}
        for k in self.kinds:
            if k == "student":
                out[aligner_name(k, self.model)] = student_aligner(self.model())
            elif k == "pocketsphinx":
                out[aligner_name(k)] = pocketsphinx_aligner()
            elif k == "uniform":
                out[aligner_name(k)] = uniform_aligner()
            else:
                raise ValueError(f"unknown aligner {k!r}; choose among student, pocketsphinx, uniform")
        return out


def aligner_name(kind: str, model=None) -> str:
    """The name an aligner kind gets in tables, CSVs and plots."""
    if kind == "student":
        return f"student ({getattr(model, 'backend', 'torch')})"
    return {"pocketsphinx": "pocketsphinx", "uniform": "uniform baseline"}.get(kind, kind)


class _Given:
    """A setup that hands over aligners built already (in-process runs only)."""

    def __init__(self, aligners: dict[str, Aligner]) -> None:
        self.aligners = aligners

    def __call__(self) -> dict[str, Aligner]:
        return self.aligners


def align_utterance(aligners: dict[str, Aligner], item: tuple[str, str, bytes | None, str]) -> dict[str, object]:
    """The per-utterance task: ``(id, audio path, audio bytes or None, transcript)`` -> aligner name ->
    word segments, or the error message (str) when it failed."""
    uid, path, content, text = item
    try:
        pcm = load_audio(path, quiet=True, content=content)
    except ValueError as e:
        return {name: str(e) for name in aligners}
    out: dict[str, object] = {}
    for name, fn in aligners.items():
        try:
            out[name] = list(fn(pcm, text))
        except ValueError as e:
            out[name] = " ".join(str(e).split())
    return out


@dataclass
class EvalRun:
    """Every aligner's words for every utterance, and what failed."""

    utterances: list[Utterance]
    names: list[str]
    hyps: dict[str, dict[str, list[Segment]]]            # aligner -> utterance id -> words
    failures: dict[str, dict[str, str]]                  # aligner -> utterance id -> error

    def scores(self) -> dict[str, tuple[Scores, list[UtteranceErrors]]]:
        refs = {u.id: u.words for u in self.utterances}
        return {name: score_utterances(refs, self.hyps[name]) for name in self.names}


def run_aligners(utterances: Sequence[Utterance], setup, executor=None, names: Sequence[str] | None = None,
                 progress: bool = True, ship_audio: bool = False) -> EvalRun:
    """Align every utterance with every aligner ``setup()`` builds, on ``executor`` (default: this
    process; see :mod:`microalign.batch.executor`). ``ship_audio``: send the audio bytes with each
    item (workers on other machines) instead of the path. Failures are printed and recorded."""
    from ..batch.executor import LocalExecutor

    executor = executor or LocalExecutor(1)
    utterances = list(utterances)
    if names is None:
        names = list(setup().keys()) if isinstance(setup, _Given) else list(setup.names())
    hyps: dict[str, dict[str, list[Segment]]] = {n: {} for n in names}
    failures: dict[str, dict[str, str]] = {n: {} for n in names}

    def items():
        for u in utterances:
            yield u.id, u.audio, (open(u.audio, "rb").read() if ship_audio else None), u.text

    for i, res in tqdm(executor.map(setup, align_utterance, items()), total=len(utterances), desc="eval",
                       unit="utt", disable=not progress):
        uid = utterances[i].id
        for name, r in res.items():
            if isinstance(r, str):
                failures[name][uid] = r
                print(f"warning: {name} failed on {uid}: {r}", file=sys.stderr)
            else:
                hyps[name][uid] = r
    return EvalRun(utterances, list(names), hyps, failures)


def evaluate(utterances: Sequence[Utterance], aligners: dict[str, Aligner], progress: bool = True
             ) -> dict[str, tuple[Scores, list[UtteranceErrors]]]:
    """Scores per aligner; an utterance an aligner fails on counts as all words unmatched (and is reported)."""
    return run_aligners(utterances, _Given(aligners), progress=progress).scores()
