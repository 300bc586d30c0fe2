"""``microalign headers``: regenerate the C headers from the Python constants."""
from __future__ import annotations

from pathlib import Path

import click

from . import main

DEFAULT_OUT = Path(__file__).resolve().parents[3] / "tflm_app" / "generated"


@main.command("headers")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Folder for microalign_frontend_config.h and microalign_tokens.h.")
def headers_command(out: Path) -> None:
    """Write the frontend and token-table headers the C code includes (single source of truth)."""
    from ..frontend.header import write_header as write_frontend
    from ..text.header import write_header as write_tokens

    for p in (write_frontend(out), write_tokens(out)):
        click.echo(f"wrote {p}")
