"""De novo motifs with TF-MoDISco (protocol 3.4 step 3): the ``modisco`` package (``import modiscolite``).

- :func:`run_modisco` crops the central ``window`` of every sequence and runs ``modiscolite.tfmodisco.TFMoDISco``
  on the hypothetical contributions (the actual-base ones are ``one_hot * hypothetical``), writing its HDF5
  (``modiscolite.io.save_hdf5`` layout: ``pos_patterns/pattern_i``, ``neg_patterns/pattern_i``).
- :func:`write_meme` writes JASPAR matrices (:func:`seq2acc.interpret.motifs.fetch_jaspar`) as a MEME v4 motif file.
- :func:`pattern_table` matches every pattern to that database with TOMTOM (memelite's implementation, the one
  modisco's own report uses): the pattern's PPM is trimmed where its CWM exceeds ``trim_threshold`` of its
  maximum (modisco's report rule), compared with every database motif, and per pattern the p-values over all
  database motifs get Benjamini-Hochberg q-values (per-query q-values, as TOMTOM reports them).
- :func:`write_report` renders modisco's descriptive HTML report (logos, seqlet examples, TOMTOM matches).
- :func:`seqlet_sites` turns the seqlets of the top patterns into motif sites in the full-length sequences,
  trimmed to the pattern's core, for scrambling / DFIM (:mod:`seq2acc.interpret.combinatorial`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from seq2acc.io.atomic import atomic_path

log = logging.getLogger(__name__)

GROUPS = ("pos_patterns", "neg_patterns")


# ----------------------------------------------------------------------------- motif database file
def write_meme(path, motifs, pseudocount: float = 0.0) -> Path:
    """MEME v4 file of count matrices: ``MOTIF <id> <name>`` + letter-probability matrix (ACGT, uniform bg).

    ``motifs``: :class:`seq2acc.interpret.motifs.Motif` objects (``id``, ``name``, ``counts`` (w, 4)) or (id, name, counts)
    tuples. Rows are normalised to frequencies (after adding ``pseudocount`` per base).
    """
    path = Path(path)
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    n = 0
    for m in motifs:
        mid, name, counts = (m.id, m.name, m.counts) if hasattr(m, "counts") else m
        c = np.asarray(counts, dtype=np.float64) + pseudocount
        ppm = c / c.sum(1, keepdims=True)
        nsites = int(round(float(np.asarray(counts).sum(1).max())))
        lines.append(f"MOTIF {mid} {str(name).replace(' ', '_')}")
        lines.append(f"letter-probability matrix: alength= 4 w= {len(ppm)} nsites= {max(nsites, 1)} E= 0")
        lines += [" ".join(f"{v:.6f}" for v in row) for row in ppm]
        lines.append("")
        n += 1
    if n == 0:
        raise ValueError("no motifs to write")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------------- running TF-MoDISco
def crop_window(x: np.ndarray, window: int) -> tuple[np.ndarray, int]:
    """Central ``window`` positions of (n, L, 4) as modisco's CLI crops them; returns (cropped, offset)."""
    L = x.shape[1]
    if window > L:
        raise ValueError(f"modisco window {window} is longer than the sequences ({L} bp)")
    from modiscolite.util import calculate_window_offsets

    start, end = calculate_window_offsets(L // 2, window)
    start = max(start, 0)
    return x[:, start:start + window], start


def run_modisco(onehot: np.ndarray, hypothetical: np.ndarray, out_h5, *, window: int = 400,
                max_seqlets: int = 2000, sliding_window_size: int = 20, flank_size: int = 5,
                trim_to_window_size: int = 30, initial_flank_to_add: int = 10, final_flank_to_add: int = 0,
                target_seqlet_fdr: float = 0.05, n_leiden_runs: int = 2, min_metacluster_size: int = 100,
                final_min_cluster_size: int = 20, verbose: bool = False) -> dict:
    """Run TF-MoDISco on (n, L, 4) one-hot and hypothetical contributions; write its HDF5 to ``out_h5``.

    Returns a summary: n_sequences, window, offset (first cropped position in the full sequences), number of
    positive/negative patterns. Deterministic (modisco seeds its own random streams).
    """
    import modiscolite

    x = np.asarray(onehot, dtype=np.float32)
    h = np.asarray(hypothetical, dtype=np.float32)
    if x.shape != h.shape or x.ndim != 3 or x.shape[-1] != 4:
        raise ValueError(f"one-hot {x.shape} and hypothetical contributions {h.shape} must both be (n, L, 4)")
    xs, offset = crop_window(x, window)
    hs, _ = crop_window(h, window)
    log.info("TF-MoDISco on %d sequences x %d bp (offset %d), max %d seqlets", len(xs), window, offset, max_seqlets)
    pos, neg = modiscolite.tfmodisco.TFMoDISco(
        one_hot=xs, hypothetical_contribs=hs, max_seqlets_per_metacluster=max_seqlets,
        sliding_window_size=sliding_window_size, flank_size=flank_size, trim_to_window_size=trim_to_window_size,
        initial_flank_to_add=initial_flank_to_add, final_flank_to_add=final_flank_to_add,
        target_seqlet_fdr=target_seqlet_fdr, n_leiden_runs=n_leiden_runs, min_metacluster_size=min_metacluster_size,
        final_min_cluster_size=final_min_cluster_size, verbose=verbose)
    with atomic_path(out_h5, suffix=".h5.tmp") as tmp:
        modiscolite.io.save_hdf5(str(tmp), pos, neg, window)
        with h5py.File(tmp, "a") as f:
            f.attrs["seq2acc_offset"] = offset
            f.attrs["seq2acc_n_sequences"] = len(xs)
            f.attrs["seq2acc_length"] = x.shape[1]
    summary = {"n_sequences": len(xs), "window": window, "offset": offset,
               "n_pos_patterns": len(pos or []), "n_neg_patterns": len(neg or [])}
    if not summary["n_pos_patterns"] and not summary["n_neg_patterns"]:
        log.warning("TF-MoDISco found no patterns (too few seqlets: need > %d per sign; try more sequences or "
                    "modisco.min_metacluster_size)", min_metacluster_size)
    return summary


# ----------------------------------------------------------------------------- reading results
def read_patterns(modisco_h5) -> list[dict]:
    """Patterns in modisco order: dicts with name ('pos_patterns.pattern_0'), group, sequence (PPM), cwm, hcwm,
    n_seqlets and the seqlets' example_idx / start / end / is_revcomp (coordinates inside the cropped window)."""
    out = []
    with h5py.File(modisco_h5, "r") as f:
        for group in GROUPS:
            if group not in f:
                continue
            names = sorted(f[group].keys(), key=lambda s: int(s.split("_")[-1]))
            for pname in names:
                p = f[group][pname]
                sq = p["seqlets"]
                out.append({"name": f"{group}.{pname}", "group": group, "ppm": p["sequence"][:],
                            "cwm": p["contrib_scores"][:], "hcwm": p["hypothetical_contribs"][:],
                            "n_seqlets": int(sq["n_seqlets"][:][0]),
                            "example_idx": sq["example_idx"][:].astype(np.int64),
                            "start": sq["start"][:].astype(np.int64), "end": sq["end"][:].astype(np.int64),
                            "is_revcomp": sq["is_revcomp"][:].astype(bool)})
    return out


def trim_bounds(cwm: np.ndarray, trim_threshold: float = 0.3) -> tuple[int, int]:
    """[a, b) of the positions whose summed |CWM| is at least ``trim_threshold`` x its maximum."""
    score = np.abs(np.asarray(cwm)).sum(1)
    ok = np.flatnonzero(score >= score.max() * trim_threshold)
    if len(ok) == 0:
        return 0, len(score)
    return int(ok.min()), int(ok.max()) + 1


def consensus(ppm: np.ndarray, min_freq: float = 0.5) -> str:
    """Most frequent base per position, lower case where it has frequency below ``min_freq``."""
    ppm = np.asarray(ppm)
    s = np.array(list("ACGT"))[ppm.argmax(1)]
    return "".join(b if f >= min_freq else b.lower() for b, f in zip(s, ppm.max(1)))


def pattern_table(modisco_h5, meme_db, trim_threshold: float = 0.3, top_n: int = 3) -> pd.DataFrame:
    """One row per pattern: name, sign, n_seqlets, trimmed width, consensus, and the ``top_n`` best database
    matches (match{i}_id, match{i}_name, match{i}_p, match{i}_q); ``best_match``/``q_value`` = the first."""
    from memelite.io import read_meme
    from memelite.tomtom import tomtom

    pats = read_patterns(modisco_h5)
    db = read_meme(str(meme_db))
    if not db:
        raise ValueError(f"{meme_db}: no motifs")
    keys = list(db)
    targets = [np.asarray(v, dtype=np.float64) for v in db.values()]
    rows = []
    queries = []
    for p in pats:
        a, b = trim_bounds(p["cwm"], trim_threshold)
        ppm = p["ppm"][a:b]
        queries.append(np.ascontiguousarray(ppm.T, dtype=np.float64))
        rows.append({"pattern": p["name"], "sign": "+" if p["group"] == "pos_patterns" else "-",
                     "n_seqlets": p["n_seqlets"], "width": int(b - a), "consensus": consensus(ppm)})
    if queries:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pvals = np.asarray(tomtom(queries, targets)[0], dtype=np.float64)  # (n_q, n_t)
        from seq2acc.interpret.null import bh

        for i, r in enumerate(rows):
            p = np.clip(np.nan_to_num(pvals[i], nan=1.0), 0, 1)
            q = bh(p)
            order = np.argsort(p, kind="stable")[:top_n]
            for j, t in enumerate(order):
                mid, _, mname = keys[t].partition(" ")
                r.update({f"match{j}_id": mid, f"match{j}_name": mname or mid, f"match{j}_p": float(p[t]),
                          f"match{j}_q": float(q[t])})
            r["best_match"] = f"{r.get('match0_id', '')} {r.get('match0_name', '')}".strip()
            r["q_value"] = r.get("match0_q", np.nan)
    cols = ["pattern", "sign", "n_seqlets", "width", "consensus", "best_match", "q_value"]
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=cols)
    return df[cols + [c for c in df.columns if c not in cols]]


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def write_report(modisco_h5, out_dir, meme_db=None, top_n: int = 3, trim_threshold: float = 0.3,
                 n_examples: int = 10) -> Path:
    """modisco's descriptive HTML report (``report.html`` + logo PNGs) in ``out_dir``, TOMTOM via memelite."""
    import matplotlib

    matplotlib.use("Agg")
    from modiscolite.descriptive_report import generate_descriptive_report

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _quiet():
        generate_descriptive_report(str(modisco_h5), str(out_dir), img_path_suffix="./",
                                    meme_motif_db=str(meme_db) if meme_db else None, top_n_matches=top_n,
                                    ttl=True, n_examples=n_examples, trim_threshold=trim_threshold)
    import matplotlib.pyplot as plt

    plt.close("all")
    return out_dir / "report.html"


# ----------------------------------------------------------------------------- seqlets -> motif sites
def seqlet_sites(modisco_h5, labels: dict | None = None, patterns=None, trim_threshold: float = 0.3) -> pd.DataFrame:
    """Motif sites from seqlets, in full-sequence coordinates (the window offset stored by :func:`run_modisco`).

    Each seqlet is cut to its pattern's core (:func:`trim_bounds`; mirrored for reverse-complement seqlets).
    ``patterns``: pattern names to keep (default all); ``labels``: pattern name -> motif label (default the
    pattern name). Columns: seq, start, end, motif, pattern, strand, score (the seqlet's order in its pattern,
    higher first -- only used to resolve overlaps).
    """
    with h5py.File(modisco_h5, "r") as f:
        offset = int(f.attrs.get("seq2acc_offset", 0))
    rows = []
    for p in read_patterns(modisco_h5):
        if patterns is not None and p["name"] not in patterns:
            continue
        a, b = trim_bounds(p["cwm"], trim_threshold)
        width = len(p["cwm"])
        label = (labels or {}).get(p["name"], p["name"])
        for k, (ex, s, e, rc) in enumerate(zip(p["example_idx"], p["start"], p["end"], p["is_revcomp"])):
            if e - s != width:  # seqlet at a sequence edge (should not happen): keep it whole
                ca, cb = s, e
            elif rc:
                ca, cb = s + width - b, s + width - a
            else:
                ca, cb = s + a, s + b
            rows.append((int(ex), int(ca) + offset, int(cb) + offset, label, p["name"], "-" if rc else "+",
                         float(p["n_seqlets"] - k)))
    return pd.DataFrame(rows, columns=["seq", "start", "end", "motif", "pattern", "strand", "score"])


def plot_pattern_logos(path, modisco_h5, table: pd.DataFrame, max_patterns: int = 8,
                       trim_threshold: float = 0.3) -> None:
    """One PNG: trimmed CWM logo per pattern (up to ``max_patterns``), titled with seqlets and best match."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pats = read_patterns(modisco_h5)[:max_patterns]
    if not pats:
        return
    info = table.set_index("pattern") if len(table) else None
    fig, axes = plt.subplots(len(pats), 1, figsize=(7, 1.8 * len(pats)), squeeze=False)
    for ax, p in zip(axes[:, 0], pats):
        a, b = trim_bounds(p["cwm"], trim_threshold)
        a, b = max(a - 2, 0), min(b + 2, len(p["cwm"]))
        logomaker.Logo(pd.DataFrame(p["cwm"][a:b], columns=list("ACGT")), ax=ax)
        title = f"{p['name']}  n={p['n_seqlets']}"
        if info is not None and p["name"] in info.index and isinstance(info.loc[p["name"], "best_match"], str):
            title += f"  best JASPAR: {info.loc[p['name'], 'best_match']} (q={info.loc[p['name'], 'q_value']:.2g})"
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def limit_numba_threads(n: int | None = None) -> None:
    """Cap numba's threads (modisco's and memelite's kernels) at ``n``, or at ``OMP_NUM_THREADS`` when that is set
    (shared machines); otherwise numba uses every core."""
    n = n or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if not n:
        return
    try:
        import numba

        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    except Exception:  # pragma: no cover - numba missing
        pass
