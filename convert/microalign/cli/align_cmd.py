"""``microalign align``: timestamps for one recording."""
from __future__ import annotations

from pathlib import Path

import click

from ..formats.names import FORMATS
from ._common import (BACKEND_HELP, DEFAULT_BACKEND_HELP, BackendChoice, check_output_path, default_backend,
                      read_transcript, run_metadata, write_output)
from ..batch.cli import check_single_file_mode, corpus_options, run_corpus_mode  # corpus mode (H7)

STRICT_EXIT_STATUS = 3   # --strict and warnings (click uses 2 for usage errors, the CLI 1 for bad input)


@click.command("align")
@click.argument("audio", type=click.Path(path_type=Path))
@click.option("--text", "text", help="The transcript.")
@click.option("--text-file", type=click.Path(path_type=Path),
              help="File holding the transcript (UTF-8; '-' reads standard input).")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format, any case (jsonl: one line per word, what the firmware prints). Default: the "
                   "one the -o file's extension names (.json .jsonl .TextGrid .csv .srt .vtt), else json; a "
                   "--format that contradicts the extension is an error.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write here instead of standard output (checked before the work starts).")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="Model file: a student checkpoint (.pt) for torch, a .tflite for the others. Default: the shipped model.")
@click.option("--backend", type=BackendChoice(), default=None, help=f"{BACKEND_HELP} {DEFAULT_BACKEND_HELP}")
@click.option("--strict", is_flag=True,
              help="Exit with status 3 when the alignment draws warnings (transcript and audio seem not to match).")
@corpus_options
def align_command(audio: Path, text: str | None, text_file: Path | None, fmt: str, output: Path | None,
                  model: Path | None, backend: str, strict: bool = False, out_dir: Path | None = None,
                  jobs: int | None = None, ray_address: str | None = None, overwrite: bool = False) -> None:
    """Print word and character timestamps for AUDIO and its transcript.

    AUDIO is any file libsndfile reads (WAV, FLAC, OGG, ...); other sample
    rates and channel counts are converted to 16 kHz mono, with a note.
    """
    backend = backend or default_backend()
    # ---- corpus mode: AUDIO is a folder (microalign.batch) ----
    if audio.is_dir():
        fmt_given = click.get_current_context().get_parameter_source("fmt") != click.core.ParameterSource.DEFAULT
        return run_corpus_mode(audio, out_dir, fmt=fmt if fmt_given else None, backend=backend, model=model,
                               jobs=jobs, ray_address=ray_address, overwrite=overwrite, strict=strict,
                               single_file_options={"--text": text, "--text-file": text_file, "-o": output})
    check_single_file_mode(out_dir, jobs, ray_address, overwrite)
    # ---- one file ----
    from ..formats import format_for

    fmt = format_for(fmt, output)           # before any work: a bad format or output path fails at once
    check_output_path(output)
    if not audio.exists():
        raise click.ClickException(f"audio file not found: {audio}")
    text = read_transcript(text, text_file)

    from ..align import align_file
    from ..formats import render
    from ..runtime import backend_spec, load_backend

    scorer = load_backend(backend, model)
    alignment = align_file(audio, text, scorer)
    meta = run_metadata(backend, model if model is not None else backend_spec(backend).default_model())
    write_output(render(alignment, fmt, meta), output)
    for w in alignment.warnings:   # one line each; also in the JSON output's "warnings"
        click.echo(w.line(), err=True)
    if strict and alignment.warnings:
        raise click.exceptions.Exit(STRICT_EXIT_STATUS)
