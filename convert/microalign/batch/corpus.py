"""Corpus mode: align every recording of an MFA-style corpus folder, in parallel, resumably.

A corpus is a folder (speaker subfolders allowed, any depth) of audio files, each beside a
transcript of the same stem: ``<stem>.lab`` (preferred, as MFA) or ``<stem>.txt``, UTF-8::

    corpus/spk1/a.wav  corpus/spk1/a.lab  corpus/spk2/b.flac  corpus/spk2/b.txt ...

Each recording's output (TextGrid by default, or any single-file format) goes to the same
relative place under the output folder: ``out/spk1/a.TextGrid``. The run

- loads the model once per worker (:mod:`microalign.batch.executor`: ``-j`` local processes
  or Ray actors) and ships each worker the audio *bytes* and transcript, so workers read
  nothing from disk and the same job runs on a cluster without a shared file system;
- skips recordings whose output exists and is newer than the audio and the transcript
  (resume; ``overwrite=True`` redoes them); outputs are written atomically, so an
  interrupted run never leaves a half-written file that a resume would keep;
- never stops on a bad file: a missing transcript, unreadable audio, a transcript that does
  not normalise, audio too short for its text, ... are counted and reported;
- writes ``alignment_report.csv`` (:data:`REPORT_COLUMNS`, one row per recording, sorted by
  path) and returns a :class:`CorpusSummary`.

Outputs depend only on their own inputs (the torch backend runs one thread per worker in
corpus mode, whatever ``-j``), so they are byte-identical whatever the number of workers
and whether they ran locally or on Ray.
"""
from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .executor import Executor, LocalExecutor
from .model import ModelSetup, check_model, model_setup

#: transcript suffixes, in order of preference (MFA reads .lab first)
TRANSCRIPT_SUFFIXES = (".lab", ".txt")

#: what a corpus can hold: every container libsndfile reads (microalign.audio), by file suffix
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc",
                            ".au", ".snd", ".caf", ".w64", ".rf64", ".nist", ".sph", ".voc", ".htk", ".sd2",
                            ".paf", ".ircam", ".sf", ".mat", ".pvf", ".xi", ".avr", ".wve", ".svx", ".mpc"})

#: output file suffix of each format (the single-file mode's ``--format`` choices)
OUTPUT_SUFFIXES = {"textgrid": ".TextGrid", "json": ".json", "jsonl": ".jsonl", "srt": ".srt", "vtt": ".vtt",
                   "csv": ".csv"}

REPORT_NAME = "alignment_report.csv"

#: ``alignment_report.csv`` columns
REPORT_COLUMNS = {
    "path": "the audio file, relative to the corpus folder (POSIX separators)",
    "status": "aligned | skipped (output already up to date) | failed",
    "duration": "seconds of audio (blank when it could not be read)",
    "words": "words aligned (the normalised, spoken words)",
    "mean_confidence": "mean calibrated word confidence, the recording's score (microalign.quality)",
    "warnings": "mismatch-warning codes, ';'-separated (see `microalign align --help`)",
    "error": "why the recording failed",
}


class CorpusError(ValueError):
    """A corpus job that cannot start (no such folder, no audio in it, bad output folder)."""


@dataclass(frozen=True)
class CorpusFile:
    rel: str                   # audio path relative to the corpus root, POSIX
    audio: Path
    transcript: Path | None    # None: no .lab/.txt beside the audio
    output: Path


@dataclass
class FileResult:
    """What a worker returns for one recording (and what the report records)."""

    path: str
    status: str                          # "aligned" | "skipped" | "failed"
    duration: float | None = None
    words: int | None = None
    mean_confidence: float | None = None
    warnings: tuple[str, ...] = ()
    error: str = ""
    output: str | None = field(default=None, repr=False)   # the rendered output (aligned only)

    def row(self) -> dict[str, str]:
        return {"path": self.path, "status": self.status,
                "duration": "" if self.duration is None else f"{self.duration:.3f}",
                "words": "" if self.words is None else str(self.words),
                "mean_confidence": "" if self.mean_confidence is None else f"{self.mean_confidence:.4f}",
                "warnings": ";".join(self.warnings), "error": self.error}


@dataclass
class CorpusSummary:
    files: int = 0
    aligned: int = 0
    skipped: int = 0
    failed: int = 0
    audio_seconds: float = 0.0          # of the recordings aligned in this run
    warnings: int = 0                   # warnings drawn by the recordings aligned in this run
    files_with_warnings: int = 0
    wall_seconds: float = 0.0
    workers: str = ""
    report: Path | None = None
    results: list[FileResult] = field(default_factory=list, repr=False)

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio aligned per second of wall time (× real time)."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def text(self) -> str:
        return (f"{self.files} files: {self.aligned} aligned, {self.skipped} skipped (up to date), "
                f"{self.failed} failed; {self.audio_seconds / 3600:.3f} h of audio in {self.wall_seconds:.1f} s "
                f"on {self.workers}: {self.realtime_factor:.1f} × real time; "
                f"{self.warnings} warnings in {self.files_with_warnings} files")


# ------------------------------------------------------------------ discovery
def find_corpus(root: str | Path, out_dir: str | Path, fmt: str = "textgrid") -> list[CorpusFile]:
    """Audio files under ``root`` (sorted by relative path) with their transcripts and output paths.

    Skips hidden files and folders and anything under ``out_dir`` when it lies inside ``root``.
    """
    root, out_dir = Path(root), Path(out_dir)
    if fmt not in OUTPUT_SUFFIXES:
        raise CorpusError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_SUFFIXES)}")
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    if out_dir.exists() and not out_dir.is_dir():
        raise CorpusError(f"output folder is a file: {out_dir}")
    out_res = out_dir.resolve()
    found: list[CorpusFile] = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith(".") and (d / n).resolve() != out_res)
        names = set(filenames)
        for name in sorted(filenames):
            p = d / name
            if name.startswith(".") or p.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            transcript = next((d / (p.stem + s) for s in TRANSCRIPT_SUFFIXES if p.stem + s in names), None)
            rel = p.relative_to(root)
            found.append(CorpusFile(rel.as_posix(), p, transcript, out_dir / rel.with_suffix(OUTPUT_SUFFIXES[fmt])))
    found.sort(key=lambda f: f.rel)
    if not found:
        raise CorpusError(f"no audio files in {root} (looked for {', '.join(sorted(AUDIO_SUFFIXES)[:6])}, ...)")
    return found


def _clashes(files: list[CorpusFile]) -> dict[str, str]:
    """rel -> error for recordings whose outputs would collide (a.wav and a.flac in one folder)."""
    by_out: dict[Path, list[str]] = {}
    for f in files:
        by_out.setdefault(f.output, []).append(f.rel)
    out: dict[str, str] = {}
    for path, rels in by_out.items():
        if len(rels) > 1:
            for r in rels:
                out[r] = f"{len(rels)} audio files would write the same output {path.name} ({', '.join(rels)}): rename one"
    return out


def up_to_date(f: CorpusFile) -> bool:
    """The output exists and is at least as new as the audio and the transcript."""
    try:
        t_out = f.output.stat().st_mtime_ns
        return t_out >= f.audio.stat().st_mtime_ns and (f.transcript is None or t_out >= f.transcript.stat().st_mtime_ns)
    except OSError:
        return False


# ------------------------------------------------------------------ the worker side
@dataclass(frozen=True)
class CorpusSetup:
    """Per-worker state of a corpus job: the scorer (loaded once) and the output format."""

    model: ModelSetup
    fmt: str = "textgrid"
    meta: dict | None = None      # what the JSON output records (version, backend, model), as in single-file mode

    def __call__(self):
        return self.model(), self.fmt, self.meta


def align_item(state, item: tuple[str, bytes, str]) -> FileResult:
    """The task: align one recording (``(rel, audio bytes, transcript)``) and render its output.

    Any error becomes a ``failed`` result naming it: one bad file never stops the run."""
    from ..align import align_pcm
    from ..audio import load_audio
    from ..formats import render

    scorer, fmt, meta = state
    rel, audio, text = item
    duration = None
    try:
        pcm = load_audio(rel, quiet=True, content=audio)
        duration = len(pcm) / 16000.0
        al = align_pcm(pcm, text, scorer, audio_name=rel)
        return FileResult(rel, "aligned", duration, len(al.words), al.score,
                          tuple(w.code for w in al.warnings), "", render(al, fmt, meta))
    except ValueError as e:            # AudioError, AlignmentError, text errors: the message names the problem
        return FileResult(rel, "failed", duration, error=_one_line(str(e)))
    except Exception as e:             # an unexpected failure of one file is still only that file's
        return FileResult(rel, "failed", duration, error=_one_line(f"{type(e).__name__}: {e}"))


def _one_line(s: str) -> str:
    return " ".join(s.split())


# ------------------------------------------------------------------ the driver
def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_report(path: Path) -> dict[str, dict[str, str]]:
    """Rows of an earlier ``alignment_report.csv`` by path (empty if absent or unreadable)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return {r["path"]: r for r in csv.DictReader(f) if "path" in r}
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}


def write_report(path: Path, results: Iterable[FileResult]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(REPORT_COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in sorted(results, key=lambda r: r.path):
        w.writerow(r.row())
    _write_atomic(path, buf.getvalue())


def _skipped(f: CorpusFile, old: dict[str, str] | None) -> FileResult:
    """A recording whose output is up to date: its figures from the previous report when it has them."""
    def num(key, kind):
        try:
            return kind(old[key]) if old and old.get(key) else None
        except ValueError:
            return None

    if old and old.get("status") in ("aligned", "skipped"):
        return FileResult(f.rel, "skipped", num("duration", float), num("words", int), num("mean_confidence", float),
                          tuple(c for c in old.get("warnings", "").split(";") if c))
    return FileResult(f.rel, "skipped")


def align_corpus(corpus: str | Path, out_dir: str | Path, *, backend: str, model: str | Path | None = None,
                 fmt: str = "textgrid", executor: Executor | None = None, overwrite: bool = False,
                 progress: bool | None = None, log=None, meta: dict | None = None) -> CorpusSummary:
    """Align every recording of ``corpus`` into ``out_dir`` (see the module docstring).

    ``executor``: where the work runs (default: this process). ``progress``: a tqdm bar on
    stderr (None: only when stderr is a terminal). ``log(line)``: where per-file errors go as
    they happen (default: above the progress bar on stderr). ``meta``: what JSON outputs record
    about the run (``version``, ``backend``, ``model``: the single-file mode's ``run_metadata``).
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    corpus, out_dir = Path(corpus), Path(out_dir)
    files = find_corpus(corpus, out_dir, fmt)
    check_model(backend, model)                # before any folder is made or any worker started
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CorpusError(f"cannot create the output folder {out_dir}: {e.strerror}") from None
    executor = executor or LocalExecutor(1)
    report = out_dir / REPORT_NAME
    old = read_report(report)
    summary = CorpusSummary(files=len(files), workers=executor.label, report=report)
    results: dict[str, FileResult] = {}
    clashes = _clashes(files)
    todo: list[CorpusFile] = []
    for f in files:
        if f.rel in clashes:
            results[f.rel] = FileResult(f.rel, "failed", error=clashes[f.rel])
        elif f.transcript is None:
            results[f.rel] = FileResult(f.rel, "failed", error=f"no transcript: neither {Path(f.rel).stem}.lab "
                                                                  f"nor {Path(f.rel).stem}.txt beside it")
        elif not overwrite and up_to_date(f):
            results[f.rel] = _skipped(f, old.get(f.rel))
        else:
            todo.append(f)
    bar = tqdm(total=len(todo), desc="align", unit="file", disable=(not sys.stderr.isatty()) if progress is None
               else not progress, dynamic_ncols=True)
    log = log or (lambda line: tqdm.write(line, file=sys.stderr))
    for r in results.values():
        if r.status == "failed":
            log(f"error: {r.path}: {r.error}")

    prepared: dict[int, FileResult] = {}   # files the driver itself could not read

    def items() -> Iterator[tuple[str, bytes, str]]:
        for i, f in enumerate(todo):
            try:
                text = f.transcript.read_text(encoding="utf-8-sig")     # a BOM is not part of the text
                audio = f.audio.read_bytes()
            except UnicodeDecodeError:
                prepared[i] = FileResult(f.rel, "failed", error=f"transcript is not UTF-8 text: {f.transcript.name}")
                text, audio = "", b""
            except OSError as e:
                prepared[i] = FileResult(f.rel, "failed", error=f"cannot read {e.filename}: {e.strerror}")
                text, audio = "", b""
            yield f.rel, audio, text

    setup = CorpusSetup(model_setup(backend, model, executor), fmt, meta)
    try:
        for i, r in executor.map(setup, align_item, items()) if todo else ():   # nothing to do: no workers
            r = prepared.pop(i, r)
            if r.status == "aligned":
                try:
                    _write_atomic(todo[i].output, r.output)
                except OSError as e:
                    r = FileResult(r.path, "failed", r.duration, error=f"cannot write {todo[i].output}: {e.strerror}")
            r.output = None
            results[r.path] = r
            if r.status == "failed":
                log(f"error: {r.path}: {r.error}")
            bar.update(1)
    finally:
        bar.close()
        write_report(report, results.values())
        for r in results.values():
            if r.status == "aligned":
                summary.aligned += 1
                summary.audio_seconds += r.duration or 0.0
                summary.warnings += len(r.warnings)
                summary.files_with_warnings += bool(r.warnings)
            elif r.status == "skipped":
                summary.skipped += 1
            else:
                summary.failed += 1
        summary.results = sorted(results.values(), key=lambda r: r.path)
        summary.wall_seconds = time.perf_counter() - t0
    return summary
