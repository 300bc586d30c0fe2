"""Plots of boundary errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .metrics import UtteranceErrors, boundary_errors_ms


def plot_cdf(errors: dict[str, list[UtteranceErrors]], path: str | Path, title: str = "", xmax: float = 200.0) -> None:
    """CDF of absolute word-boundary errors, one curve per aligner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name, errs in errors.items():
        b = np.sort(boundary_errors_ms(errs))
        if len(b):
            ax.plot(b, np.arange(1, len(b) + 1) / len(b) * 100, label=f"{name} (mean {b.mean():.1f} ms)")
    for t in (10, 20, 50):
        ax.axvline(t, color="0.85", lw=0.8, zorder=0)
    ax.set(xlim=(0, xmax), ylim=(0, 100), xlabel="absolute boundary error (ms)", ylabel="boundaries within (%)",
           title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
