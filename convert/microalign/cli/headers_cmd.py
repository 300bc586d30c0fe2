"""``microalign headers``: regenerate the C headers from the Python constants."""
from __future__ import annotations

from pathlib import Path

import click

DEFAULT_OUT = Path(__file__).resolve().parents[3] / "tflm_app" / "generated"


@click.command("headers")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Folder for microalign_frontend_config.h, microalign_tokens.h, microalign_aligner_config.h, "
                   "microalign_quality.h, microalign_refine.h and microalign_image.h.")
def headers_command(out: Path) -> None:
    """Write the frontend, token-table, aligner-config, quality-model and boundary-refinement headers the C code
    includes (single source of truth),
    then microalign_image.h, which holds the SHA-256 of the others (a weight image records them; the firmware
    refuses an image made for other headers)."""
    from ..aligner_header import write_header as write_aligner
    from ..decode.refine_header import write_header as write_refine
    from ..frontend.header import write_header as write_frontend
    from ..quality.header import write_header as write_quality
    from ..text.header import write_header as write_tokens

    from ..export.image import write_header as write_image_header

    for p in (write_frontend(out), write_tokens(out), write_aligner(out), write_quality(out), write_refine(out)):
        click.echo(f"wrote {p}")
    click.echo(f"wrote {write_image_header(out, out)}")   # last: it hashes the headers written above
