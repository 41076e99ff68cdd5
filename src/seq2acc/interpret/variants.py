"""Variant effects (protocol note 24): ref vs alt predictions, contribution changes and a shuffled-background null.

A model of accessibility is NOT a model of variant effect: it was trained to tell open from closed DNA, never
to rank alleles. Use these scores to prioritise hypotheses, read them across folds and methods, and check the
empirical p-value before trusting a single number.

Coordinates: variant positions are **1-based** as in VCF (``POS``): ``pos = 1`` is the first base of a
chromosome and ``pos = size`` its last. The reference allele must equal the genome at ``pos .. pos+len(ref)-1``.

Windows: the model input (length ``L``) is centred on the variant's first base (offset ``L // 2``) and shifted
inwards at chromosome ends, so it never leaves the chromosome (protocol note 8); a chromosome shorter than ``L``
is padded with N (all-zero one-hot). Ref and alt windows start at the same genomic base. Substitutions of any
length are scored in place; for indels the alt window is ``left flank + alt + right flank`` cut to ``L``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode
from seq2acc.seq.encoding import onehot_codes, reverse_complement

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- reading


# ----------------------------------------------------------------------------- checking against the genome


# ----------------------------------------------------------------------------- windows
@dataclass
class VariantWindows:
    """One-hot ref/alt model inputs of each variant, plus where the variant sits in them."""

    ref: np.ndarray  # (n, L, 4) float32
    alt: np.ndarray  # (n, L, 4) float32
    start: np.ndarray  # (n,) 0-based genomic start of the window
    offset: np.ndarray  # (n,) 0-based offset of the variant's first base in the window
    context: list  # per variant: uint8 codes of the window plus room for deletions (length L + extra)


def window_start(pos0: int, size: int, length: int) -> int:
    """0-based start of a length-``length`` window centred on 0-based ``pos0``, kept inside [0, size)."""
    return int(min(max(pos0 - length // 2, 0), max(size - length, 0)))


def build_alt(context: np.ndarray, offset: int, ref_len: int, alt_codes: np.ndarray, length: int) -> np.ndarray:
    """Alt window codes: context[:offset] + alt + context[offset+ref_len:], cut (or N-padded) to ``length``."""
    out = np.concatenate([context[:offset], alt_codes, context[offset + ref_len:]])[:length]
    if len(out) < length:
        out = np.concatenate([out, np.full(length - len(out), 4, dtype=np.uint8)])
    return out


def variant_windows(variants: pd.DataFrame, genome: Genome, length: int) -> VariantWindows:
    """Ref and alt one-hot windows of length ``length`` for every variant (see the module doc for placement).

    The window starts ``length // 2`` bases before the variant's first base (so ``offset = length // 2``),
    shifted inwards at chromosome ends; a chromosome shorter than ``length`` is padded with N. The alt window
    is ``left flank + alt + right flank`` cut to ``length``: substitutions stay in place, an insertion pushes
    the right flank out, a deletion pulls in bases from beyond the ref window (N past the chromosome end).

    Parameters
    ----------
    variants : pandas.DataFrame
        Columns chrom (str), pos (int, **1-based** as in VCF), ref, alt (A/C/G/T/N strings), e.g. from
        :func:`seq2acc.read_variants`. REF is not checked against the genome here: run
        :func:`seq2acc.io.vcf.check_variants` first.
    genome : Genome
        The reference genome (:class:`seq2acc.Genome`).
    length : int
        Window length ``L`` in bp (the model's input length).

    Returns
    -------
    VariantWindows
        Dataclass, one entry per variant row (in order): ``ref``, ``alt`` (ndarray, shape (n, L, 4), float32,
        A,C,G,T columns, N = all-zero row), ``start`` (ndarray, shape (n,), int64, 0-based genomic start of
        both windows), ``offset`` (ndarray, shape (n,), int64, 0-based offset of the variant's first base in
        the window: genomic 0-based position ``pos - 1 = start + offset``), ``context`` (list of uint8 code
        arrays of length ``L + max(0, len(ref) - len(alt))``: the ref window plus room for a deletion).

    Raises
    ------
    KeyError
        A variant's chromosome is not in the genome.
    """
    n = len(variants)
    ref = np.zeros((n, length), dtype=np.uint8)
    alt = np.zeros((n, length), dtype=np.uint8)
    starts = np.zeros(n, dtype=np.int64)
    offs = np.zeros(n, dtype=np.int64)
    contexts = []
    for i, r in enumerate(variants.itertuples(index=False)):
        size = genome.sizes[r.chrom]
        pos0 = int(r.pos) - 1
        s = window_start(pos0, size, length)
        extra = max(0, len(r.ref) - len(r.alt))
        ctx = genome.codes(r.chrom)[s:s + length + extra]
        if len(ctx) < length + extra:
            ctx = np.concatenate([ctx, np.full(length + extra - len(ctx), 4, dtype=np.uint8)])
        starts[i], offs[i] = s, pos0 - s
        ref[i] = ctx[:length]
        alt[i] = build_alt(ctx, pos0 - s, len(r.ref), encode(r.alt), length)
        contexts.append(ctx)
    return VariantWindows(onehot_codes(ref), onehot_codes(alt), starts, offs, contexts)


# ----------------------------------------------------------------------------- scoring
def predict_strands(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """(n, 2) logits (first task): column 0 forward input, column 1 reverse-complement input."""
    from seq2acc.model.predict import predict_logits

    x = np.asarray(x, dtype=np.float32)
    fwd = predict_logits(model, x, 0, batch_size=batch_size)
    rev = predict_logits(model, np.ascontiguousarray(reverse_complement(x)), 0, batch_size=batch_size)
    return np.stack([fwd, rev], axis=1).astype(np.float64)


def score_alleles(model, w: VariantWindows, batch_size: int = 256) -> pd.DataFrame:
    """Per variant: ref/alt logits (forward, reverse complement, mean) and their differences (alt - ref).

    A model of accessibility is not a model of variant effect: rank hypotheses with these numbers and check
    them against the shuffled-background null (:func:`null_windows`, :func:`empirical_pvalue`).

    Parameters
    ----------
    model : keras.Model
        A seq2acc model whose input length equals the windows' ``L``; only its first output (task 0) is scored.
    w : VariantWindows
        From :func:`variant_windows`.
    batch_size : int, default 256
        Rows per forward pass.

    Returns
    -------
    scores : pandas.DataFrame
        One row per variant, in the order of ``w`` (index 0..n-1, not the variants table's index), float64
        columns: ref_logit, alt_logit (mean of the forward and reverse-complement logits), delta_fwd,
        delta_rc (alt - ref on each strand) and delta (their mean = alt_logit - ref_logit). Logits, not
        probabilities.

    Raises
    ------
    seq2acc.errors.ArgumentError
        The windows' length differs from the model's input length.
    """
    r = predict_strands(model, w.ref, batch_size)
    a = predict_strands(model, w.alt, batch_size)
    return pd.DataFrame({"ref_logit": r.mean(1), "alt_logit": a.mean(1), "delta_fwd": a[:, 0] - r[:, 0],
                         "delta_rc": a[:, 1] - r[:, 1], "delta": (a - r).mean(1)})


def null_windows(variants: pd.DataFrame, w: VariantWindows, n_null: int, seed: int, length: int,
                 index_offset: int = 0):
    """The same substitutions at dinucleotide-shuffled backgrounds: (n, n_null, L, 4) ref and alt one-hot.

    Each variant's window context is dinucleotide-shuffled ``n_null`` times (seeded per variant); the REF allele
    is written back at the variant's offset and the alt window is built from that background exactly as for
    the real sequence, so only the background differs from the observed pair. Variant i's shuffles are seeded by
    ``(seed, index_offset + i)``: chunking a variant list does not change them.
    """
    from seq2acc.seq.shuffle import dinuc_shuffle

    n = len(variants)
    ref = np.zeros((n, n_null, length), dtype=np.uint8)
    alt = np.zeros((n, n_null, length), dtype=np.uint8)
    for i, r in enumerate(variants.itertuples(index=False)):
        ctx = w.context[i]
        off = int(w.offset[i])
        rc, ac = encode(r.ref), encode(r.alt)
        shuf = np.asarray(dinuc_shuffle(ctx, rng=_variant_seed(seed, index_offset + i), n=n_null), dtype=np.uint8).reshape(n_null, -1)
        for j in range(n_null):
            bg = shuf[j].copy()
            bg[off:off + len(rc)] = rc
            ref[i, j] = bg[:length]
            alt[i, j] = build_alt(bg, off, len(rc), ac, length)
    return onehot_codes(ref), onehot_codes(alt)


def _variant_seed(seed: int, i: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(i)]).generate_state(1)[0])


def empirical_pvalue(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Two-sided empirical p-value per row: (1 + #{|null| >= |obs|}) / (1 + n_null). ``null`` is (n, n_null)."""
    observed = np.asarray(observed, dtype=np.float64)
    null = np.asarray(null, dtype=np.float64)
    n_ge = (np.abs(null) >= np.abs(observed)[:, None] - 1e-12).sum(1)
    return (1.0 + n_ge) / (1.0 + null.shape[1])


# ----------------------------------------------------------------------------- contributions around the variant
def contribution_change(ref_contrib: np.ndarray, alt_contrib: np.ndarray, offset: np.ndarray, flank: int):
    """Windows of actual-base contributions (summed over bases) around each variant and their change.

    Returns (ref_win, alt_win, delta) of shape (n, 2*flank+1) for positions offset-flank .. offset+flank (NaN
    outside the sequence) and the per-variant summary ``sum |alt - ref|`` over that window.
    """
    ref_c = np.asarray(ref_contrib, dtype=np.float64)
    alt_c = np.asarray(alt_contrib, dtype=np.float64)
    if ref_c.ndim == 3:
        ref_c, alt_c = ref_c.sum(-1), alt_c.sum(-1)
    n, L = ref_c.shape
    idx = np.asarray(offset)[:, None] + np.arange(-flank, flank + 1)[None, :]
    ok = (idx >= 0) & (idx < L)
    safe = np.clip(idx, 0, L - 1)
    rw = np.where(ok, np.take_along_axis(ref_c, safe, 1), np.nan)
    aw = np.where(ok, np.take_along_axis(alt_c, safe, 1), np.nan)
    return rw, aw, np.nansum(np.abs(aw - rw), axis=1)


def plot_variant(path, title: str, ref_onehot, alt_onehot, ref_contrib, alt_contrib, offset: int, flank: int,
                 ref_len: int = 1) -> None:
    """Ref and alt contribution logos (logomaker) around one variant and their difference; PNG at ``path``.

    ``ref_contrib``/``alt_contrib``: actual-base contributions (L, 4) or per-position scores (L,)."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = len(ref_onehot)
    lo, hi = max(0, offset - flank), min(L, offset + flank + 1)
    pos = np.arange(lo, hi) - offset
    r, a = np.asarray(ref_contrib, float)[lo:hi], np.asarray(alt_contrib, float)[lo:hi]
    if r.ndim == 1:  # per-position scores: drawn as the letter of the base present
        r = np.asarray(ref_onehot)[lo:hi] * r[:, None]
        a = np.asarray(alt_onehot)[lo:hi] * a[:, None]
    fig, axes = plt.subplots(3, 1, figsize=(max(6, 0.25 * len(pos)), 6), sharex=True)
    lim = [min(r.sum(1).min(), a.sum(1).min(), 0), max(r.sum(1).max(), a.sum(1).max(), 0)]
    for ax, m, name in ((axes[0], r, "ref"), (axes[1], a, "alt")):
        with warnings.catch_warnings():  # all-zero logos (no contribution) warn about singular limits
            warnings.simplefilter("ignore")
            logomaker.Logo(pd.DataFrame(m, columns=list("ACGT"), index=pos), ax=ax)
        ax.set_ylabel(f"{name}\ncontribution")
        ax.set_ylim(lim[0] * 1.1 - 1e-9, lim[1] * 1.1 + 1e-9)
        ax.axvspan(-0.5, ref_len - 0.5, color="orange", alpha=0.15)
    axes[2].bar(pos, a.sum(1) - r.sum(1), color=np.where(a.sum(1) - r.sum(1) >= 0, "tab:red", "tab:blue"))
    axes[2].axvspan(-0.5, ref_len - 0.5, color="orange", alpha=0.15)
    axes[2].set_ylabel("alt - ref")
    axes[2].set_xlabel("position relative to the variant (bp)")
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_volcano(path, delta: np.ndarray, pvalue: np.ndarray, labels, qvalue=None, alpha: float = 0.05,
                 n_null: int | None = None, top: int = 5) -> None:
    """Ensemble effect (alt - ref logit) vs -log10 empirical p-value; q < ``alpha`` in red, top variants labelled,
    the smallest attainable p (1 / (n_null + 1)) drawn as a dotted line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    delta, pvalue = np.asarray(delta, float), np.asarray(pvalue, float)
    sig = np.zeros(len(delta), bool) if qvalue is None else np.asarray(qvalue, float) < alpha
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    y = -np.log10(pvalue)
    ax.scatter(delta[~sig], y[~sig], s=14, alpha=0.7, color="tab:blue", label="not significant")
    ax.scatter(delta[sig], y[sig], s=14, alpha=0.8, color="tab:red", label=f"BH q < {alpha}")
    for rank, i in enumerate(np.argsort(-np.abs(delta), kind="stable")[:top]):
        ax.annotate(str(labels[i])[:30], (delta[i], y[i]), xytext=(4, -10 * rank - 4), textcoords="offset points",
                    fontsize=6, arrowprops={"arrowstyle": "-", "lw": 0.3})
    if n_null:
        ax.axhline(np.log10(n_null + 1), color="grey", ls=":", lw=0.8)
        ax.text(ax.get_xlim()[0], np.log10(n_null + 1), f" smallest p with {n_null} backgrounds", fontsize=6,
                va="bottom", color="grey")
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("alt - ref logit (fold-ensemble mean, fwd/rc averaged)")
    ax.set_ylabel("-log10 empirical p (shuffled backgrounds)")
    ax.set_title("Variant effects (a model of accessibility, not of variant effect)", fontsize=9)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
