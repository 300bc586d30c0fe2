"""Click glue shared by the commands that fan work out: ``-j/--jobs``, ``--ray`` and corpus mode of ``align``."""
from __future__ import annotations

from pathlib import Path

import click

JOBS_HELP = "Worker processes, each loading the model once (default 1; with --ray: one per cluster CPU)."
RAY_HELP = ("Run the workers as Ray actors on a cluster: 'auto' (the running cluster: `ray start --head`, "
            "RAY_ADDRESS), 'local' (a private one-machine cluster of -j CPUs) or an address "
            "(ray://HEAD:10001). Needs the 'ray' extra.")

CORPUS_HELP = """
\b
Corpus mode (like MFA): microalign align CORPUS_DIR OUT_DIR [-j N | --ray ADDRESS]
aligns every audio file under CORPUS_DIR that has a transcript of the same
stem beside it (.lab or .txt), speaker subfolders kept, into the same
relative path under OUT_DIR (TextGrid unless --format says otherwise).
Outputs that exist and are newer than their audio and transcript are
skipped (--overwrite redoes them). A bad file is logged and counted, never
stops the run. OUT_DIR/alignment_report.csv has one row per file: path,
status (aligned/skipped/failed), duration (s), words, mean_confidence,
warnings (codes), error. The summary (files, hours, failures, warnings,
x real time) goes to stderr; exit status 1 if any file failed, 3 with
--strict if any drew warnings. Outputs are identical whatever -j or --ray.
"""


def jobs_option(f):
    return click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=JOBS_HELP)(f)


def ray_option(f):
    return click.option("--ray", "ray_address", metavar="ADDRESS", default=None, help=RAY_HELP)(f)


def corpus_options(f):
    """``OUT_DIR`` (second argument), ``-j``, ``--ray``, ``--overwrite`` for ``align``; the corpus
    mode's paragraph appended to its help."""
    import inspect

    f.__doc__ = inspect.cleandoc(f.__doc__ or "") + "\n\n" + inspect.cleandoc(CORPUS_HELP)
    f = click.option("--overwrite", is_flag=True, help="Corpus mode: redo outputs that are already up to date.")(f)
    f = ray_option(f)
    f = jobs_option(f)
    return click.argument("out_dir", required=False, type=click.Path(path_type=Path))(f)


def executor_from_options(jobs: int | None, ray_address: str | None):
    """The executor for ``-j``/``--ray``; a missing Ray is a one-line error naming the extra."""
    from .executor import RayUnavailableError, make_executor

    try:
        return make_executor(jobs, ray_address)
    except RayUnavailableError as e:
        raise click.ClickException(str(e)) from None
    except ConnectionError as e:
        raise click.ClickException(f"cannot reach the Ray cluster at {ray_address!r}: {e}") from None


def check_single_file_mode(out_dir, jobs, ray_address, overwrite) -> None:
    """Corpus-only options given for one file: a usage error naming them."""
    bad = [name for name, v in (("OUT_DIR", out_dir), ("-j", jobs), ("--ray", ray_address),
                                ("--overwrite", overwrite)) if v]
    if bad:
        raise click.UsageError(f"{', '.join(bad)} only apply to corpus mode (AUDIO a folder); "
                               "for one file use -o")


def run_corpus_mode(corpus: Path, out_dir: Path | None, *, fmt: str | None, backend: str, model: Path | None,
                    jobs: int | None, ray_address: str | None, overwrite: bool, strict: bool,
                    single_file_options: dict) -> None:
    """``microalign align CORPUS_DIR OUT_DIR``; ``fmt=None``: TextGrid (the corpus default)."""
    from .corpus import align_corpus

    if out_dir is None:
        raise click.UsageError(f"{corpus} is a folder: corpus mode needs an output folder "
                               "(microalign align CORPUS_DIR OUT_DIR)")
    bad = [k for k, v in single_file_options.items() if v]
    if bad:
        raise click.UsageError(f"{', '.join(bad)} only apply to one file; in corpus mode transcripts are the "
                               ".lab/.txt files beside the audio and outputs go to OUT_DIR")
    from ..batch.model import check_model
    from ..runtime import backend_spec

    check_model(backend, model)
    meta = None
    fmt = (fmt or "textgrid").lower()
    if fmt == "json":                  # the JSON records version, backend and model, as for one file
        from ..cli._common import run_metadata

        meta = run_metadata(backend, model if model is not None else backend_spec(backend).default_model())
    with executor_from_options(jobs, ray_address) as ex:
        summary = align_corpus(corpus, out_dir, backend=backend, model=model, fmt=fmt, executor=ex,
                               overwrite=overwrite, meta=meta)
    click.echo(summary.text(), err=True)
    click.echo(f"report: {summary.report}", err=True)
    if summary.failed:
        raise click.exceptions.Exit(1)
    if strict and summary.warnings:
        raise click.exceptions.Exit(3)
