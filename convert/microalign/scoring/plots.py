"""Plots of boundary errors (matplotlib Figures without pyplot: no backend switch, fine in notebooks)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .metrics import UtteranceErrors, boundary_errors_ms

LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1))]


def draw_cdf(ax, curves: dict[str, np.ndarray], title: str = "", xmax: float = 200.0) -> None:
    """Draw CDFs of absolute boundary errors (ms), one curve per label, on ``ax``."""
    for k, (name, errs) in enumerate(curves.items()):
        b = np.sort(np.asarray(errs))
        if len(b):
            ax.plot(b, np.arange(1, len(b) + 1) / len(b) * 100, ls=LINE_STYLES[k % len(LINE_STYLES)],
                    label=f"{name} (mean {b.mean():.1f} ms)")
    for t in (10, 20, 50):
        ax.axvline(t, color="0.85", lw=0.8, zorder=0)
    ax.set(xlim=(0, xmax), ylim=(0, 100), xlabel="absolute boundary error (ms)", ylabel="boundaries within (%)",
           title=title)
    ax.legend(loc="lower right", fontsize=7)


def plot_cdf(errors: dict[str, list[UtteranceErrors]], path: str | Path, title: str = "", xmax: float = 200.0) -> None:
    """CDF of absolute word-boundary errors, one curve per aligner, saved as an image."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=120)
    draw_cdf(fig.subplots(), {n: boundary_errors_ms(e) for n, e in errors.items()}, title, xmax)
    fig.tight_layout()
    fig.savefig(path)
