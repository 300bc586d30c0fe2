"""``microalign eval``: boundary accuracy on any labelled set."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..runtime import BACKEND_NAMES
from ._common import BACKEND_HELP


@click.command("eval")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--aligner", "aligners", multiple=True, default=["student"], show_default=True,
              type=click.Choice(["student", "pocketsphinx", "uniform"]),
              help="Aligner(s) to score, side by side in one run (repeat the option).")
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model for the student (default: shipped).")
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default="torch", show_default=True,
              help=f"Runtime of the student: {BACKEND_HELP}")
@click.option("--limit", type=int, default=None, help="Score only the first N utterances.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the scores as JSON here.")
@click.option("--cdf", type=click.Path(path_type=Path), help="Write a PNG of the boundary-error CDFs here.")
def eval_command(data: Path, aligners: tuple[str, ...], model: Path | None, backend: str, limit: int | None,
                 json_out: Path | None, cdf: Path | None) -> None:
    """Score aligners against the word timings of DATA.

    DATA is a TIMIT-layout folder (.wav/.wrd), a folder of .wav + .TextGrid
    (as Montreal Forced Aligner writes them) or a JSON-lines manifest.
    Words are matched by aligning the word strings; both the start and the
    end of every matched word count as a boundary.
    """
    from ..data.readers import read_corpus
    from ..runtime import load_backend
    from ..scoring import TABLE_HEADER
    from ..scoring.evaluate import evaluate, pocketsphinx_aligner, student_aligner, uniform_aligner

    utts = list(read_corpus(data))[:limit]
    if not utts:
        raise ValueError(f"no utterances with word timings in {data}")
    fns = {}
    for a in aligners:
        if a == "student":
            fns[f"student ({backend})"] = student_aligner(load_backend(backend, model))
        elif a == "pocketsphinx":
            fns["pocketsphinx"] = pocketsphinx_aligner()
        else:
            fns["uniform baseline"] = uniform_aligner()
    results = evaluate(utts, fns)
    click.echo(f"{data}: {len(utts)} utterances")
    click.echo(TABLE_HEADER)
    for name, (scores, _) in results.items():
        click.echo(scores.row(name))
    if json_out:
        json_out.write_text(json.dumps({n: s.to_dict() for n, (s, _) in results.items()}, indent=2) + "\n")
    if cdf:
        from ..scoring.plots import plot_cdf

        plot_cdf({n: e for n, (_, e) in results.items()}, cdf, title=str(data))
        click.echo(f"wrote {cdf}", err=True)
