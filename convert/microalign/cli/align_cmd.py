"""``microalign align``: timestamps for one recording."""
from __future__ import annotations

from pathlib import Path

import click

from . import main

BACKENDS = ("torch", "onnx", "tflite", "tflite-float", "tflm")


def make_scorer(backend: str, model: str | None, threads: int | None = None):
    """A window scorer for a backend name (torch float, LiteRT int8/float, TFLM int8)."""
    from ..align import TorchScorer

    if backend == "torch":
        return TorchScorer(model, threads=threads)
    from ..export.backends import scorer_for_backend

    return scorer_for_backend(backend, model)


@main.command("align")
@click.argument("audio", type=click.Path(path_type=Path))
@click.option("--text", "text", help="The transcript.")
@click.option("--text-file", type=click.Path(path_type=Path), help="File holding the transcript (UTF-8).")
@click.option("--format", "fmt", type=click.Choice(["json", "textgrid", "srt", "vtt", "csv"]), default="json",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here instead of standard output.")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="Model file: a student checkpoint (.pt) for torch, a .tflite for the others. Default: the shipped model.")
@click.option("--backend", type=click.Choice(BACKENDS), default="torch", show_default=True,
              help="torch = float PyTorch; tflite = int8 LiteRT; tflite-float = float LiteRT; tflm = int8 TFLite Micro.")
def align_command(audio: Path, text: str | None, text_file: Path | None, fmt: str, output: Path | None,
                  model: Path | None, backend: str) -> None:
    """Print word and character timestamps for AUDIO and its transcript.

    AUDIO is any file libsndfile reads (WAV, FLAC, OGG, ...); other sample
    rates and channel counts are converted to 16 kHz mono, with a note.
    """
    from ..align import align_file
    from ..formats import render

    if (text is None) == (text_file is None):
        raise click.UsageError("give the transcript with exactly one of --text or --text-file")
    if text_file is not None:
        if not text_file.is_file():
            raise FileNotFoundError(f"transcript file not found: {text_file}")
        try:
            text = text_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"transcript file is not UTF-8 text: {text_file}") from None
    scorer = make_scorer(backend, str(model) if model else None)
    result = render(align_file(audio, text, scorer), fmt)
    if output:
        output.write_text(result, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result, nl=False)
