"""Labelling a corpus with a teacher: utterances with transcripts in, a timed manifest out.

:func:`label_corpus` runs a :class:`~microalign.teachers.base.Teacher` over
utterances that have a transcript but no timings (in this process or in
worker processes), writes a manifest the training code reads as it goes,
lists failures beside it and returns a :class:`LabelReport`.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..corpus import Utterance, read_manifest, write_manifest
from .base import SAMPLE_RATE, Teacher, TeacherError

#: (path) -> 16 kHz mono int16 PCM
AudioLoader = Callable[[str], np.ndarray]
#: (transcript) -> normalised words
WordsFn = Callable[[str], list[str]]


def default_words(text: str) -> list[str]:
    """Normalised spoken words of a transcript (:func:`microalign.text.normalize`)."""
    from ..text import normalize

    return [w.text for w in normalize(text)]


def default_audio_loader(path: str) -> np.ndarray:
    """:func:`microalign.audio.load_audio` without the resampling notes."""
    from ..audio import load_audio

    return load_audio(path, quiet=True)


@dataclass
class LabelReport:
    """What :func:`label_corpus` did."""

    manifest: Path
    total: int = 0            #: utterances seen (including resumed ones)
    labelled: int = 0         #: written to the manifest (including resumed ones)
    resumed: int = 0          #: taken over from an existing manifest
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  #: (utterance id, reason)
    audio_seconds: float = 0.0  #: audio read in this run (labelled or failed in the teacher)
    elapsed_seconds: float = 0.0
    oov_words: dict[str, str] = field(default_factory=dict)  #: out-of-lexicon word -> pronunciation source
    oov_tokens: int = 0       #: occurrences of such words

    def summary(self) -> str:
        rtf = self.elapsed_seconds / self.audio_seconds if self.audio_seconds else float("nan")
        lines = [f"{self.manifest}: {self.labelled}/{self.total} utterances labelled"
                 f" ({self.resumed} resumed), {self.failed} failed;"
                 f" {self.audio_seconds / 3600:.2f} h of audio in {self.elapsed_seconds:.0f} s (RTF {rtf:.3f})"]
        if self.oov_words:
            by_src: dict[str, int] = {}
            for src in self.oov_words.values():
                by_src[src] = by_src.get(src, 0) + 1
            lines.append(f"  out-of-lexicon: {len(self.oov_words)} distinct words, {self.oov_tokens} occurrences;"
                         " pronunciations from " + ", ".join(f"{k}: {v}" for k, v in sorted(by_src.items())))
        for uid, why in self.failures[:10]:
            lines.append(f"  failed {uid}: {why}")
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more (see the .failures.tsv file)")
        return "\n".join(lines)


@dataclass
class _Outcome:
    utt: Utterance | None
    error: str
    seconds: float
    oov: dict[str, str]
    oov_tokens: int


def _label_one(u: Utterance, teacher: Teacher, audio_loader: AudioLoader, words_fn: WordsFn) -> _Outcome:
    try:
        words = words_fn(u.text)
    except ValueError as e:
        return _Outcome(None, f"transcript: {e}", 0.0, {}, 0)
    try:
        pcm = audio_loader(u.audio)
    except (OSError, ValueError) as e:
        return _Outcome(None, f"audio: {e}", 0.0, {}, 0)
    seconds = len(pcm) / SAMPLE_RATE
    try:
        res = teacher.align_detailed(pcm, words)
    except TeacherError as e:
        return _Outcome(None, str(e), seconds, {}, 0)
    lw = [w.lower() for w in words]
    n_oov = sum(1 for w in lw if w in res.oov)
    out = Utterance(id=u.id, audio=u.audio, text=u.text, words=res.words, phones=res.phones,
                    source=teacher.name, speaker=u.speaker)
    return _Outcome(out, "", seconds, res.oov, n_oov)


class _LabelSetup:
    """Per-worker state of a labelling job (an executor's ``setup``, :mod:`microalign.batch.executor`)."""

    def __init__(self, teacher: Teacher, audio_loader: AudioLoader, words_fn: WordsFn) -> None:
        self.args = (teacher, audio_loader, words_fn)

    def __call__(self):
        return self.args


def _label_task(state, u: Utterance) -> _Outcome:
    return _label_one(u, *state)


def label_corpus(utterances: Iterable[Utterance], teacher: Teacher, out_manifest: str | Path,
                 audio_loader: AudioLoader | None = None, *, words_fn: WordsFn | None = None,
                 workers: int = 0, resume: bool = False, progress: bool = True,
                 relative_to: Path | None = None, executor=None) -> LabelReport:
    """Label utterances (transcript only) with ``teacher`` and write a manifest.

    - ``utterances``: id, audio path and transcript (``text``); existing
      timings are ignored. The words aligned are ``words_fn(text)``
      (default: :func:`microalign.text.normalize`).
    - ``audio_loader``: path -> 16 kHz int16 PCM (default
      :func:`microalign.audio.load_audio`).
    - ``workers``: 0 or 1 labels in this process (the default); more starts
      that many worker processes, each with its own copy of the teacher
      (functions passed must then be picklable).
    - ``executor``: a :class:`microalign.batch.executor.Executor` to run on instead (Ray actors:
      each loads the audio from ``u.audio``, so the corpus must be at that path on every node).
    - ``resume``: keep the utterances already in ``out_manifest`` and label
      only the others (a run that was stopped can be continued).

    The manifest is written as labelling goes (utterances in input order),
    so an interrupted run leaves a valid partial manifest. Utterances that
    fail (bad transcript, unreadable audio, teacher error) are skipped,
    counted and listed in ``<manifest>.failures.tsv``. Returns a
    :class:`LabelReport`; its summary is printed to stderr.
    """
    out_manifest = Path(out_manifest)
    audio_loader = audio_loader or default_audio_loader
    words_fn = words_fn or default_words
    report = LabelReport(manifest=out_manifest)
    utterances = list(utterances)
    report.total = len(utterances)
    done: dict[str, Utterance] = {}
    if resume and out_manifest.is_file():
        done = {u.id: u for u in read_manifest(out_manifest)}
    todo = [u for u in utterances if u.id not in done]
    t0 = time.monotonic()

    from tqdm import tqdm

    bar = tqdm(total=len(utterances), initial=len(utterances) - len(todo), desc=f"label[{teacher.name}]",
               unit="utt", disable=not progress, dynamic_ncols=True)

    def outcomes() -> Iterator[_Outcome]:
        from ..batch.executor import LocalExecutor, ordered

        ex = executor or LocalExecutor(max(1, workers))
        yield from ordered(ex.map(_LabelSetup(teacher, audio_loader, words_fn), _label_task, todo))

    def stream() -> Iterator[Utterance]:
        it = outcomes()
        for u in utterances:
            if u.id in done:
                report.resumed += 1
                report.labelled += 1
                yield done[u.id]
                continue
            oc = next(it)
            report.audio_seconds += oc.seconds
            if oc.utt is None:
                report.failed += 1
                report.failures.append((u.id, oc.error))
            else:
                report.labelled += 1
                report.oov_tokens += oc.oov_tokens
                report.oov_words.update(oc.oov)
                yield oc.utt
            bar.update(1)
            bar.set_postfix(failed=report.failed, refresh=False)

    try:
        write_manifest(out_manifest, stream(), relative_to=relative_to)
    finally:
        bar.close()
        report.elapsed_seconds = time.monotonic() - t0
        fail_path = out_manifest.with_name(out_manifest.name + ".failures.tsv")
        if report.failures:
            with open(fail_path, "w", encoding="utf-8") as f:
                for uid, why in report.failures:
                    f.write(f"{uid}\t{why}\n")
        elif fail_path.exists():
            fail_path.unlink()
    if progress:
        print(report.summary(), file=sys.stderr)
    return report
