"""``microalign data``: make training data offline (TTS corpora, teacher labels)."""
from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.group("data")
def data_group() -> None:
    """Make training data: synthetic speech with exact timings, teacher-labelled real speech."""


@data_group.command("synth")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--espeak", "n_espeak", type=int, default=7200, show_default=True, help="espeak-ng utterances.")
@click.option("--festival", "n_festival", type=int, default=1800, show_default=True, help="festival utterances.")
@click.option("--piper", "n_piper", type=int, default=600, show_default=True, help="Piper utterances.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--test-fraction", type=float, default=0.05, show_default=True, help="Held-out share (by voice).")
def synth_command(out_dir: Path, n_espeak: int, n_festival: int, n_piper: int, seed: int, test_fraction: float) -> None:
    """Synthesise a corpus with exact word and phone timings into OUT_DIR/<engine>/{train,test}.jsonl.

    Resumes an interrupted run. Needs the Debian packages espeak-ng and
    festival (with its voices) and the `tts` extra (Piper).
    """
    from ..data.synth import build_synthetic_corpus

    for r in build_synthetic_corpus(out_dir, n_espeak, n_festival, n_piper, seed, test_fraction):
        click.echo(f"{r.engine}: {r.train} train + {r.test} test utterances, {r.hours:.2f} h")


@data_group.command("label", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                    add_help_option=False)
@click.pass_context
def label_command(ctx: click.Context) -> None:
    """Label transcribed real speech with a teacher aligner (pocketsphinx, Qwen3-ForcedAligner).

    Arguments as `python -m microalign.teachers` (see `microalign data label --help`).
    """
    from ..teachers.__main__ import main as teachers_main

    ctx.exit(teachers_main(ctx.args or ["--help"]))


@data_group.command("consensus")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Manifest to write (uncertain words marked with a leading '?').")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Student checkpoint giving the second opinion (default: the shipped model).")
@click.option("--tolerance", type=float, default=0.03, show_default=True,
              help="Seconds within which both boundaries of a word must agree.")
@click.option("--min-char-frames", type=click.IntRange(min=1), default=None,
              help="The student decoder's minimum frames per character (default: the aligner's).")
def consensus_command(manifest: Path, out: Path, model: str | None, tolerance: float,
                      min_char_frames: int | None) -> None:
    """Keep the teacher word timings in MANIFEST that the student agrees with (the mean of both);
    mark the others uncertain, so training skips them."""
    from ..corpus import read_manifest, write_manifest
    from ..teachers.consensus import ConsensusStats, consensus_corpus, student_second_opinion

    if tolerance < 0:
        raise click.BadParameter(f"must be >= 0 (got {tolerance})", param_hint="--tolerance")
    stats = ConsensusStats()
    utts = list(consensus_corpus(read_manifest(manifest), student_second_opinion(model, min_char_frames), tolerance,
                                     stats))
    write_manifest(out, utts)
    click.echo(f"{out}: {stats.utterances} utterances, {stats.agreed}/{stats.words} words agreed "
               f"({100 * stats.agreed_fraction:.1f} %), {stats.failed} not aligned")
