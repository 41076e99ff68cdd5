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
def predict_strands(model, x: np.ndarray, batch_size: int = 256, forward=None) -> np.ndarray:
    """(n, 2) logits (first task): column 0 forward input, column 1 reverse-complement input.

    Fewer than ``batch_size`` rows are padded (with all-N rows, dropped) to ``batch_size``, so every forward pass
    has the same batch shape whatever ``n`` is: a variant's numbers do not depend on how many are scored together
    (a batch of one can differ from larger ones in the last float32 bit). ``forward``: the model's compiled
    forward pass for task 0 and ``batch_size`` (:class:`seq2acc.model.predict.CompiledForward`, what
    :func:`~seq2acc.model.predict.predict_logits` runs), kept by a caller that scores many chunks so that no
    call traces the model again; None: :func:`~seq2acc.model.predict.predict_logits` (the same numbers)."""
    from seq2acc.model.predict import predict_logits

    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if 0 < n < batch_size:
        x = np.concatenate([x, np.zeros((batch_size - n,) + x.shape[1:], np.float32)])
    if forward is None:
        def forward(v):
            return predict_logits(model, v, 0, batch_size=batch_size)
    fwd = forward(x)
    rev = forward(np.ascontiguousarray(reverse_complement(x)))
    return np.stack([fwd, rev], axis=1).astype(np.float64)[:n]


def allele_table(r: np.ndarray, a: np.ndarray) -> pd.DataFrame:
    """The columns of :func:`score_alleles` from (n, 2) ref and alt logits (forward, reverse complement)."""
    return pd.DataFrame({"ref_logit": r.mean(1), "alt_logit": a.mean(1), "delta_fwd": a[:, 0] - r[:, 0],
                         "delta_rc": a[:, 1] - r[:, 1], "delta": (a - r).mean(1)})


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
    n = len(w.ref)
    ra = predict_strands(model, np.concatenate([w.ref, w.alt]), batch_size)
    return allele_table(ra[:n], ra[n:])


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


# ----------------------------------------------------------------------------- a table of variants, chunk by chunk
#: Columns of :func:`score_variants` (and of the ``variants`` stage's ``scores.tsv``), in order; the contribution
#: columns only with contributions.
SCORE_COLUMNS = ("id", "chrom", "pos", "ref", "alt", "ref_logit", "alt_logit", "ref_prob", "alt_prob", "delta",
                 "delta_fwd", "delta_rc", "delta_sd", "n_folds", "heldout_fold", "heldout_delta", "heldout_p",
                 "null_sd", "p_value", "q_value", "contrib_change", "contrib_ref_at_variant", "contrib_alt_at_variant",
                 "line")


def heldout_folds(folds, trained) -> dict[str, int]:
    """Chromosome -> the trained fold whose test chromosomes hold it (the model that never saw it).

    ``folds``: a ``folds.json`` path (``folds`` stage), its list of fold dicts (keys fold, test), a ready mapping
    chromosome -> fold, or None (no held-out fold: an empty mapping). ``trained``: the fold numbers scored."""
    if folds is None:
        return {}
    if isinstance(folds, dict):
        return {str(c): int(k) for c, k in folds.items() if int(k) in trained}
    if not isinstance(folds, (list, tuple)):
        from pathlib import Path

        from seq2acc.data.folds import load_folds

        if not Path(folds).exists():
            return {}
        folds = load_folds(folds)
    return {c: int(f["fold"]) for f in folds if int(f["fold"]) in trained for c in f["test"]}


@dataclass
class ChunkScores:
    """What :meth:`VariantScorer.score_chunk` returns for a chunk of ``n`` variants."""

    scores: pd.DataFrame  # one row per variant: the SCORE_COLUMNS but q_value (BH needs every p-value)
    folds: pd.DataFrame  # one row per (variant, fold): id, fold, ref_logit, alt_logit, delta, delta_fwd, delta_rc,
    #                      p_value, heldout (the fold's test chromosomes hold the variant)
    arrays: dict  # window_start, offset: (n,) int64; ref_onehot, alt_onehot[, ref_contrib, alt_contrib]:
    #               (n, 2 * flank + 1, 4) float32 around the variant (positions offset - flank .. offset + flank,
    #               clipped to the window)


class VariantScorer:
    """Scores chunks of variants with one or more fold models; memory ~ one chunk's windows.

    Per chunk: the ref/alt windows (:func:`variant_windows`), ``n_null`` dinucleotide-shuffled backgrounds with the
    same substitution (:func:`null_windows`, seeded by the variant's index in the whole set, so the chunk size does
    not change them), all scored by each fold model on both strands (:func:`predict_strands`, fixed batch shape),
    and optionally the fold-mean contributions of the ref and alt windows (the same DeepSHAP references for both,
    seeded by the variant's index). Memory of a chunk: ``chunk * (2 + 2 * n_null)`` windows of ``L x 4`` float32
    (twice, for the reverse complement), plus the contributions' references (deepshap: ``chunk * n_refs`` windows).

    Parameters
    ----------
    models : dict of int to keras.Model
        Fold number -> model (one input length ``L``; task 0 is scored).
    genome : Genome
        The reference genome.
    n_null : int
        Shuffled backgrounds per variant (>= 1).
    seed : int
        Seed of the backgrounds and DeepSHAP references.
    batch_size : int
        Model rows per call.
    contrib : bool
        Also compute contributions (columns contrib_change, contrib_ref_at_variant, contrib_alt_at_variant).
    method : {"deepshap", "grad_x_input", "ism"}
        Contribution method.
    n_refs : int
        DeepSHAP references per window.
    flank : int
        bp each side of the variant for contrib_change and the saved windows.
    heldout : dict of str to int, optional
        Chromosome -> held-out fold (:func:`heldout_folds`); columns heldout_* are -1 / NaN without one.
    """

    def __init__(self, models: dict, genome: Genome, n_null: int, seed: int, batch_size: int, contrib: bool,
                 method: str, n_refs: int, flank: int, heldout: dict | None = None):
        from seq2acc.errors import ArgumentError

        if not models:
            raise ArgumentError("model", "no model given", "give a model, a model.keras path or a list of them")
        lengths = {int(m.input_shape[1]) for m in models.values()}
        if len(lengths) != 1:
            raise ArgumentError("model", f"the models take different input lengths {sorted(lengths)}",
                                "score with models of one input length (one dataset.context)")
        if n_null < 1:
            raise ArgumentError("n_null", f"{n_null} shuffled backgrounds", "use at least 1")
        self.models = dict(models)
        self.folds = list(self.models)
        self.length = lengths.pop()
        self.genome, self.n_null, self.seed, self.batch_size = genome, int(n_null), int(seed), int(batch_size)
        self.contrib, self.method, self.n_refs, self.flank = bool(contrib), method, int(n_refs), int(flank)
        self.heldout = dict(heldout or {})
        from seq2acc.model.predict import CompiledForward, check_onehot

        for k, m in self.models.items():  # the input length and task 0 checked once, as predict_logits does
            check_onehot(m, np.zeros((1, self.length, 4), np.float32), 0)
        # one compiled forward pass per model for every chunk (a new one per call would trace the model again)
        self._forward = {k: CompiledForward(m, 0, self.batch_size) for k, m in self.models.items()}

    def contributions(self, w: VariantWindows, index_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """Fold-mean actual-base contributions (n, L, 4) float32 of the ref and of the alt windows of ``w`` (variant
        i is number ``index_offset + i`` of the whole set: its DeepSHAP references, shared by ref and alt)."""
        from seq2acc.interpret.attribution import contributions, shuffled_references

        n = len(w.ref)
        x = np.concatenate([w.ref, w.alt])
        refs = None
        if self.method == "deepshap":
            r = shuffled_references(w.ref, self.n_refs, self.seed, index_offset=index_offset)
            refs = np.concatenate([r, r])  # the same references for ref and alt: the difference is the variant's
        # a fixed call shape whatever the chunk size (pad with copies of the last row; their results are dropped)
        need = {"grad_x_input": self.batch_size, "deepshap": max(1, self.batch_size // (2 * self.n_refs))}.get(
            self.method, 1)
        if len(x) < need:
            x = np.concatenate([x, np.repeat(x[-1:], need - len(x), 0)])
            if refs is not None:
                refs = np.concatenate([refs, np.repeat(refs[-1:], need - len(refs), 0)])
        total = np.zeros((2 * n,) + x.shape[1:], np.float32)
        for k in self.folds:
            c = contributions(self.models[k], x, self.method, self.n_refs, self.seed, self.batch_size, refs=refs)[0]
            total += c[:2 * n] / len(self.folds)
        return total[:n], total[n:]

    def score_chunk(self, variants: pd.DataFrame, index_offset: int) -> ChunkScores:
        """Scores of a chunk of checked variants (columns as :func:`seq2acc.read_variants`), the first being number
        ``index_offset`` of the whole set (seeds; results do not depend on the chunking)."""
        from seq2acc.io.bigwig import sigmoid

        var = variants.reset_index(drop=True)
        n, L, K, nn = len(var), self.length, len(self.folds), self.n_null
        w = variant_windows(var, self.genome, L)
        nr, na = null_windows(var, w, nn, self.seed, L, index_offset=index_offset)
        x = np.concatenate([w.ref, w.alt, nr.reshape(-1, L, 4), na.reshape(-1, L, 4)])
        del nr, na
        ref_l, alt_l, d_fwd, d_rc, delta = (np.zeros((n, K)) for _ in range(5))
        null = np.zeros((n, K, nn))
        for j, k in enumerate(self.folds):
            lg = predict_strands(self.models[k], x, self.batch_size, self._forward[k])
            t = allele_table(lg[:n], lg[n:2 * n])
            ref_l[:, j], alt_l[:, j] = t.ref_logit, t.alt_logit
            d_fwd[:, j], d_rc[:, j], delta[:, j] = t.delta_fwd, t.delta_rc, t.delta
            null[:, j] = allele_table(lg[2 * n:2 * n + n * nn], lg[2 * n + n * nn:]).delta.to_numpy().reshape(n, nn)
        del x
        ens = delta.mean(1)
        heldout = np.array([self.heldout.get(c, -1) for c in var.chrom], dtype=np.int64)
        col = {k: j for j, k in enumerate(self.folds)}
        ho_idx = np.array([col.get(h, -1) for h in heldout], dtype=np.int64)
        p_fold = np.stack([empirical_pvalue(delta[:, j], null[:, j]) for j in range(K)], 1)

        def pick(a):
            return np.where(ho_idx >= 0, a[np.arange(n), np.maximum(ho_idx, 0)], np.nan)

        sc = var[["id", "chrom", "pos", "ref", "alt"]].copy()
        sc["ref_logit"], sc["alt_logit"] = ref_l.mean(1), alt_l.mean(1)
        sc["ref_prob"], sc["alt_prob"] = sigmoid(sc.ref_logit.to_numpy()), sigmoid(sc.alt_logit.to_numpy())
        sc["delta"], sc["delta_fwd"], sc["delta_rc"] = ens, d_fwd.mean(1), d_rc.mean(1)
        sc["delta_sd"] = delta.std(1, ddof=1) if K > 1 else np.nan
        sc["n_folds"] = K
        sc["heldout_fold"] = heldout
        sc["heldout_delta"], sc["heldout_p"] = pick(delta), pick(p_fold)
        sc["null_sd"] = null.mean(1).std(1)
        sc["p_value"] = empirical_pvalue(ens, null.mean(1))
        fl = self.flank
        idx = np.clip(w.offset[:, None] + np.arange(-fl, fl + 1)[None, :], 0, L - 1)[:, :, None]
        arrays = {"window_start": w.start, "offset": w.offset,
                  "ref_onehot": np.take_along_axis(w.ref, idx, 1).astype(np.float32),
                  "alt_onehot": np.take_along_axis(w.alt, idx, 1).astype(np.float32)}
        if self.contrib:
            cref, calt = self.contributions(w, index_offset)
            sc["contrib_change"] = contribution_change(cref, calt, w.offset, fl)[2]
            sc["contrib_ref_at_variant"] = cref.sum(-1)[np.arange(n), w.offset]
            sc["contrib_alt_at_variant"] = calt.sum(-1)[np.arange(n), w.offset]
            arrays["ref_contrib"] = np.take_along_axis(cref, idx, 1).astype(np.float32)
            arrays["alt_contrib"] = np.take_along_axis(calt, idx, 1).astype(np.float32)
        sc["line"] = var["line"].to_numpy()
        folds = np.asarray(self.folds, dtype=np.int64)
        fold_rows = pd.DataFrame({
            "id": np.repeat(var.id.to_numpy(), K), "fold": np.tile(folds, n),
            "ref_logit": ref_l.ravel(), "alt_logit": alt_l.ravel(), "delta": delta.ravel(),
            "delta_fwd": d_fwd.ravel(), "delta_rc": d_rc.ravel(), "p_value": p_fold.ravel(),
            "heldout": np.repeat(heldout, K) == np.tile(folds, n)})
        return ChunkScores(sc, fold_rows, arrays)


def _models(model) -> dict:
    """Fold -> keras.Model from a model, a model.keras path, a list of them (folds 0, 1, ...) or a dict."""
    from pathlib import Path

    from seq2acc.errors import ArgumentError
    from seq2acc.model.load import load_model

    def one(m):
        return load_model(m) if isinstance(m, (str, Path)) else m

    if isinstance(model, dict):
        return {int(k): one(m) for k, m in model.items()}
    if isinstance(model, (list, tuple)):
        return {k: one(m) for k, m in enumerate(model)}
    if isinstance(model, (str, Path)) or hasattr(model, "input_shape"):
        return {0: one(model)}
    raise ArgumentError("model", f"a {type(model).__name__} is not a model",
                        "give a keras.Model, a model.keras path, or a list/dict of them (fold models)")


def score_variants(variants, model, genome, *, folds=None, n_null: int = 100, seed: int = 1234, chunk: int = 32,
                   batch_size: int = 256, contrib: bool = True, method: str = "deepshap", n_refs: int = 20,
                   flank: int = 20, skip_unsupported: bool = False, progress: bool = True) -> pd.DataFrame:
    """Variant effects of a VCF/TSV file or a table of variants: ref vs alt logits, a shuffled-background p-value.

    The library form of the ``variants`` stage (``seq2acc score-variants``): the same numbers (the same
    :class:`VariantScorer`), returned as a table instead of files. Variants are read and scored ``chunk`` at a
    time, so memory holds one chunk's windows plus the result rows. A model of accessibility is not a model of
    variant effect (protocol note 24): rank hypotheses with ``delta`` and check ``p_value``/``q_value``.

    Parameters
    ----------
    variants : str, Path or pandas.DataFrame
        A VCF (``.vcf``/``.vcf.gz``) or TSV (chrom, pos, ref, alt[, id]) path (:func:`seq2acc.read_variants`), or a
        table with columns chrom, pos (**1-based**, as in VCF), ref, alt and optionally id. Every record is checked
        first (alleles, chromosome, position, REF against the genome): all bad ones at once in one error.
    model : keras.Model, str, Path, list or dict
        A model, a ``model.keras`` path, a list of them (fold models 0, 1, ...: the ensemble mean is scored and
        ``delta_sd`` is their spread) or a dict fold number -> model/path.
    genome : str, Path or Genome
        The reference genome FASTA (uncompressed, as the genome stage writes it) or a :class:`seq2acc.Genome`.
    folds : str, Path, list or dict, optional
        ``data/folds.json`` (or chromosome -> fold) to fill the held-out columns (:func:`heldout_folds`).
    n_null, seed, chunk, batch_size, contrib, method, n_refs, flank, skip_unsupported
        As params.yaml's ``variants`` section (and top-level ``seed``); the defaults are the shipped values.
    progress : bool, default True
        tqdm progress over chunks.

    Returns
    -------
    scores : pandas.DataFrame
        One row per scored variant, in input order, columns :data:`SCORE_COLUMNS` (the contribution columns only
        with ``contrib``): id (str), chrom (str), pos (int, 1-based), ref, alt (str); ref_logit, alt_logit (fold-mean
        logit, forward and reverse complement averaged) and ref_prob, alt_prob (their sigmoid); delta = alt_logit -
        ref_logit, delta_fwd / delta_rc (per strand); delta_sd (over folds, NaN for one model); n_folds;
        heldout_fold (the fold whose test chromosomes hold the variant, -1 if none), heldout_delta, heldout_p
        (that fold's delta and p, NaN without one); null_sd (sd of the shuffled-background deltas); p_value
        (two-sided empirical, against ``n_null`` backgrounds), q_value (Benjamini-Hochberg over all variants);
        contrib_change (sum of |alt - ref| contribution over +-``flank`` bp), contrib_ref_at_variant,
        contrib_alt_at_variant; line (the record's 1-based file line, or 1-based row of the table).

    Raises
    ------
    seq2acc.errors.InputError
        A bad record: unreadable/unsupported alleles, a chromosome not in the genome, a position off the
        chromosome, a REF that differs from the genome (naming the file, the line and the fix).
    seq2acc.errors.ArgumentError
        No model, models of different input lengths, a table without chrom/pos/ref/alt.
    """
    from tqdm.auto import tqdm

    from seq2acc.interpret.null import bh
    from seq2acc.io.vcf import iter_variants, scan_variants, variants_from_table

    genome = genome if isinstance(genome, Genome) else Genome(genome)
    models = _models(model)
    scorer = VariantScorer(models, genome, n_null, seed, batch_size, contrib, method, n_refs, flank,
                           heldout_folds(folds, set(models)))
    if isinstance(variants, pd.DataFrame):
        table = variants_from_table(variants, genome, skip_unsupported)
        n = len(table)
        chunks = (table.iloc[i:i + chunk] for i in range(0, n, chunk))
    else:
        n = scan_variants(variants, genome, skip_unsupported)
        chunks = iter_variants(variants, genome, chunk)
    parts, done = [], 0
    for part in tqdm(chunks, total=-(-n // chunk), desc="variants", unit="chunk", disable=not progress):
        parts.append(scorer.score_chunk(part, done).scores)
        done += len(part)
    scores = pd.concat(parts, ignore_index=True)
    scores.insert(scores.columns.get_loc("p_value") + 1, "q_value", bh(scores.p_value.to_numpy()))
    return scores


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
    fig.savefig(path, dpi=120, format="png")
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
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
