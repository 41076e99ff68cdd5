"""DVC stage ``variants`` (protocol note 24): score a VCF/TSV of variants with every fold model.

A model of accessibility is not a model of variant effect (note 24): read the numbers as hypotheses, compare
folds (``delta_sd``), the held-out fold (``heldout_delta``) and the shuffled-background p-value.

Outputs in ``variants/``:
- ``scores.tsv``: one row per variant: ref/alt logits and probabilities (fold-ensemble mean, forward and
  reverse-complement averaged), ``delta`` = alt - ref logit (``delta_fwd``/``delta_rc`` per strand), ``delta_sd``
  across folds, the held-out fold's delta (the fold whose test chromosomes hold the variant), the empirical
  p-value against the same substitution at ``variants.n_null`` dinucleotide-shuffled backgrounds (two-sided, on
  the ensemble mean), BH q-value, and ``contrib_change`` = sum over +-``variants.flank`` bp of
  |contribution(alt) - contribution(ref)| (fold-mean contributions);
- ``fold_scores.tsv``: the same per fold; ``contrib.h5``: ref/alt one-hot and contributions around each variant;
- ``volcano.png`` and ``plots/<rank>_<id>.png`` (contribution logos of the top variants); ``summary.json``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from seq2acc.io.atomic import atomic_path, write_json
from seq2acc.errors import ParamsError
from seq2acc.data.folds import load_folds
from seq2acc.io.fasta import Genome
from seq2acc.config import Params
from seq2acc.interpret.variants import (VariantWindows, contribution_change, empirical_pvalue, null_windows, plot_variant,
                                        plot_volcano, score_alleles, variant_windows)
from seq2acc.io.vcf import check_variants, read_variants
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.tables import read_table, write_tsv
from seq2acc.config import layout
from seq2acc.mlops import tracking
from seq2acc.model.load import load_model

log = logging.getLogger(__name__)


@dataclass
class VariantsConfig:
    input: Path
    skip_unsupported: bool
    n_null: int
    contrib: bool
    method: str
    n_refs: int
    flank: int
    top_plots: int
    alpha: float
    chunk: int
    batch_size: int
    seed: int
    out_dir: Path


def variants_config(p: Params) -> VariantsConfig:
    from seq2acc.interpret.attribution import METHODS

    g = p.get
    return VariantsConfig(
        input=Path(g("variants.input", str)),
        skip_unsupported=g("variants.skip_unsupported", bool),
        n_null=g("variants.n_null", int, ge=1),
        contrib=g("variants.contrib", bool),
        method=g("variants.method", str, choices=METHODS),
        n_refs=g("variants.n_refs", int, ge=1),
        flank=g("variants.flank", int, ge=0),
        top_plots=g("variants.top_plots", int, ge=0),
        alpha=g("variants.alpha", float, gt=0, lt=1),
        chunk=g("variants.chunk", int, ge=1),
        batch_size=g("variants.batch_size", int, ge=2),
        seed=g("seed", int),
        out_dir=Path(g("variants.out_dir", str)),
    )


def _sub(w: VariantWindows, sl: slice) -> VariantWindows:
    return VariantWindows(w.ref[sl], w.alt[sl], w.start[sl], w.offset[sl], w.context[sl])


def _flat(ref: np.ndarray, alt: np.ndarray) -> VariantWindows:
    r = ref.reshape((-1,) + ref.shape[-2:])
    a = alt.reshape((-1,) + alt.shape[-2:])
    z = np.zeros(len(r), dtype=np.int64)
    return VariantWindows(r, a, z, z, [])


def score_variants(p: Params) -> Path:
    """Stage body of ``variants``."""
    cfg = variants_config(p)
    t0 = time.perf_counter()
    lay = layout(p)
    genome = Genome(lay.genome)
    var = read_variants(cfg.input, cfg.skip_unsupported)
    var = check_variants(var, genome, cfg.input, cfg.skip_unsupported)
    folds = [int(k) for k in p.get("train.folds", list)]
    if not folds:
        raise ParamsError("train.folds", "is empty", "list the trained folds")
    models = {k: load_model(fold_model.model_path(lay.models, k)) for k in folds}
    lengths = {int(m.input_shape[1]) for m in models.values()}
    if len(lengths) != 1:
        raise ParamsError("dataset.context", f"fold models take different input lengths {sorted(lengths)}",
                          "retrain every fold with the same dataset.context")
    L = lengths.pop()
    n = len(var)
    log.info("%d variant(s) from %s; %d fold model(s), %d bp windows, %d shuffled backgrounds each", n, cfg.input,
             len(folds), L, cfg.n_null)
    w = variant_windows(var, genome, L)
    K = len(folds)
    ref_l, alt_l = np.zeros((n, K)), np.zeros((n, K))
    d_fwd, d_rc, delta = np.zeros((n, K)), np.zeros((n, K)), np.zeros((n, K))
    null = np.zeros((n, K, cfg.n_null))
    contrib_ref = np.zeros((n, L, 4), np.float32) if cfg.contrib else None
    contrib_alt = np.zeros((n, L, 4), np.float32) if cfg.contrib else None
    for s0 in tqdm(range(0, n, cfg.chunk), desc="variants", unit="chunk"):
        sl = slice(s0, min(n, s0 + cfg.chunk))
        wc = _sub(w, sl)
        nr, na = null_windows(var.iloc[sl], wc, cfg.n_null, cfg.seed, L, index_offset=s0)
        nw = _flat(nr, na)
        refs = None
        if cfg.contrib and cfg.method == "deepshap":
            from seq2acc.interpret.attribution import shuffled_references

            refs = shuffled_references(wc.ref, cfg.n_refs, cfg.seed, index_offset=s0)
        for j, k in enumerate(folds):
            sc = score_alleles(models[k], wc, cfg.batch_size)
            ref_l[sl, j], alt_l[sl, j] = sc.ref_logit, sc.alt_logit
            d_fwd[sl, j], d_rc[sl, j], delta[sl, j] = sc.delta_fwd, sc.delta_rc, sc.delta
            null[sl, j] = score_alleles(models[k], nw, cfg.batch_size).delta.to_numpy().reshape(-1, cfg.n_null)
            if cfg.contrib:
                from seq2acc.interpret.attribution import contributions

                # the same references for ref and alt: the difference is the variant's alone
                cr = contributions(models[k], wc.ref, cfg.method, cfg.n_refs, cfg.seed, cfg.batch_size, refs=refs)[0]
                ca = contributions(models[k], wc.alt, cfg.method, cfg.n_refs, cfg.seed, cfg.batch_size, refs=refs)[0]
                contrib_ref[sl] += cr / K
                contrib_alt[sl] += ca / K
    ens = delta.mean(1)
    p_ens = empirical_pvalue(ens, null.mean(1))
    from seq2acc.interpret.null import bh

    heldout = _heldout_fold(lay.folds, var.chrom, folds)
    col = {k: j for j, k in enumerate(folds)}
    ho_idx = np.array([col.get(h, -1) for h in heldout])
    pick = lambda a: np.where(ho_idx >= 0, a[np.arange(n), np.maximum(ho_idx, 0)], np.nan)  # noqa: E731
    p_fold = np.stack([empirical_pvalue(delta[:, j], null[:, j]) for j in range(K)], 1)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    scores = var[["id", "chrom", "pos", "ref", "alt"]].copy()
    scores["ref_logit"], scores["alt_logit"] = ref_l.mean(1), alt_l.mean(1)
    scores["ref_prob"], scores["alt_prob"] = sig(scores.ref_logit), sig(scores.alt_logit)
    scores["delta"], scores["delta_fwd"], scores["delta_rc"] = ens, d_fwd.mean(1), d_rc.mean(1)
    scores["delta_sd"] = delta.std(1, ddof=1) if K > 1 else np.nan
    scores["n_folds"] = K
    scores["heldout_fold"] = heldout
    scores["heldout_delta"], scores["heldout_p"] = pick(delta), pick(p_fold)
    scores["null_sd"] = null.mean(1).std(1)
    scores["p_value"] = p_ens
    scores["q_value"] = bh(p_ens)
    if cfg.contrib:
        rw, aw, tot = contribution_change(contrib_ref, contrib_alt, w.offset, cfg.flank)
        scores["contrib_change"] = tot
        scores["contrib_ref_at_variant"] = contrib_ref.sum(-1)[np.arange(n), w.offset]
        scores["contrib_alt_at_variant"] = contrib_alt.sum(-1)[np.arange(n), w.offset]
    scores["line"] = var["line"]
    fold_rows = pd.DataFrame({
        "id": np.repeat(var.id.to_numpy(), K), "fold": np.tile(folds, n),
        "ref_logit": ref_l.ravel(), "alt_logit": alt_l.ravel(), "delta": delta.ravel(), "delta_fwd": d_fwd.ravel(),
        "delta_rc": d_rc.ravel(), "p_value": p_fold.ravel(),
        "heldout": np.repeat(heldout, K) == np.tile(folds, n)})
    return _write(p, cfg, var, w, scores, fold_rows, contrib_ref, contrib_alt, time.perf_counter() - t0)


def _heldout_fold(folds_path: Path, chroms, trained: list[int]) -> np.ndarray:
    """Per variant: the trained fold whose test chromosomes contain it (-1 if none)."""
    test_of = {}
    if Path(folds_path).exists():
        for f in load_folds(folds_path):
            if f["fold"] in trained:
                for c in f["test"]:
                    test_of[c] = f["fold"]
    return np.array([test_of.get(c, -1) for c in chroms], dtype=np.int64)


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(s))[:60]


def _write(p, cfg, var, w, scores, fold_rows, cref, calt, seconds) -> Path:
    out = cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    write_tsv(scores, out / "scores.tsv", f"variants of {cfg.input} (1-based pos); fold-ensemble mean; a model of "
              "accessibility is not a model of variant effect (protocol note 24)")
    write_tsv(fold_rows, out / "fold_scores.tsv", "per fold; heldout = the fold's test chromosomes hold the variant")
    n, L = len(var), w.ref.shape[1]
    fl = cfg.flank
    with atomic_path(out / "contrib.h5", suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(flank=fl, method=cfg.method, n_refs=cfg.n_refs, input=str(cfg.input), length=L)
        idx = np.clip(w.offset[:, None] + np.arange(-fl, fl + 1)[None, :], 0, L - 1)
        f.create_dataset("id", data=var.id.astype(str).to_numpy().astype("S"))
        f.create_dataset("offset", data=w.offset)
        f.create_dataset("window_start", data=w.start)
        for name, arr in (("ref_onehot", w.ref), ("alt_onehot", w.alt)) + (
                (("ref_contrib", cref), ("alt_contrib", calt)) if cref is not None else ()):
            f.create_dataset(name, data=np.take_along_axis(arr, idx[:, :, None], 1).astype(np.float32))
    plot_volcano(out / "volcano.png", scores.delta.to_numpy(), scores.p_value.to_numpy(), scores.id.to_numpy(),
                 scores.q_value.to_numpy(), cfg.alpha, cfg.n_null)
    plots = out / "plots"
    with atomic_path(plots) as tmp:
        tmp.mkdir()
        if cref is not None:
            order = np.argsort(-np.abs(scores.delta.to_numpy()), kind="stable")[:cfg.top_plots]
            for rank, i in enumerate(order, start=1):
                r = scores.iloc[i]
                title = (f"#{rank} {r.id}  {r.chrom}:{r.pos} {r.ref}>{r.alt}  delta logit {r.delta:+.3f} "
                         f"(sd {r.delta_sd:.2f} over folds), p={r.p_value:.3g}  [{cfg.method}, fold mean]")
                plot_variant(tmp / f"{rank:02d}_{_safe(r.id)}.png", title, w.ref[i], w.alt[i], cref[i], calt[i],
                             int(w.offset[i]), max(fl, 10), len(r.ref))
    summary = {"input": str(cfg.input), "n_variants": int(n), "n_folds": int(scores.n_folds.iloc[0]) if n else 0,
               "n_null": cfg.n_null, "method": cfg.method if cfg.contrib else None,
               "n_significant": int((scores.q_value < cfg.alpha).sum()), "alpha": cfg.alpha,
               "mean_abs_delta": float(scores.delta.abs().mean()) if n else None,
               "max_abs_delta": float(scores.delta.abs().max()) if n else None,
               "top": scores.reindex(scores.delta.abs().sort_values(ascending=False).index).head(10)[
                   ["id", "delta", "delta_sd", "p_value", "q_value"]].to_dict("records"),
               "seconds": round(seconds, 1)}
    write_json(out / "summary.json", summary)
    log.info("variants: %d scored, %d with BH q < %g; max |delta| %.3f", n, summary["n_significant"], cfg.alpha,
             summary["max_abs_delta"] or 0)
    tracking.log_to_run(fold_model.run_id(layout(p).models, p.get("train.folds", list), parent=True),
                        {"variants.n_significant": summary["n_significant"],
                         "variants.max_abs_delta": summary["max_abs_delta"] or 0.0},
                        {"variants.input": str(cfg.input)},
                        [out / "scores.tsv", out / "volcano.png", out / "summary.json"], "variants")
    return out


def report_lines(p: Params, top: int = 5) -> list[str]:
    """Lines for ``seq2acc report``: the variants with the largest effects."""
    out = Path(p.get("variants.out_dir", str))
    if not (out / "scores.tsv").exists():
        return []
    s = read_table(out / "scores.tsv")
    lines = [f"== variant effects of {len(s)} variants ({out}/scores.tsv; accessibility model, not a variant-effect "
             f"model: note 24)"]
    for r in s.reindex(s.delta.abs().sort_values(ascending=False).index).head(top).itertuples(index=False):
        lines.append(f"  {str(r.id)[:28]:28s} {r.chrom}:{r.pos} {r.ref}>{r.alt}  delta logit {r.delta:+.3f} "
                     f"(sd {r.delta_sd:.3f} over folds) p={r.p_value:.2g} q={r.q_value:.2g}")
    return lines
