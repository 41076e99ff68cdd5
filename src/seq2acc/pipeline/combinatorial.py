"""DVC stage ``combinatorial`` (protocol 3.4 step 4, note 28): motif scrambling and DFIM on the top motifs.

Sites (``combinatorial.sites``):
- ``modisco`` (default): seqlets of the top positive TF-MoDISco patterns of the fold ensemble
  (``modisco/ensemble/modisco.h5``), cut to each pattern's core, labelled with the pattern's best JASPAR match
  (``patterns.tsv``). Each sequence of ``attribution/ensemble/contrib.h5`` is analysed with the model(s) that
  scored it there: the fold that held it out, or the mean over every fold for regions all folds scored.
- ``scan``: the motif-scan hits of each fold's sequences (``motifs/folds/fold<K>/contrib_hits.tsv``: PWM hits
  the contribution scores and the sequence both support, note 27), analysed with fold K's model.

Outputs in ``combinatorial/`` (TSVs BED-like where they carry genome coordinates):
``sites.tsv`` (sites and their random-position controls), ``site_effects.tsv``, ``pairs.tsv`` (one row per site
pair and sequence), ``pair_summary.tsv`` (per motif pair: interaction mean, spread across sequences and across
scrambles, controls, Mann-Whitney p), ``dfim.tsv`` / ``dfim_summary.tsv`` (source x target), heatmaps
``interaction_heatmap.png`` and ``dfim_heatmap.png`` (motif sites next to controls), ``summary.json`` (metrics).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from seq2acc.io.atomic import write_json
from seq2acc.interpret.combinatorial import (control_sites, dfim, dfim_matrix, dfim_summary, normalize_sites, pair_matrix,
                             plot_matrices, scramble_interactions, summarize_pairs, summarize_sites)
from seq2acc.errors import InputError, ParamsError, Seq2AccError
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.tables import read_table, write_tsv
from seq2acc.config import layout
from seq2acc.mlops import tracking
from seq2acc.model.load import load_model

log = logging.getLogger(__name__)

SITE_SOURCES = ("modisco", "scan")


@dataclass
class CombinatorialConfig:
    sites: str
    top_motifs: int
    motifs: list | None
    scan_hits: str
    max_sites_per_seq: int
    max_sequences: int
    n_scrambles: int
    dfim: bool
    dfim_scrambles: int
    controls: bool
    method: str
    n_refs: int
    rc_average: bool
    batch_size: int
    trim_threshold: float
    seed: int
    out_dir: Path


def combinatorial_config(p: Params) -> CombinatorialConfig:
    g = p.get
    from seq2acc.interpret.attribution import METHODS

    motifs = p.raw("combinatorial.motifs")
    if motifs is not None and not isinstance(motifs, list):
        raise ParamsError("combinatorial.motifs", "must be a list of motif labels or null", "e.g. [REB1, TBF1]")
    return CombinatorialConfig(
        sites=g("combinatorial.sites", str, choices=SITE_SOURCES),
        top_motifs=g("combinatorial.top_motifs", int, ge=1),
        motifs=[str(m) for m in motifs] if motifs else None,
        scan_hits=g("combinatorial.scan_hits", str, choices=("contrib_hits", "hits")),
        max_sites_per_seq=g("combinatorial.max_sites_per_seq", int, ge=1),
        max_sequences=g("combinatorial.max_sequences", int, ge=1),
        n_scrambles=g("combinatorial.n_scrambles", int, ge=1),
        dfim=g("combinatorial.dfim", bool),
        dfim_scrambles=g("combinatorial.dfim_scrambles", int, ge=1),
        controls=g("combinatorial.controls", bool),
        method=g("combinatorial.method", str, choices=METHODS),
        n_refs=g("combinatorial.n_refs", int, ge=1),
        rc_average=g("combinatorial.rc_average", bool),
        batch_size=g("combinatorial.batch_size", int, ge=2),
        trim_threshold=g("modisco.trim_threshold", float, gt=0, lt=1),
        seed=g("seed", int),
        out_dir=Path(g("combinatorial.out_dir", str)),
    )


# ----------------------------------------------------------------------------- sites
@dataclass
class Unit:
    """Sequences analysed with the same model(s)."""

    folds: list  # fold models (their mean logit / contributions)
    onehot: np.ndarray  # (m, L, 4)
    regions: pd.DataFrame  # chrom, start of each sequence (genome window start)
    sites: pd.DataFrame  # seq (0..m-1), start, end, motif, score, ...
    name: str


def _read_set(path: Path) -> tuple[np.ndarray, pd.DataFrame]:
    if not path.exists():
        raise InputError(path, "attribution file missing", "run `dvc repro attribute attribute_ensemble`")
    with h5py.File(path, "r") as f:
        x = f["input_seqs"][:].astype(np.float32)
        g = f["regions"]
        reg = pd.DataFrame({"chrom": [c.decode() for c in g["chrom"][:]], "start": g["start"][:],
                            "source_fold": g["source_fold"][:]})
    return x, reg


def _choose(labels_by_count: pd.Series, cfg: CombinatorialConfig, what: str) -> list:
    if cfg.motifs:
        missing = [m for m in cfg.motifs if m not in labels_by_count.index]
        if missing:
            raise ParamsError("combinatorial.motifs", f"{missing} not among the {what} motifs "
                              f"({', '.join(map(str, labels_by_count.index[:20]))})", "use labels from that list")
        return list(cfg.motifs)
    return list(labels_by_count.index[:cfg.top_motifs])


def motif_of_pattern(table: pd.DataFrame) -> list[str]:
    """The motif each TF-MoDISco pattern stands for: patterns whose labels differ only by the suffix that makes
    duplicate JASPAR matches unique (``RAP1`` and ``RAP1_pos1``) are one motif, so their seqlets are analysed
    together instead of as two motifs."""
    import re

    out = []
    for lab in table.label.astype(str):
        m = re.fullmatch(r"(.+)_(pos|neg)\d+", lab)
        out.append(m.group(1) if m and m.group(1) in set(table.label.astype(str)) else lab)
    return out


def modisco_units(p: Params, cfg: CombinatorialConfig) -> list[Unit]:
    from seq2acc.interpret.modisco import seqlet_sites

    mdir = layout(p).modisco / "ensemble"
    table_path = mdir / "patterns.tsv"
    if not table_path.exists():
        raise InputError(table_path, "TF-MoDISco results missing", "run `dvc repro modisco_ensemble`")
    table = read_table(table_path)
    table = table[table.sign == "+"]
    if table.empty:
        raise Seq2AccError(f"{table_path}: TF-MoDISco found no positive pattern, so there are no motif sites; "
                           "fix: set combinatorial.sites: scan, or give modisco more sequences")
    table = table.assign(motif=motif_of_pattern(table))
    counts = table.groupby("motif", sort=False).n_seqlets.sum().sort_values(ascending=False, kind="stable")
    chosen = _choose(counts, cfg, "TF-MoDISco pattern")
    pats = table[table.motif.isin(chosen)]
    sites = seqlet_sites(mdir / "modisco.h5", dict(zip(pats.pattern, pats.motif)), set(pats.pattern),
                         cfg.trim_threshold)
    x, reg = _read_set(layout(p).attribution / "ensemble" / "contrib.h5")
    folds = p.get("train.folds", list)
    units = []
    for src, idx in reg.groupby("source_fold").indices.items():
        use = [int(src)] if src >= 0 else folds
        units.append(_unit(x, reg, sites, idx, use, f"held out by fold {src}" if src >= 0 else "all folds"))
    return [u for u in units if u is not None]


def scan_units(p: Params, cfg: CombinatorialConfig) -> list[Unit]:
    mroot = layout(p).motifs
    aroot = layout(p).attribution
    per_fold = {}
    for k in p.get("train.folds", list):
        hp = mroot / "folds" / f"fold{k}" / f"{cfg.scan_hits}.tsv"
        if not hp.exists():
            raise InputError(hp, "motif scan hits missing", "run `dvc repro motif_scan`")
        hits = read_table(hp)
        if "set" in hits.columns:
            hits = hits[hits["set"] == "positive"]
        x, reg = _read_set(aroot / "folds" / f"fold{k}" / "contrib.h5")
        seq = hits["seq"].to_numpy(np.int64)
        s = pd.DataFrame({"seq": seq, "start": hits.start.to_numpy() - reg.start.to_numpy()[seq],
                          "motif": hits.motif_name.astype(str).to_numpy(),
                          "score": hits.score.to_numpy(float) if "score" in hits else 0.0,
                          "strand": hits.strand.to_numpy() if "strand" in hits else "."})
        s["end"] = s.start + (hits.end - hits.start).to_numpy()
        per_fold[k] = (x, reg, s)
    allsites = pd.concat([v[2] for v in per_fold.values()], ignore_index=True)
    if allsites.empty:
        raise Seq2AccError("combinatorial: the motif scan found no hits in the sequences of interest; fix: lower "
                           "motif_scan.pvalue or use combinatorial.sites: modisco")
    counts = allsites.groupby("motif").size().sort_values(ascending=False, kind="stable")
    chosen = _choose(counts, cfg, "scanned JASPAR")
    units = []
    for k, (x, reg, s) in per_fold.items():
        s = s[s.motif.isin(chosen)]
        units.append(_unit(x, reg, s, np.arange(len(x)), [k], f"fold {k}"))
    return [u for u in units if u is not None]


def _unit(x, reg, sites, idx, folds, name) -> Unit | None:
    idx = np.asarray(idx)
    sub = sites[sites.seq.isin(idx)]
    if sub.empty:
        return None
    keep = np.sort(sub.seq.unique())
    remap = pd.Series(np.arange(len(keep)), index=keep)
    sub = sub.assign(seq=remap[sub.seq.to_numpy()].to_numpy())
    return Unit(list(folds), x[keep], reg.iloc[keep].reset_index(drop=True), sub.reset_index(drop=True), name)


def _dedupe(u: Unit) -> Unit:
    """Each genomic site once: overlapping input windows (the genome-wide grid strides 50 bp) see the same sites.
    Sequences are taken greedily (most sites first, then genome order); a sequence is dropped when any of its
    sites overlaps a site of a sequence already taken, so instances are not counted twice."""
    s = u.sites
    gs = u.regions.start.to_numpy()[s.seq] + s.start.to_numpy()
    ge = u.regions.start.to_numpy()[s.seq] + s.end.to_numpy()
    chrom = u.regions.chrom.to_numpy()[s.seq]
    per = s.groupby("seq").size()
    order = sorted(per.index, key=lambda q: (-per[q], q))
    rows = {q: np.flatnonzero(s.seq.to_numpy() == q) for q in order}
    used: dict[str, set] = {}
    keep = []
    for q in order:
        spans = [(chrom[i], gs[i], ge[i]) for i in rows[q]]
        if any(pos in used.get(c, ()) for c, a, b in spans for pos in range(a, b)):
            continue
        for c, a, b in spans:
            used.setdefault(c, set()).update(range(a, b))
        keep.append(q)
    if len(keep) < len(order):
        log.info("%s: %d of %d sequences kept (the others repeat sites of overlapping windows)", u.name, len(keep),
                 len(order))
    return _unit(u.onehot, u.regions, s, np.sort(keep), u.folds, u.name)


def _cap(units: list[Unit], cfg: CombinatorialConfig) -> list[Unit]:
    """At most ``max_sequences`` sequences in all, preferring sequences with >= 2 sites (pairs), seeded."""
    rng = np.random.default_rng([cfg.seed, 11])
    out = []
    for i, u in enumerate(units):
        u.sites = normalize_sites(u.sites, u.onehot.shape[1], cfg.max_sites_per_seq)
        units[i] = u = _dedupe(u)
        u.sites = normalize_sites(u.sites, u.onehot.shape[1], cfg.max_sites_per_seq)
    total = sum(u.sites.seq.nunique() for u in units)
    for u in units:
        n_u = u.sites.seq.nunique()
        quota = n_u if total <= cfg.max_sequences else max(1, int(round(cfg.max_sequences * n_u / total)))
        per = u.sites.groupby("seq").size()
        multi, single = np.array(per.index[per >= 2]), np.array(per.index[per < 2])
        pick = np.concatenate([rng.permutation(multi), rng.permutation(single)])[:quota]
        pick = np.sort(pick)
        s = u.sites[u.sites.seq.isin(pick)]
        remap = pd.Series(np.arange(len(pick)), index=pick)
        s = s.assign(seq=remap[s.seq.to_numpy()].to_numpy())
        out.append(Unit(u.folds, u.onehot[pick], u.regions.iloc[pick].reset_index(drop=True),
                        normalize_sites(s, u.onehot.shape[1], cfg.max_sites_per_seq), u.name))
    return out


# ----------------------------------------------------------------------------- model functions
def _predict_fn(models: list, rc_average: bool, batch_size: int):
    from seq2acc.model.predict import predict_logits

    def fn(x):
        return np.mean([predict_logits(m, x, 0, rc_average=rc_average, batch_size=batch_size) for m in models], 0)

    return fn


def _contrib_fn(models: list, onehot: np.ndarray, cfg: CombinatorialConfig):
    """Actual-base contributions averaged over ``models``; DeepSHAP references are the dinucleotide shuffles of
    the *original* sequence for the original and every scrambled copy, so only the scramble differs."""
    from seq2acc.interpret.attribution import contributions, shuffled_references

    cache: dict[int, np.ndarray] = {}

    def refs_of(seqs):
        for s in set(seqs.tolist()):
            if s not in cache:
                cache[s] = shuffled_references(onehot[s:s + 1], cfg.n_refs, cfg.seed, index_offset=s)[0]
        return np.stack([cache[s] for s in seqs])

    def fn(x, seqs):
        refs = refs_of(seqs) if cfg.method == "deepshap" else None
        return np.mean([contributions(m, x, cfg.method, cfg.n_refs, cfg.seed, cfg.batch_size, refs=refs)[0]
                        for m in models], 0)

    return fn


# ----------------------------------------------------------------------------- stage
def combinatorial(p: Params) -> Path:
    """Stage body of ``combinatorial``."""
    cfg = combinatorial_config(p)
    t0 = time.perf_counter()
    units = modisco_units(p, cfg) if cfg.sites == "modisco" else scan_units(p, cfg)
    if not units:
        raise Seq2AccError("combinatorial: no sequence has a site of the chosen motifs; fix: raise "
                           "combinatorial.top_motifs or list combinatorial.motifs")
    units = _cap(units, cfg)
    models = {}
    res = {k: [] for k in ("sites", "eff", "pairs", "dfim", "c_sites", "c_eff", "c_pairs", "c_dfim")}
    for u in units:
        for k in u.folds:
            if k not in models:
                models[k] = load_model(fold_model.model_path(layout(p).models, k))
        ms = [models[k] for k in u.folds]
        L = u.onehot.shape[1]
        sets = [("", u.sites)]
        if cfg.controls:
            sets.append(("c_", control_sites(u.sites, L, seed=cfg.seed + 1)))
        log.info("%s: %d sequences, %d sites (%s), models of fold(s) %s", u.name, len(u.onehot), len(u.sites),
                 ", ".join(f"{m}:{n}" for m, n in u.sites.motif.value_counts().items()), u.folds)
        for pre, s in sets:
            eff, pairs = scramble_interactions(_predict_fn(ms, cfg.rc_average, cfg.batch_size), u.onehot, s,
                                               cfg.n_scrambles, cfg.seed, cfg.batch_size, progress=True)
            genomic = s.assign(chrom=u.regions.chrom.to_numpy()[s.seq], g_start=u.regions.start.to_numpy()[s.seq]
                               + s.start, g_end=u.regions.start.to_numpy()[s.seq] + s.end, unit=u.name)
            res[pre + "sites"].append(genomic)
            tag = dict(unit=u.name, chrom=u.regions.chrom.to_numpy()[eff.seq] if len(eff) else [])
            res[pre + "eff"].append(eff.assign(**tag))
            res[pre + "pairs"].append(pairs.assign(unit=u.name))
            if cfg.dfim:
                d = dfim(_contrib_fn(ms, u.onehot, cfg), u.onehot, s, cfg.dfim_scrambles, cfg.seed,
                         cfg.batch_size, progress=True, pass_seq=True)
                res[pre + "dfim"].append(d.assign(unit=u.name))
    cat = {k: (pd.concat(v, ignore_index=True) if v else pd.DataFrame()) for k, v in res.items()}
    return _write(p, cfg, cat, time.perf_counter() - t0)


def _write(p: Params, cfg: CombinatorialConfig, r: dict, seconds: float) -> Path:
    out = cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    ctl = cfg.controls
    sites = pd.concat([r["sites"].assign(kind="motif"), r["c_sites"].assign(kind="control")] if ctl else
                      [r["sites"].assign(kind="motif")], ignore_index=True)
    bed = pd.DataFrame({"chrom": sites.chrom, "start": sites.g_start, "end": sites.g_end, "name": sites.motif,
                        "score": 0, "strand": sites.get("strand", pd.Series(".", index=sites.index)).fillna("."),
                        "kind": sites.kind, "unit": sites.unit, "seq": sites.seq, "site": sites.site,
                        "seq_start": sites.start, "seq_end": sites.end})
    write_tsv(bed, out / "sites.tsv", "motif sites and random-position controls (0-based half-open genome "
              "coordinates); seq/site index the rows of the other tables within each unit", bed=True)
    eff = pd.concat([r["eff"].assign(kind="motif"), r["c_eff"].assign(kind="control")] if ctl else
                    [r["eff"].assign(kind="motif")], ignore_index=True)
    write_tsv(eff, out / "site_effects.tsv", "scrambling one site: effect = mean over scrambles of "
              "logit(scrambled) - logit(original)")
    pairs = pd.concat([r["pairs"].assign(kind="motif"), r["c_pairs"].assign(kind="control")] if ctl else
                      [r["pairs"].assign(kind="motif")], ignore_index=True)
    write_tsv(pairs, out / "pairs.tsv", "interaction = effect(both) - effect(A) - effect(B), mean and sd over "
              "scrambles")
    ssum = summarize_sites(r["eff"], r["c_eff"] if ctl else None)
    psum = summarize_pairs(r["pairs"], r["c_pairs"] if ctl else None)
    write_tsv(ssum, out / "site_summary.tsv", "per motif: scrambling effect on the logit; control = random "
              "sites of equal length in the same sequences")
    write_tsv(psum, out / "pair_summary.tsv", "per motif pair: interaction (logit) mean, sd across instances, "
              "sem, mean sd across scrambles; controls; Mann-Whitney p (motif vs control instances)")
    motifs = sorted(set(r["sites"].motif), key=str) if len(r["sites"]) else []
    m, c = pair_matrix(psum, "interaction_mean", motifs)
    panels = [("motif pairs: interaction (logit)", m, c)]
    if ctl and len(psum):
        cm, cc = pair_matrix(psum.assign(interaction_mean=psum.control_mean, n=psum.control_n),
                             "interaction_mean", motifs)
        panels.append(("random-position controls", cm, cc))
    plot_matrices(out / "interaction_heatmap.png", panels, "effect(A+B) - effect(A) - effect(B)")
    dsum = pd.DataFrame()
    if cfg.dfim:
        d = pd.concat([r["dfim"].assign(kind="motif"), r["c_dfim"].assign(kind="control")] if ctl else
                      [r["dfim"].assign(kind="motif")], ignore_index=True)
        write_tsv(d, out / "dfim.tsv", "DFIM: delta = contribution of the target site (original) - with the "
                  "source scrambled, mean/sd over scrambles")
        dsum = dfim_summary(r["dfim"], r["c_dfim"] if ctl else None) if len(r["dfim"]) else dsum
        write_tsv(dsum, out / "dfim_summary.tsv", "DFIM per (source motif, target motif): mean/sd of delta over "
                  "instances, controls, Mann-Whitney p")
        if len(r["dfim"]):
            mats = dfim_matrix(r["dfim"], motifs)
            mats["mean"].index.name, mats["mean"].columns.name = "source (scrambled)", "target"
            panels = [("DFIM: change of target contribution", mats["mean"], mats["count"])]
            if ctl and len(r["c_dfim"]):
                cm = dfim_matrix(r["c_dfim"], motifs)
                cm["mean"].index.name, cm["mean"].columns.name = "source (scrambled)", "target"
                panels.append(("random-position controls", cm["mean"], cm["count"]))
            plot_matrices(out / "dfim_heatmap.png", panels, "contribution(target) original - source scrambled")
        else:
            plot_matrices(out / "dfim_heatmap.png", [], "no pair of sites in one sequence")
    summary = {"sites_source": cfg.sites, "motifs": motifs, "n_sequences": int(sum(
        g.seq.nunique() for _, g in r["sites"].groupby("unit"))) if len(r["sites"]) else 0,
        "n_sites": int(len(r["sites"])), "n_pairs": int(len(r["pairs"])), "n_scrambles": cfg.n_scrambles,
        "method": cfg.method, "seconds": round(seconds, 1),
        "site_effect": {row.motif: {"mean": _f(row.effect_mean), "control_mean": _f(row.control_mean),
                                    "n": int(row.n)} for row in ssum.itertuples()},
        "pair_interaction": {f"{row.motif_a}+{row.motif_b}": {
            "mean": _f(row.interaction_mean), "sd": _f(row.interaction_sd), "n": int(row.n),
            "control_mean": _f(row.control_mean), "control_sd": _f(row.control_sd), "p_vs_control": _f(row.p_vs_control)}
            for row in psum.itertuples()},
        "dfim": {f"{row.source_motif}->{row.target_motif}": {
            "mean": _f(row.delta_mean), "n": int(row.n), "control_mean": _f(row.control_mean),
            "p_vs_control": _f(row.p_vs_control)} for row in dsum.itertuples()} if len(dsum) else {}}
    write_json(out / "summary.json", summary)
    log.info("combinatorial: %d sites in %d sequences, %d pairs; motifs %s (%.0f s)", summary["n_sites"],
             summary["n_sequences"], summary["n_pairs"], motifs, seconds)
    metrics = {f"comb.effect.{k}": v["mean"] for k, v in summary["site_effect"].items() if v["mean"] is not None}
    metrics.update({f"comb.interaction.{k}": v["mean"] for k, v in summary["pair_interaction"].items()
                    if v["mean"] is not None})
    tracking.log_to_run(fold_model.run_id(layout(p).models, p.get("train.folds", list), parent=True),
                        {_mlflow_key(k): v for k, v in metrics.items()}, {"comb.sites": cfg.sites},
                        [out / f for f in ("site_summary.tsv", "pair_summary.tsv", "dfim_summary.tsv", "summary.json",
                                           "interaction_heatmap.png", "dfim_heatmap.png")], "combinatorial")
    return out


def _f(v):
    return None if v is None or not np.isfinite(v) else float(v)


def _num(v, fmt: str) -> str:
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def _sd(sd, n) -> str:
    """'sd 0.123, n=7', or 'n=1: no sd' where there are too few instances for a spread."""
    return f"sd {sd:.3f}, n={int(n)}" if np.isfinite(sd) else f"n={int(n)}: too few for an sd"


def _p(p, n) -> str:
    return f"p={p:.2g}" if np.isfinite(p) else f"no test (n={int(n)})"


def _mlflow_key(k: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", k)


def report_lines(p: Params, top: int = 6) -> list[str]:
    """Lines for ``seq2acc report``: motif pair interactions and DFIM with their controls."""
    out = layout(p).combinatorial
    if not (out / "pair_summary.tsv").exists():
        return []
    lines = [f"== combinatorial logic ({out}/interaction_heatmap.png, dfim_heatmap.png)"]
    if (out / "site_summary.tsv").exists():
        for r in read_table(out / "site_summary.tsv").head(top).itertuples(index=False):
            lines.append(f"  scramble {r.motif} alone: effect {r.effect_mean:+.3f} ({_sd(r.effect_sd, r.n)}) "
                         f"vs control {_num(r.control_mean, '+.3f')}; {_p(r.p_vs_control, r.n)}")
    ps = read_table(out / "pair_summary.tsv")
    for r in ps.head(top).itertuples(index=False):
        lines.append(f"  scramble {r.motif_a}+{r.motif_b}: interaction {r.interaction_mean:+.3f} "
                     f"({_sd(r.interaction_sd, r.n)}) vs control {_num(r.control_mean, '+.3f')}; "
                     f"{_p(r.p_vs_control, r.n)}")
    if (out / "dfim_summary.tsv").exists():
        ds = read_table(out / "dfim_summary.tsv")
        for r in ds.sort_values("n", ascending=False).head(top).itertuples(index=False):
            lines.append(f"  DFIM {r.source_motif} -> {r.target_motif}: delta {r.delta_mean:+.4f} (n={int(r.n)}) vs "
                         f"control {_num(r.control_mean, '+.4f')}; {_p(r.p_vs_control, r.n)}")
    return lines
