"""``microalign align``: timestamps for one recording."""
from __future__ import annotations

from pathlib import Path

import click

from ..runtime import BACKEND_NAMES
from ._common import BACKEND_HELP, read_transcript

STRICT_EXIT_STATUS = 3   # --strict and warnings (click uses 2 for usage errors, the CLI 1 for bad input)


@click.command("align")
@click.argument("audio", type=click.Path(path_type=Path))
@click.option("--text", "text", help="The transcript.")
@click.option("--text-file", type=click.Path(path_type=Path), help="File holding the transcript (UTF-8).")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "textgrid", "srt", "vtt", "csv"]),
              default="json", show_default=True,
              help="Output format (jsonl: one line per word, what the firmware prints).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here instead of standard output.")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="Model file: a student checkpoint (.pt) for torch, a .tflite for the others. Default: the shipped model.")
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default="torch", show_default=True, help=BACKEND_HELP)
@click.option("--strict", is_flag=True,
              help="Exit with status 3 when the alignment draws warnings (transcript and audio seem not to match).")
def align_command(audio: Path, text: str | None, text_file: Path | None, fmt: str, output: Path | None,
                  model: Path | None, backend: str, strict: bool = False) -> None:
    """Print word and character timestamps for AUDIO and its transcript.

    AUDIO is any file libsndfile reads (WAV, FLAC, OGG, ...); other sample
    rates and channel counts are converted to 16 kHz mono, with a note.
    """
    from ..align import align_file
    from ..formats import render
    from ..runtime import load_backend

    text = read_transcript(text, text_file)
    scorer = load_backend(backend, model)
    alignment = align_file(audio, text, scorer)
    result = render(alignment, fmt)
    if output:
        output.write_text(result, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result, nl=False)
    for w in alignment.warnings:   # one line each; also in the JSON output's "warnings"
        click.echo(w.line(), err=True)
    if strict and alignment.warnings:
        raise click.exceptions.Exit(STRICT_EXIT_STATUS)
