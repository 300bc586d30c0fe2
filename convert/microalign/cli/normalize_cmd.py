"""``microalign normalize``: the spoken-form transcript that is aligned (and that the firmware takes)."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import read_transcript


@click.command("normalize")
@click.option("--text", "text", help="The transcript.")
@click.option("--text-file", type=click.Path(path_type=Path), help="File holding the transcript (UTF-8).")
def normalize_command(text: str | None, text_file: Path | None) -> None:
    """Print the spoken form of a transcript: the words `microalign align` aligns, separated by single spaces,
    in the characters of the token table (tflm_app/generated/microalign_tokens.h).

    \b
    This is the transcript the firmware (tflm_app/app) takes: numbers and symbols spelled out,
    punctuation gone, e.g. "In 1999, she paid $5 & left." -> "in nineteen ninety nine she paid
    five dollars and left".
    """
    from ..text import normalize

    text = read_transcript(text, text_file)
    click.echo(" ".join(w.text for w in normalize(text)))
