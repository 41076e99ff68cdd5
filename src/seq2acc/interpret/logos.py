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


def logo_panels(a, top: int, width: int, sig) -> list[dict]:
    """Logo panels (for :func:`save_logos`) of the ``top`` sequences of an attribution set ``a``
    (:class:`~seq2acc.interpret.sets.AttributionSet`: ``regions`` with chrom, start, logit; ``contrib`` (n, L, 4);
    ``test.window``) by logit; each panel = ``width`` bp around the sequence's strongest window of contribution,
    with the significant regions of ``sig`` (:func:`seq2acc.interpret.null.significant_regions`) shaded. Windows of
    overlapping inputs (50 bp stride) often show the same locus: a panel overlapping one already shown is skipped."""
    order = np.argsort(-a.regions.logit.to_numpy(), kind="stable")
    per_pos = a.contrib.sum(-1)
    L = per_pos.shape[1]
    panels, shown = [], []
    for i in order:
        if len(panels) >= top:
            break
        r = a.regions.iloc[i]
        ws = np.convolve(np.abs(per_pos[i]), np.ones(a.test.window), mode="valid")
        centre = int(np.argmax(ws)) + a.test.window // 2
        s0 = int(np.clip(centre - width // 2, 0, max(L - width, 0)))
        g0 = int(r.start) + s0
        if any(c == r.chrom and g0 < e and g0 + width > b for c, b, e in shown):
            continue
        shown.append((r.chrom, g0, g0 + width))
        hl = [(int(s.start), int(s.end)) for s in sig[sig.seq == i].itertuples()]
        panels.append({"contrib": a.contrib[i, s0:s0 + width], "start": s0, "highlight": hl,
                       "title": f"{r.chrom}:{int(r.start) + s0}-{int(r.start) + s0 + width}  logit {r.logit:.2f}"})
    return panels
