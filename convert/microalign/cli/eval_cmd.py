"""``microalign eval``: boundary accuracy on any labelled set."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..batch.cli import executor_from_options, jobs_option, ray_option
from ..runtime import BACKEND_NAMES
from ._common import BACKEND_HELP

#: what the printed table's columns mean (``--help``)
TABLE_HELP = ("Table columns: mean/median ms = absolute word-boundary error over the starts and ends of "
              "matched words; <=N ms % = share of boundaries within N ms; start/end ms = mean absolute "
              "error of starts / of ends; matched/ref words = reference words the aligner's words were "
              "matched to. (AAS, the mean over words of (|start err| + |end err|) / 2, equals the mean "
              "boundary error, so it is not a column of its own.)")


@click.command("eval")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--aligner", "aligners", multiple=True, default=["student"], show_default=True,
              type=click.Choice(["student", "pocketsphinx", "uniform"]),
              help="Aligner(s) to score, side by side in one run (repeat the option).")
@click.option("--model", type=click.Path(path_type=Path), default=None, help="Model for the student (default: shipped).")
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default="torch", show_default=True,
              help=f"Runtime of the student: {BACKEND_HELP}")
@click.option("--limit", type=int, default=None, help="Score only the first N utterances.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write utterances.csv, words.csv, cdf.png and summary.json into this folder.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the scores as JSON here.")
@click.option("--cdf", type=click.Path(path_type=Path), help="Write a PNG of the boundary-error CDFs here.")
@jobs_option
@ray_option
def eval_command(data: Path, aligners: tuple[str, ...], model: Path | None, backend: str, limit: int | None,
                 out_dir: Path | None, json_out: Path | None, cdf: Path | None, jobs: int | None,
                 ray_address: str | None) -> None:
    from ..batch.model import check_model, model_setup
    from ..data.readers import read_corpus
    from ..scoring import TABLE_HEADER
    from ..scoring.evaluate import AlignerSetup, run_aligners

    if limit is not None and limit < 1:
        raise click.BadParameter(f"must be >= 1 (got {limit})", param_hint="--limit")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} is a file", param_hint="--out")
    utts = list(read_corpus(data))[:limit]
    if not utts:
        raise ValueError(f"no utterances with word timings in {data}")
    kinds = tuple(dict.fromkeys(aligners))
    with executor_from_options(jobs, ray_address) as ex:
        student = None
        if "student" in kinds:
            check_model(backend, model)
            student = model_setup(backend, model, ex)
        setup = AlignerSetup(kinds, student)
        run = run_aligners(utts, setup, ex, ship_audio=ray_address is not None)
    results = run.scores()
    click.echo(f"{data}: {len(utts)} utterances")
    click.echo(TABLE_HEADER)
    for name, (scores, _) in results.items():
        click.echo(scores.row(name))
    if out_dir:
        from ..scoring.report import write_eval_outputs

        for p in write_eval_outputs(out_dir, run, results, str(data)):
            click.echo(f"wrote {p}", err=True)
    if json_out:
        json_out.write_text(json.dumps({n: s.to_dict() for n, (s, _) in results.items()}, indent=2) + "\n")
    if cdf:
        from ..scoring.plots import plot_cdf

        plot_cdf({n: e for n, (_, e) in results.items()}, cdf, title=str(data))
        click.echo(f"wrote {cdf}", err=True)


eval_command.help = f"""Score aligners against the word timings of DATA.

DATA is a TIMIT-layout folder (.wav/.wrd), a folder of .wav + .TextGrid
(as Montreal Forced Aligner writes them) or a JSON-lines manifest.
Words are matched by aligning the word strings; both the start and the
end of every matched word count as a boundary. An utterance an aligner
fails on counts as all its words unmatched.

{TABLE_HELP}

\b
--out DIR writes:
  utterances.csv  one row per aligner and utterance: aligner, id, status
                  (ok/failed), ref_words, hyp_words, matched, mean_ms,
                  median_ms, max_ms, start_mean_ms, end_mean_ms,
                  within_10ms_pct ... within_50ms_pct, error
  words.csv       one row per aligner and word: aligner, id, ref_index,
                  hyp_index (blank = unmatched), word, ref_start, ref_end,
                  hyp_start, hyp_end (s), start_err_ms, end_err_ms
                  (signed hyp - ref: positive = late)
  cdf.png         CDF of absolute boundary errors, one curve per aligner
  summary.json    the table's figures per aligner, failures, and these
                  column descriptions

-j N / --ray ADDRESS run the utterances on N worker processes / Ray actors
(each builds its aligners once); the scores are the same.
"""
