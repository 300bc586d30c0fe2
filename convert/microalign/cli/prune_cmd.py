"""``microalign prune``: structured pruning (attention heads, channels) of a trained student."""
from __future__ import annotations

from pathlib import Path

import click



@click.command("prune")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Student checkpoint to prune (default: the shipped model).")
@click.option("--heads", "n_heads", type=int, help="Attention heads kept per layer.")
@click.option("--d-ff", "d_ff", type=int, help="Feed-forward channels kept per layer.")
@click.option("--stem", type=int, help="10 ms stem channels kept.")
@click.option("--d-out", "d_out", type=int, help="10 ms head channels kept.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Pruned checkpoint to write (fine-tune it with `microalign train --init OUT`).")
def prune_command(model, n_heads, d_ff, stem, d_out, out: Path) -> None:
    """Remove the least important heads and channels (by weight norms) from a trained student."""
    from ..model import count_parameters, load_checkpoint, macs_per_second, save_checkpoint
    from ..model.prune import prune_student

    sizes = {k: v for k, v in dict(n_heads=n_heads, d_ff=d_ff, stem=stem, d_out=d_out).items() if v is not None}
    if not sizes:
        raise click.UsageError("give at least one of --heads, --d-ff, --stem, --d-out")
    m, meta = load_checkpoint(model)
    try:
        p = prune_student(m, **sizes)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    save_checkpoint(out, p, {**meta, "pruned_from": str(model or "shipped"), "pruned": sizes,
                             "parameters": count_parameters(p), "macs_per_second": macs_per_second(p.cfg)})
    click.echo(f"{out}: {count_parameters(m):,} -> {count_parameters(p):,} parameters, "
               f"{macs_per_second(m.cfg) / 1e6:.2f} -> {macs_per_second(p.cfg) / 1e6:.2f} M MAC/s")
