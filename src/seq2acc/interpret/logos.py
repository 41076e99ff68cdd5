"""Sequence logos of contribution scores (logomaker, matplotlib Agg)."""

from __future__ import annotations

import numpy as np

from seq2acc.io.atomic import atomic_path


def contribution_logo(ax, contrib: np.ndarray, start: int = 0, title: str | None = None, highlight=()):
    """Draw (w, 4) contributions (ACGT) as a logo on ``ax``; x axis = ``start`` .. ``start + w``.

    ``highlight``: (from, to) position ranges (same coordinates as the x axis) shaded in yellow.
    """
    import logomaker
    import pandas as pd

    df = pd.DataFrame(np.asarray(contrib, dtype=np.float64), columns=list("ACGT"),
                      index=np.arange(start, start + len(contrib)))
    logo = logomaker.Logo(df, ax=ax, color_scheme="classic", flip_below=False, baseline_width=0.3)
    for a, b in highlight:
        a, b = max(a, start), min(b, start + len(contrib))
        if b > a:
            logo.highlight_position_range(a, b - 1, color="gold", alpha=0.3)
    ax.set_xlim(start - 0.5, start + len(contrib) - 0.5)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=8, loc="left")
    return logo


def save_logos(path, panels, width_in: float = 14.0, height_in: float = 1.6, suptitle: str | None = None) -> None:
    """One PNG with one logo per panel. ``panels``: dicts with contrib (w, 4), start, title, highlight."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(panels)
    n = max(len(panels), 1)
    fig, axes = plt.subplots(n, 1, figsize=(width_in, height_in * n), squeeze=False)
    for ax, pnl in zip(axes[:, 0], panels):
        contribution_logo(ax, pnl["contrib"], pnl.get("start", 0), pnl.get("title"), pnl.get("highlight", ()))
        ax.set_ylabel("contrib.", fontsize=7)
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no sequences", ha="center", va="center")
        axes[0, 0].set_axis_off()
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
