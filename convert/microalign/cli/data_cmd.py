"""``microalign data``: make training data offline (TTS corpora, teacher labels)."""
from __future__ import annotations

from pathlib import Path

import click

from ..batch.cli import RAY_HELP, executor_from_options


@click.group("data")
def data_group() -> None:
    """Make training data: synthetic speech with exact timings, teacher-labelled real speech."""


@data_group.command("synth")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--espeak", "n_espeak", type=click.IntRange(min=0), default=7200, show_default=True,
              help="espeak-ng utterances.")
@click.option("--festival", "n_festival", type=click.IntRange(min=0), default=1800, show_default=True,
              help="festival utterances.")
@click.option("--piper", "n_piper", type=click.IntRange(min=0), default=600, show_default=True,
              help="Piper utterances.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--test-fraction", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.05, show_default=True,
              help="Held-out share (by voice).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes, each running its own engine (default 1; with --ray: one per cluster CPU).")
@click.option("--ray", "ray_address", metavar="ADDRESS", default=None,
              help=RAY_HELP + " The driver writes every file: the nodes need no shared file system, only "
                              "the engines (espeak-ng, festival, the tts extra).")
def synth_command(out_dir: Path, n_espeak: int, n_festival: int, n_piper: int, seed: int, test_fraction: float,
                  jobs: int | None = None, ray_address: str | None = None) -> None:
    """Synthesise a corpus with exact word and phone timings into OUT_DIR/<engine>/{train,test}.jsonl.

    Every utterance is a pure function of (seed, engine, index): the files are the
    same bytes whatever -j and on Ray. Resumes an interrupted run. Needs the
    Debian packages espeak-ng and festival (with its voices) and the `tts` extra
    (Piper).
    """
    from ..data.synth import build_synthetic_corpus

    with executor_from_options(jobs, ray_address) as ex:
        for r in build_synthetic_corpus(out_dir, n_espeak, n_festival, n_piper, seed, test_fraction, executor=ex):
            click.echo(f"{r.engine}: {r.train} train + {r.test} test utterances, {r.hours:.2f} h")


CORPUS_KINDS = ("speechocean762", "ljspeech", "timit")


def _label_jobs(ctx, param, specs: tuple[str, ...]) -> list[tuple[str, Path, Path]]:
    """CORPUS=ROOT:OUT.jsonl -> (kind, root, out); a malformed spec is a usage error naming it."""
    jobs = []
    for spec in specs:
        kind, eq, rest = spec.partition("=")
        root, colon, out = rest.rpartition(":")
        if not eq or not colon or not root or not out:
            raise click.BadParameter(f"expected CORPUS=ROOT:OUT.jsonl, got {spec!r}", ctx, param)
        if kind not in CORPUS_KINDS:
            raise click.BadParameter(f"unknown corpus {kind!r} in {spec!r}; known: {', '.join(CORPUS_KINDS)}",
                                     ctx, param)
        jobs.append((kind, Path(root), Path(out)))
    return jobs


@data_group.command("label")
@click.argument("jobs", nargs=-1, required=True, metavar="CORPUS=ROOT:OUT.jsonl...", callback=_label_jobs)
@click.option("--teacher", type=click.Choice(["pocketsphinx", "qwen"]), default="pocketsphinx", show_default=True)
@click.option("--lexicon", "lexicons", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra ARPAbet lexicon for the pocketsphinx teacher (repeatable).")
@click.option("--letter-to-sound", type=click.Choice(["auto", "espeak", "rules", "none"]), default="auto",
              show_default=True, help="Pronunciations of words in no lexicon (pocketsphinx).")
@click.option("--no-phones", is_flag=True, help="pocketsphinx: word timings only (faster).")
@click.option("--qwen-model", default=None, help="Qwen3-ForcedAligner folder (else $MICROALIGN_QWEN_ALIGNER).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes (0: label in this process).")
@click.option("--resume", is_flag=True, help="Keep utterances already in an output manifest.")
@click.option("--limit", type=click.IntRange(min=0), default=0,
              help="Label only the first N utterances of each corpus.")
@click.option("--ray", "ray_address", metavar="ADDRESS", default=None,
              help=RAY_HELP + " --workers actors (0: one per cluster CPU); the corpus must be at the same path "
                              "on every node.")
def label_command(jobs: list[tuple[str, Path, Path]], teacher: str, lexicons: tuple[Path, ...],
                  letter_to_sound: str, no_phones: bool, qwen_model: str | None, workers: int, resume: bool,
                  limit: int, ray_address: str | None = None) -> None:
    """Label transcribed real speech with a teacher aligner (pocketsphinx, Qwen3-ForcedAligner).

    Each CORPUS=ROOT:OUT.jsonl names a corpus kind (speechocean762, ljspeech,
    timit), its folder and the manifest to write; all are labelled one after
    the other by the same teacher. speechocean762's own lexicon.txt is added
    to the pocketsphinx lexicons. Utterances the teacher cannot align are
    listed in OUT.failures.tsv.
    """
    from ..teachers import label_corpus
    from ..teachers.__main__ import READERS
    from ..teachers.corpora import speechocean762_lexicon

    if set(READERS) != set(CORPUS_KINDS):
        raise RuntimeError(f"corpus kinds out of sync: the CLI knows {CORPUS_KINDS}, the readers {tuple(READERS)}")
    all_lexicons = list(lexicons)
    corpora = []
    for kind, root, out in jobs:     # read every corpus before labelling any (CorpusError: one line, exit 1)
        utts = READERS[kind](root)
        if limit:
            utts = utts[:limit]
        if kind == "speechocean762":
            all_lexicons.append(speechocean762_lexicon(root))
        corpora.append((utts, out))
    if teacher == "pocketsphinx":
        from ..teachers.pocketsphinx_teacher import PocketsphinxTeacher

        t = PocketsphinxTeacher(lexicons=all_lexicons, letter_to_sound=letter_to_sound, phones=not no_phones)
    else:
        from ..teachers.qwen_teacher import QwenTeacher

        t = QwenTeacher(qwen_model)
    ex = executor_from_options(workers or None, ray_address) if ray_address else None
    try:
        for utts, out in corpora:        # label_corpus prints its summary to stderr
            label_corpus(utts, t, out, workers=workers, resume=resume, executor=ex)
    finally:
        if ex is not None:
            ex.close()


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
