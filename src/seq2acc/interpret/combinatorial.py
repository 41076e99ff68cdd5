"""Combinatorial logic of motif sites (protocol 3.4 step 4, note 28): motif scrambling and DFIM, with controls.

Sites are rows ``(seq, start, end, motif)``: 0-based half-open offsets inside sequence ``seq`` of a one-hot
array (n, L, 4), from a PWM scan (:mod:`seq2acc.interpret.motifs`) or TF-MoDISco seqlets (:mod:`seq2acc.interpret.modisco`).

**Scrambling.** A site is removed by permuting its bases in place (same composition, different order: a
permutation that leaves the site unchanged is redrawn). For every sequence the model scores the original, each
site scrambled alone and each pair scrambled together, ``n_scrambles`` times with independent permutations;
scramble ``r`` of site A is the same permutation whether A is scrambled alone or with B, so per scramble

    effect(A)   = f(A scrambled) - f(original)
    interaction = effect(A and B) - effect(A) - effect(B)

is a paired difference. Its spread across scrambles (``interaction_sd``) measures what the scramble itself does;
its spread across sequences (``sd``) what the context does. ``f`` is the model's logit (averaged over forward and
reverse-complement inputs by default). For sites that raise the prediction (negative effects): zero interaction =
the two sites add up on the logit scale (``f = a + b``); positive = removing both costs less than the sum of
removing each, i.e. each site needs the other (cooperative, AND-like, ``f = a * b``); negative = removing both
costs more than the sum, i.e. either site suffices (redundant, OR-like, ``f = max(a, b)``).

**DFIM** (Deep Feature Interaction Maps, Greenside et al. 2018). For every ordered pair (source, target) of
sites in a sequence: ``delta = C(target | original) - C(target | source scrambled)`` with ``C(site)`` the summed
actual-base contribution over the target's bases, averaged over scrambles of the source. Positive = the target
contributes less once the source is gone (the model uses the target *because of* the source).

**Controls.** The same analyses on the same sequences with every site replaced by a site of equal length at a
random position that overlaps no real site ("control" rows, same motif labels). A real interaction stands out
from the control distribution; the summaries report both and a Mann-Whitney p-value.
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

SITE_COLUMNS = ["seq", "start", "end", "motif"]


# ----------------------------------------------------------------------------- scrambling one site
def scramble_site(x: np.ndarray, start: int, end: int, rng: np.random.Generator, max_tries: int = 50):
    """Copy of one-hot ``x`` (L, 4) with rows ``start:end`` permuted (composition kept).

    Returns (scrambled, changed): ``changed`` is False only when no permutation can change the site (a
    homopolymer) or none was found in ``max_tries`` draws.
    """
    return _apply(x, [(start, end, _perm(x[start:end], rng, max_tries))])


def _perm(seg: np.ndarray, rng: np.random.Generator, max_tries: int = 50) -> np.ndarray | None:
    """A permutation of the rows of ``seg`` that changes it, or None when impossible."""
    n = len(seg)
    if n < 2 or len({r.tobytes() for r in seg}) < 2:
        return None
    for _ in range(max_tries):
        p = rng.permutation(n)
        if not np.array_equal(seg[p], seg):
            return p
    return None


def _apply(x: np.ndarray, spans) -> tuple[np.ndarray, bool]:
    y = np.array(x, copy=True)
    changed = True
    for start, end, p in spans:
        if p is None:
            changed = False
            continue
        y[start:end] = x[start:end][p]
    return y, changed


# ----------------------------------------------------------------------------- sites
def normalize_sites(sites: pd.DataFrame, seq_len: int, max_sites_per_seq: int | None = None) -> pd.DataFrame:
    """Check and tidy a site table: in-bounds, one row per site, no overlaps within a sequence.

    Overlapping sites are resolved greedily by ``score`` (highest first; without a score column, first come);
    then at most ``max_sites_per_seq`` per sequence are kept (best scores). Adds a ``site`` id column.
    """
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise ValueError(f"site table lacks columns {missing}")
    df = sites.drop(columns=["site"], errors="ignore").copy()
    df["start"] = df["start"].astype(np.int64)
    df["end"] = df["end"].astype(np.int64)
    bad = (df.start < 0) | (df.end > seq_len) | (df.end <= df.start)
    if bad.any():
        log.warning("dropping %d site(s) outside [0, %d) or empty", int(bad.sum()), seq_len)
        df = df[~bad]
    if "score" not in df.columns:
        df["score"] = -np.arange(len(df), dtype=np.float64)
    keep = []
    for _, g in df.sort_values(["seq", "score"], ascending=[True, False], kind="stable").groupby("seq", sort=True):
        taken: list[tuple[int, int]] = []
        for idx, r in zip(g.index, g.itertuples(index=False)):
            if max_sites_per_seq is not None and len(taken) >= max_sites_per_seq:
                break
            if all(r.end <= s or r.start >= e for s, e in taken):
                taken.append((r.start, r.end))
                keep.append(idx)
    out = df.loc[keep].sort_values(["seq", "start"], kind="stable").reset_index(drop=True)
    out.insert(0, "site", np.arange(len(out)))
    return out


def control_sites(sites: pd.DataFrame, seq_len: int, seed: int = 0, max_tries: int = 200) -> pd.DataFrame:
    """One random site per real site: same sequence, same length and motif label, overlapping no real site nor
    another control site. Sites for which no free position exists are dropped (logged)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    rows = []
    dropped = 0
    for seq, g in sites.groupby("seq", sort=True):
        taken = list(zip(g.start.tolist(), g.end.tolist()))
        for r in g.itertuples(index=False):
            w = int(r.end - r.start)
            for _ in range(max_tries):
                s = int(rng.integers(0, seq_len - w + 1))
                if all(s + w <= a or s >= b for a, b in taken):
                    taken.append((s, s + w))
                    d = r._asdict()
                    d.update(start=s, end=s + w, control_of=int(r.site) if "site" in g.columns else -1)
                    rows.append(d)
                    break
            else:
                dropped += 1
    if dropped:
        log.warning("%d control site(s) could not be placed without overlap", dropped)
    out = pd.DataFrame(rows, columns=list(sites.columns) + ["control_of"]) if rows else sites.iloc[:0].assign(control_of=[])
    out = out.sort_values(["seq", "start"], kind="stable").reset_index(drop=True)
    out["site"] = np.arange(len(out))
    return out


# ----------------------------------------------------------------------------- scrambling experiment
def _seq_rng(seed: int, seq: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(seq), int(stream)]))


def _perms(x: np.ndarray, g: pd.DataFrame, n_scrambles: int, rng) -> list[list]:
    """perms[r][i] = permutation of site i in scramble r."""
    return [[_perm(x[s:e], rng) for s, e in zip(g.start, g.end)] for _ in range(n_scrambles)]


class _Batcher:
    """Collects model inputs of many sequences and predicts them in large batches."""

    def __init__(self, fn: Callable, batch_size: int, pass_seq: bool = False):
        self.fn, self.batch_size, self.pass_seq = fn, batch_size, pass_seq
        self.inputs: list[np.ndarray] = []
        self.seqs: list[int] = []
        self.jobs: list[tuple] = []
        self.n = 0

    def add(self, xs: list[np.ndarray], job, seq: int = -1) -> None:
        self.inputs.extend(xs)
        self.seqs.extend([int(seq)] * len(xs))
        self.jobs.append((job, self.n, len(xs)))
        self.n += len(xs)

    def ready(self) -> bool:
        return self.n >= self.batch_size

    def flush(self):
        if not self.inputs:
            return []
        x = np.stack(self.inputs)
        seqs = np.asarray(self.seqs, dtype=np.int64)
        b = self.batch_size
        y = np.concatenate([np.asarray(self.fn(x[i:i + b], seqs[i:i + b]) if self.pass_seq else self.fn(x[i:i + b]))
                            for i in range(0, len(x), b)])
        out = [(job, y[o:o + k]) for job, o, k in self.jobs]
        self.inputs, self.seqs, self.jobs, self.n = [], [], [], 0
        return out


def scramble_interactions(predict_fn: Callable[[np.ndarray], np.ndarray], onehot: np.ndarray, sites: pd.DataFrame,
                          n_scrambles: int = 5, seed: int = 0, batch_size: int = 512,
                          progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scramble every site alone and every pair together; returns (site_effects, pair_interactions).

    ``predict_fn(x)`` maps one-hot (b, L, 4) to (b,) scores (logits). ``sites`` as from :func:`normalize_sites`.
    site_effects: one row per site: seq, site, motif, start, end, original, effect, effect_sd, changed.
    pair_interactions: one row per pair of sites in a sequence: seq, site_a/b, motif_a/b, distance (bp between
    site centres), effect_a, effect_b, effect_ab, interaction (mean over scrambles), interaction_sd.
    """
    site_rows, pair_rows = [], []
    batcher = _Batcher(predict_fn, batch_size)

    def consume(results):
        for (seq, g, pairs, changed), y in results:
            f0 = y[0]
            k, P = len(g), len(pairs)
            per = y[1:].reshape(n_scrambles, k + P) - f0  # (r, k + P)
            eff = per[:, :k]
            for i, r in enumerate(g.itertuples(index=False)):
                site_rows.append((seq, r.site, r.motif, r.start, r.end, f0, eff[:, i].mean(), eff[:, i].std(ddof=0),
                                  bool(changed[i])))
            for p, (i, j) in enumerate(pairs):
                inter = per[:, k + p] - eff[:, i] - eff[:, j]
                a, b = g.iloc[i], g.iloc[j]
                pair_rows.append((seq, a.site, b.site, a.motif, b.motif,
                                  abs((a.start + a.end) / 2 - (b.start + b.end) / 2), eff[:, i].mean(),
                                  eff[:, j].mean(), per[:, k + p].mean(), inter.mean(), inter.std(ddof=0)))

    groups = list(sites.groupby("seq", sort=True))
    for seq, g in tqdm(groups, desc="scrambling", disable=not progress, unit="seq"):
        x = onehot[int(seq)]
        perms = _perms(x, g, n_scrambles, _seq_rng(seed, seq, 1))
        spans = list(zip(g.start.tolist(), g.end.tolist()))
        pairs = list(combinations(range(len(g)), 2))
        xs = [x]
        changed = np.ones(len(g), dtype=bool)
        for r in range(n_scrambles):
            for i, (s, e) in enumerate(spans):
                y, ch = _apply(x, [(s, e, perms[r][i])])
                changed[i] &= ch
                xs.append(y)
            for i, j in pairs:
                xs.append(_apply(x, [(*spans[i], perms[r][i]), (*spans[j], perms[r][j])])[0])
        batcher.add(xs, (seq, g, pairs, changed))
        if batcher.ready():
            consume(batcher.flush())
    consume(batcher.flush())
    sites_df = pd.DataFrame(site_rows, columns=["seq", "site", "motif", "start", "end", "original", "effect",
                                                "effect_sd", "changed"])
    pairs_df = pd.DataFrame(pair_rows, columns=["seq", "site_a", "site_b", "motif_a", "motif_b", "distance",
                                                "effect_a", "effect_b", "effect_ab", "interaction", "interaction_sd"])
    return sites_df, pairs_df


# ----------------------------------------------------------------------------- DFIM
def dfim(contrib_fn: Callable, onehot: np.ndarray, sites: pd.DataFrame, n_scrambles: int = 3, seed: int = 0,
         batch_size: int = 256, progress: bool = True, pass_seq: bool = False) -> pd.DataFrame:
    """Deep Feature Interaction Map entries for every ordered (source, target) pair of sites in a sequence.

    ``contrib_fn(x)`` maps one-hot (b, L, 4) to contributions (b, L, 4) (actual-base or hypothetical: they are
    multiplied by the one-hot) or per-position (b, L). With ``pass_seq`` it is called as ``contrib_fn(x, seqs)``,
    ``seqs`` (b,) the index in ``onehot`` each row derives from (e.g. to give a scrambled copy the same DeepSHAP
    references as its original). Columns: seq, source, target, source_motif, target_motif,
    distance, target_contrib (original), delta (mean over scrambles of the source), delta_sd, rel_delta
    (delta / |target_contrib|).
    """

    def per_site(x, c, spans):
        c = np.asarray(c, dtype=np.float64)
        pos = (c * x).sum(-1) if c.ndim == 3 else c
        cs = np.concatenate([np.zeros((len(pos), 1)), np.cumsum(pos, axis=1)], axis=1)
        return np.stack([cs[:, e] - cs[:, s] for s, e in spans], axis=1)  # (b, k)

    rows = []
    batcher = _Batcher(contrib_fn, batch_size, pass_seq)

    def consume(results):
        for (seq, g, x_stack), c in results:
            spans = list(zip(g.start.tolist(), g.end.tolist()))
            k = len(g)
            tot = per_site(x_stack, c, spans)  # (1 + r*k, k)
            orig = tot[0]
            scr = tot[1:].reshape(n_scrambles, k, k)  # [r, source, target]
            for si in range(k):
                for ti in range(k):
                    if si == ti:
                        continue
                    d = orig[ti] - scr[:, si, ti]
                    a, b = g.iloc[si], g.iloc[ti]
                    rows.append((seq, a.site, b.site, a.motif, b.motif,
                                 abs((a.start + a.end) / 2 - (b.start + b.end) / 2), orig[ti], d.mean(),
                                 d.std(ddof=0), d.mean() / max(abs(orig[ti]), 1e-12)))

    groups = [(s, g) for s, g in sites.groupby("seq", sort=True) if len(g) >= 2]
    for seq, g in tqdm(groups, desc="DFIM", disable=not progress, unit="seq"):
        x = onehot[int(seq)]
        perms = _perms(x, g, n_scrambles, _seq_rng(seed, seq, 2))
        spans = list(zip(g.start.tolist(), g.end.tolist()))
        xs = [x] + [_apply(x, [(*spans[i], perms[r][i])])[0] for r in range(n_scrambles) for i in range(len(g))]
        x_stack = np.stack(xs)
        batcher.add(xs, (seq, g, x_stack), seq)
        if batcher.ready():
            consume(batcher.flush())
    consume(batcher.flush())
    return pd.DataFrame(rows, columns=["seq", "source", "target", "source_motif", "target_motif", "distance",
                                       "target_contrib", "delta", "delta_sd", "rel_delta"])


# ----------------------------------------------------------------------------- summaries
def _mwu(a, b) -> float:
    from scipy.stats import mannwhitneyu

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0 or (np.ptp(np.concatenate([a, b])) == 0):
        return float("nan")
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def summarize_sites(effects: pd.DataFrame, control: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per motif: n sites, mean/sd of the scrambling effect, mean scramble sd; control columns and p-value."""
    rows = []
    for motif, g in effects.groupby("motif", sort=True):
        c = control[control.motif == motif] if control is not None and len(control) else None
        rows.append({"motif": motif, "n": len(g), "effect_mean": g.effect.mean(), "effect_sd": g.effect.std(ddof=1),
                     "scramble_sd": g.effect_sd.mean(), "unchangeable": int((~g.changed).sum()),
                     "control_n": 0 if c is None else len(c),
                     "control_mean": np.nan if c is None or not len(c) else c.effect.mean(),
                     "control_sd": np.nan if c is None or len(c) < 2 else c.effect.std(ddof=1),
                     "p_vs_control": np.nan if c is None else _mwu(g.effect, c.effect)})
    return pd.DataFrame(rows)


def _pair_key(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    lo = np.where(df[a].astype(str) <= df[b].astype(str), df[a], df[b])
    hi = np.where(df[a].astype(str) <= df[b].astype(str), df[b], df[a])
    return pd.Series(list(zip(lo, hi)), index=df.index)


def summarize_pairs(pairs: pd.DataFrame, control: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unordered motif pair: n instances, interaction mean, sd across instances, sem, mean spread across
    scrambles, mean single/double effects, the same for the control pairs, and a Mann-Whitney p-value."""
    cols = ["motif_a", "motif_b", "n", "interaction_mean", "interaction_sd", "interaction_sem", "scramble_sd",
            "effect_a_mean", "effect_b_mean", "effect_ab_mean", "control_n", "control_mean", "control_sd",
            "p_vs_control"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    keys = _pair_key(pairs, "motif_a", "motif_b")
    ckeys = _pair_key(control, "motif_a", "motif_b") if control is not None and len(control) else None
    rows = []
    for key in sorted(set(keys)):
        g = pairs[keys == key]
        c = control[ckeys == key] if ckeys is not None else pairs.iloc[:0]
        n = len(g)
        sd = g.interaction.std(ddof=1) if n > 1 else np.nan
        rows.append([key[0], key[1], n, g.interaction.mean(), sd, sd / np.sqrt(n) if n > 1 else np.nan,
                     g.interaction_sd.mean(), g.effect_a.mean(), g.effect_b.mean(), g.effect_ab.mean(), len(c),
                     c.interaction.mean() if len(c) else np.nan,
                     c.interaction.std(ddof=1) if len(c) > 1 else np.nan, _mwu(g.interaction, c.interaction)])
    return pd.DataFrame(rows, columns=cols).sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


def dfim_matrix(d: pd.DataFrame, motifs=None, value: str = "delta") -> dict[str, pd.DataFrame]:
    """Source-motif x target-motif matrices of the DFIM table: 'mean', 'sd' (across instances) and 'count'."""
    motifs = list(motifs) if motifs is not None else sorted(set(d.source_motif) | set(d.target_motif), key=str)
    g = d.groupby(["source_motif", "target_motif"])[value]
    out = {}
    for name, s in (("mean", g.mean()), ("sd", g.std(ddof=1)), ("count", g.size())):
        m = s.unstack().reindex(index=motifs, columns=motifs)
        out[name] = m.fillna(0).astype(int) if name == "count" else m
    return out


def dfim_summary(d: pd.DataFrame, control: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table per (source motif, target motif): n, mean/sd of delta and rel_delta, control mean/sd, p-value."""
    rows = []
    for (sm, tm), g in d.groupby(["source_motif", "target_motif"], sort=True):
        c = control[(control.source_motif == sm) & (control.target_motif == tm)] if control is not None and len(
            control) else d.iloc[:0]
        rows.append({"source_motif": sm, "target_motif": tm, "n": len(g), "delta_mean": g.delta.mean(),
                     "delta_sd": g.delta.std(ddof=1) if len(g) > 1 else np.nan, "scramble_sd": g.delta_sd.mean(),
                     "rel_delta_mean": g.rel_delta.mean(), "target_contrib_mean": g.target_contrib.mean(),
                     "control_n": len(c), "control_mean": c.delta.mean() if len(c) else np.nan,
                     "control_sd": c.delta.std(ddof=1) if len(c) > 1 else np.nan,
                     "p_vs_control": _mwu(g.delta, c.delta)})
    return pd.DataFrame(rows, columns=["source_motif", "target_motif", "n", "delta_mean", "delta_sd", "scramble_sd",
                                       "rel_delta_mean", "target_contrib_mean", "control_n", "control_mean",
                                       "control_sd", "p_vs_control"])


# ----------------------------------------------------------------------------- plots
def plot_matrices(path, panels: list[tuple[str, pd.DataFrame, pd.DataFrame | None]], cbar_label: str) -> None:
    """Side-by-side annotated heatmaps (shared symmetric colour scale). ``panels``: (title, mean, count)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vals = np.concatenate([np.asarray(m, float).ravel() for _, m, _ in panels]) if panels else np.zeros(1)
    vmax = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
    vmax = vmax or 1.0
    n = max(1, len(panels))
    k = max(len(m) for _, m, _ in panels) if panels else 1
    fig, axes = plt.subplots(1, n, figsize=(1.2 + n * (1.6 + 0.7 * k), 1.5 + 0.6 * k), squeeze=False)
    im = None
    for ax, (title, m, cnt) in zip(axes[0], panels):
        arr = np.asarray(m, float)
        im = ax.imshow(arr, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks(range(m.shape[1]), [str(c)[:18] for c in m.columns], rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(m.shape[0]), [str(c)[:18] for c in m.index], fontsize=7)
        ax.set_xlabel(m.columns.name or "target")
        ax.set_ylabel(m.index.name or "source")
        ax.set_title(title, fontsize=9)
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                if np.isfinite(arr[i, j]):
                    label = f"{arr[i, j]:.2g}" + (f"\nn={int(cnt.iloc[i, j])}" if cnt is not None else "")
                    ax.text(j, i, label, ha="center", va="center", fontsize=6)
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label=cbar_label)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def pair_matrix(summary: pd.DataFrame, value: str = "interaction_mean", motifs=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Symmetric motif x motif matrices (value, count) from :func:`summarize_pairs` output."""
    motifs = list(motifs) if motifs is not None else sorted(set(summary.motif_a) | set(summary.motif_b), key=str)
    m = pd.DataFrame(np.nan, index=motifs, columns=motifs)
    c = pd.DataFrame(0, index=motifs, columns=motifs)
    for r in summary.itertuples(index=False):
        if r.motif_a in m.index and r.motif_b in m.index:
            m.loc[r.motif_a, r.motif_b] = m.loc[r.motif_b, r.motif_a] = getattr(r, value)
            c.loc[r.motif_a, r.motif_b] = c.loc[r.motif_b, r.motif_a] = r.n
    m.index.name, m.columns.name = "motif", "motif"
    return m, c
