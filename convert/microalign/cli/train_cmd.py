"""``microalign train``: train (or resume) a student on manifests."""
from __future__ import annotations

from pathlib import Path

import click


def _source(spec: str, augment: bool):
    """MANIFEST[:WEIGHT] -> a training Source."""
    from ..corpus import read_manifest
    from ..train.dataset import Source

    path, _, weight = spec.partition(":")
    utts = [u for u in read_manifest(path) if u.words]
    if not utts:
        raise ValueError(f"{path}: no utterances with word timings")
    return Source(Path(path).stem if Path(path).stem not in ("train", "test") else Path(path).parent.name,
                  utts, float(weight or 1.0), augment)


def _sizes(spec: str) -> dict[str, int]:
    out = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if not value.strip().isdigit():
            raise click.BadParameter(f"expected KEY=N, got {item!r}", param_hint="--size")
        out[key.strip()] = int(value)
    return out


@click.command("train")
@click.option("--data", "data", multiple=True, required=True, metavar="MANIFEST[:WEIGHT]",
              help="Training manifest (JSON lines with word timings), repeatable; WEIGHT sets its share of windows.")
@click.option("--val", "val", multiple=True, metavar="MANIFEST", help="Held-out manifest(s) for a validation loss.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Run folder: checkpoints (last.pt, resumable), log.jsonl, final student.pt.")
@click.option("--steps", type=int, default=6000, show_default=True)
@click.option("--batch", type=int, default=16, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True, help="Torch threads.")
@click.option("--workers", type=int, default=1, show_default=True, help="Data-loading processes.")
@click.option("--no-augment", is_flag=True, help="Train on clean audio only.")
@click.option("--init", type=click.Path(path_type=Path), help="Start from this student checkpoint.")
@click.option("--teacher", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Distil from this (larger) student checkpoint: adds --distill × KL to its frame scores.")
@click.option("--distill", type=float, default=1.0, show_default=True, help="Weight of the distillation term.")
@click.option("--phones", type=float, default=0.0, show_default=True,
              help="Weight of an auxiliary phone loss: a training-only head scores each word's CMUdict "
                   "pronunciation (ARPAbet) with the same word-boundary loss; not exported (0: off).")
@click.option("--tiny", is_flag=True, help="A tiny model (for tests and smoke runs).")
@click.option("--size", default="", metavar="KEY=N,...",
              help="Model size for a new model, e.g. d_model=96,n_layers=2 (StudentConfig fields).")
def train_command(data, val, out, steps, batch, lr, seed, threads, workers, no_augment, init, teacher, distill,
                  phones, tiny, size) -> None:
    """Train the student with the alignment loss; rerun the same command to resume."""
    from ..model import StudentConfig
    from ..train.loop import TrainConfig, train

    sizes = dict(stem=16, d_model=32, n_heads=2, d_ff=32, n_layers=1, d_out=16) if tiny else {}
    sizes.update(_sizes(size))
    if sizes and init:
        raise click.UsageError("--size/--tiny describe a new model; --init takes the checkpoint's own size")
    try:
        model_cfg = StudentConfig(**sizes)
    except (TypeError, ValueError) as e:
        raise click.BadParameter(str(e), param_hint="--size") from None
    cfg = TrainConfig(steps=steps, batch=batch, lr=lr, seed=seed, threads=threads, workers=workers,
                      augment=not no_augment, distill=distill if teacher else 0.0, phones=phones,
                      model=model_cfg)
    sources = [_source(s, not no_augment).load() for s in data]
    vals = [_source(v, False).load() for v in val] or None
    train(cfg, sources, out, val_sources=vals, init=init, teacher=teacher)
    click.echo(f"wrote {out / 'student.pt'}")
