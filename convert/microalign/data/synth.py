"""Build a synthetic training corpus: TTS audio with exact word and phone times.

Layout written under ``out_dir`` (one folder per engine)::

    out_dir/espeak/wav/espeak-000000.wav     16 kHz mono int16
    out_dir/espeak/train.jsonl               manifest (microalign.corpus)
    out_dir/espeak/test.jsonl                held-out manifest
    out_dir/festival/...  out_dir/piper/...

Every utterance ``i`` of an engine is a pure function of ``(seed, engine,
i)``: its sentence, voice, rate, split *and its audio bytes* (each engine
starts every utterance from the same state: espeak-ng in a fresh fork of a
helper process, festival in a fresh process, Piper with its sampling noise
drawn from the utterance's own seed). So the work fans out over ``-j`` worker
processes or a Ray cluster (:mod:`microalign.batch.executor`, one engine per
worker) and gives the serial run's bytes. The driver writes every wav file
(atomically) and the manifests, rewritten every ``checkpoint_every``
utterances (atomically), so training can start on a partial corpus, and a run
that is stopped resumes where it left off (wav files listed in the manifests
are not made again).

Held-out split: for espeak-ng the test utterances use voice variants that
no training utterance uses (all accents), so the test set measures unseen
voices. Festival has 3 voices and Piper 1, so they are split by utterance
(different sentences, same voices).

An utterance whose engine timing does not match its words (a WORD event
count that differs, festival words that differ from ours) is dropped, counted
and replaced by the next attempt with a fresh sentence; the counts are
printed at the end and returned.
"""
from __future__ import annotations

import functools
import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import soundfile as sf
from tqdm import tqdm

from ..corpus import Segment, Utterance, read_manifest
from ..frontend import SAMPLE_RATE, float_to_pcm16
from ..text.normalize import TextError, normalize
from .sentences import SentenceGenerator
from .tts_base import Spoken, SynthesisError, TTSEngine

if TYPE_CHECKING:
    from ..batch.executor import Executor

__all__ = ["ENGINES", "EngineReport", "Spoken", "SynthesisError", "TTSEngine", "build_synthetic_corpus",
           "make_utterance", "synthesize_engine", "to_pcm16"]

ENGINES = ("espeak", "festival", "piper")


@dataclass
class EngineReport:
    """What one engine produced in a run (including utterances from an earlier, resumed run)."""

    engine: str
    train: int = 0
    test: int = 0
    seconds: float = 0.0
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0


def to_pcm16(audio: np.ndarray, sr: int, peak: float = 0.7) -> np.ndarray:
    """Mono audio at any rate -> 16 kHz int16, peak-normalised to ``peak`` of full scale."""
    x = np.asarray(audio)
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32)
    if sr != SAMPLE_RATE:
        import librosa

        x = librosa.resample(x, orig_sr=sr, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    m = float(np.max(np.abs(x))) if x.size else 0.0
    if m > 0:
        x = x * (peak / m)
    return float_to_pcm16(x)


def _write_atomic(path: Path, utterances: list[Utterance]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for u in utterances:
            d = u.to_json()
            d["audio"] = os.path.relpath(u.audio, path.parent)
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _load_existing(folder: Path) -> dict[str, tuple[Utterance, bool]]:
    done: dict[str, tuple[Utterance, bool]] = {}
    for split in ("train", "test"):
        p = folder / f"{split}.jsonl"
        if p.is_file():
            for u in read_manifest(p):
                if Path(u.audio).is_file():
                    done[u.id] = (u, split == "test")
    return done


def _make_engine(name: str, seed: int, test_fraction: float) -> TTSEngine:
    if name == "espeak":
        from .espeak import EspeakEngine

        return EspeakEngine(seed, test_fraction)
    if name == "festival":
        from .festival import FestivalEngine

        return FestivalEngine()
    if name == "piper":
        from .piper import PiperEngine

        return PiperEngine()
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")


@dataclass(frozen=True)
class EngineSetup:
    """Builds an engine in a worker (picklable: an executor's ``setup``)."""

    engine: str
    seed: int
    test_fraction: float
    factory: Callable | None = None      # (name, seed, test_fraction) -> TTSEngine; default: the real engines

    def __call__(self) -> TTSEngine:
        return (self.factory or _make_engine)(self.engine, self.seed, self.test_fraction)


@dataclass
class MadeUtterance:
    """What a worker returns for one utterance (the driver writes the wav and the manifest line)."""

    index: int
    text: str
    test: bool
    pcm: np.ndarray                     # 16 kHz int16
    words: list[Segment]
    phones: list[Segment]
    speaker: str
    dropped: dict[str, int]             # attempts dropped before this one, by reason


@functools.lru_cache(maxsize=1)
def _generator() -> SentenceGenerator:
    """One sentence generator per process (building its word tables takes ~10 ms); its whole
    state is the RNG that :meth:`~.sentences.SentenceGenerator.reseed` replaces."""
    return SentenceGenerator(0)


def make_utterance(eng: TTSEngine, engine: str, seed: int, test_fraction: float, i: int) -> MadeUtterance:
    """Utterance ``i`` of ``engine``: a pure function of ``(seed, engine, i)`` (and the engine's version).

    Up to 20 attempts, each with a fresh sentence and voice; SynthesisError when all fail."""
    is_test = random.Random(f"{seed}:{engine}:{i}:split").random() < test_fraction
    gen = _generator()          # reseeded below for every attempt: nothing carries over
    dropped: dict[str, int] = {}
    reason = ""
    for attempt in range(20):
        rng = random.Random(f"{seed}:{engine}:{i}:{attempt}")
        gen.reseed(f"{seed}:{engine}:{i}:{attempt}:text")
        text = gen.sentence()
        try:
            words = [w.text for w in normalize(text)]
            spoken = eng.speak(words, rng, is_test)
        except (SynthesisError, TextError) as e:
            reason = "word mismatch" if "do not match" in str(e) else f"{type(e).__name__}: {str(e)[:60]}"
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        break
    else:
        raise SynthesisError(f"{engine}: 20 attempts in a row failed for utterance {i}; last: {reason}")
    pcm = to_pcm16(spoken.audio, spoken.sample_rate)
    dur = len(pcm) / SAMPLE_RATE
    words_seg = [Segment(w.label, min(w.start, dur), min(w.end, dur)) for w in spoken.words]
    phones_seg = [Segment(p.label, min(p.start, dur), min(p.end, dur)) for p in spoken.phones]
    return MadeUtterance(i, text, is_test, pcm, words_seg, phones_seg, spoken.speaker, dropped)


@dataclass(frozen=True)
class _SynthTask:
    """The executor's task: utterance ``i`` with the worker's engine (picklable)."""

    engine: str
    seed: int
    test_fraction: float

    def __call__(self, eng: TTSEngine, i: int) -> MadeUtterance:
        return make_utterance(eng, self.engine, self.seed, self.test_fraction, i)


def _write_wav_atomic(path: Path, pcm: np.ndarray) -> None:
    """The wav under a temporary name, then renamed: an interrupted run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        sf.write(str(tmp), pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def synthesize_engine(out_dir: str | Path, engine: str, n: int, seed: int = 0, test_fraction: float = 0.05,
                      checkpoint_every: int = 500, progress: bool = True,
                      engine_factory: Callable | None = None, executor: "Executor | None" = None) -> EngineReport:
    """Make ``n`` utterances with one engine into ``out_dir/<engine>/`` (resuming what is there).

    ``executor``: where the utterances are made (default: this process; see
    :func:`microalign.batch.executor.make_executor`); the files are the same bytes whatever it
    is. ``engine_factory(name, seed, test_fraction)`` replaces the real engines (it must be
    picklable for worker processes). Returns an :class:`EngineReport` with counts, hours and
    dropped utterances by reason.
    """
    from ..batch.executor import LocalExecutor

    if n < 0:
        raise ValueError(f"number of utterances must be >= 0, got {n}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    if engine_factory is None and engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    folder = Path(out_dir) / engine
    report = EngineReport(engine)
    if n == 0:
        return report
    (folder / "wav").mkdir(parents=True, exist_ok=True)
    done = _load_existing(folder)
    train: list[Utterance] = []
    test: list[Utterance] = []
    todo: list[int] = []
    for i in range(n):
        uid = f"{engine}-{i:06d}"
        if uid in done:
            u, is_test = done[uid]
            (test if is_test else train).append(u)
        else:
            todo.append(i)

    def checkpoint() -> None:
        _write_atomic(folder / "train.jsonl", sorted(train, key=lambda u: u.id))
        _write_atomic(folder / "test.jsonl", sorted(test, key=lambda u: u.id))

    executor = executor or LocalExecutor(1)
    since = 0
    bar = tqdm(total=n, initial=n - len(todo), desc=f"synth {engine}", unit="utt", disable=not progress,
               dynamic_ncols=True)
    try:
        results = executor.map(EngineSetup(engine, seed, test_fraction, engine_factory),
                               _SynthTask(engine, seed, test_fraction), todo) if todo else ()
        for _, m in results:
            uid = f"{engine}-{m.index:06d}"
            wav = folder / "wav" / f"{uid}.wav"
            _write_wav_atomic(wav, m.pcm)
            u = Utterance(uid, str(wav), m.text, m.words, m.phones, source=engine, speaker=m.speaker)
            (test if m.test else train).append(u)
            for k, v in m.dropped.items():
                report.dropped[k] = report.dropped.get(k, 0) + v
            bar.update(1)
            since += 1
            if since >= checkpoint_every:
                checkpoint()
                since = 0
    finally:
        bar.close()
        checkpoint()           # also when stopped: what was made is kept for the resume
    report.train, report.test = len(train), len(test)
    report.seconds = sum(sf.info(u.audio).duration for u in train + test)
    if report.dropped and progress:
        print(f"{engine}: dropped {sum(report.dropped.values())} utterances: "
              + ", ".join(f"{k} ({v})" for k, v in sorted(report.dropped.items())), file=sys.stderr)
    return report


def build_synthetic_corpus(out_dir: str | Path, n_espeak: int = 7200, n_festival: int = 1800, n_piper: int = 820,
                           seed: int = 0, test_fraction: float = 0.05, checkpoint_every: int = 500,
                           progress: bool = True, executor: "Executor | None" = None) -> list[EngineReport]:
    """Synthesise the training corpus with espeak-ng, festival and Piper into ``out_dir``.

    ``n_*`` are utterance counts; an engine with 0 is skipped. The defaults
    give about 8 h of espeak-ng (4.1 s an utterance), 2 h of festival (4.0 s)
    and 0.7 h of Piper (3.1 s); on one core espeak-ng takes about a minute,
    festival about 15 minutes and Piper about 6. Writes
    ``out_dir/<engine>/{train,test}.jsonl`` and the wav files, resumes an
    interrupted run, and returns one :class:`EngineReport` per engine run. ``executor``: worker
    processes or a Ray cluster (:func:`microalign.batch.executor.make_executor`); the output
    is the same bytes as a serial run's.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for engine, n in (("espeak", n_espeak), ("festival", n_festival), ("piper", n_piper)):
        if n:
            r = synthesize_engine(out_dir, engine, n, seed, test_fraction, checkpoint_every, progress,
                                  executor=executor)
            reports.append(r)
            if progress:
                print(f"{engine}: {r.train} train + {r.test} test utterances, {r.hours:.2f} h "
                      f"in {out_dir / engine}", file=sys.stderr)
    return reports
