"""DVC stage ``variants`` (protocol note 24): score a VCF/TSV of variants with every fold model, streaming.

A model of accessibility is not a model of variant effect (note 24): read the numbers as hypotheses, compare
folds (``delta_sd``), the held-out fold (``heldout_delta``) and the shuffled-background p-value.

Any number of variants: the file is checked in one streaming pass (every bad record reported at once, before
anything is scored), then read and scored ``variants.chunk`` variants at a time
(:class:`seq2acc.interpret.variants.VariantScorer`); each chunk's rows are appended to part files in
``<out_dir>/.partial/`` as it finishes, so memory is bounded by the chunk size, never by the number of variants.
Resumable: an interrupted run (SIGTERM, SIGKILL, a crash) restarted with the same inputs goes on after the last
complete chunk and writes the same bytes as an uninterrupted run; a restart with another variant file, genome,
model, fold plan, ``variants``/``seed``/``train.folds`` params or code starts over (the fingerprint in
``.partial/fingerprint.json``). The outputs appear together, atomically, once every chunk is scored.

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

import hashlib
import logging
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from seq2acc.artifacts import fold_model
from seq2acc.artifacts.tables import finish_chunked_tsv, read_table, tsv_text
from seq2acc.config import Params, layout
from seq2acc.errors import ParamsError
from seq2acc.interpret import variants as V
from seq2acc.io.atomic import atomic_paths, write_json
from seq2acc.io.fasta import Genome, index_fasta
from seq2acc.io.resume import ChunkedParts
from seq2acc.io.vcf import iter_variants, scan_variants
from seq2acc.mlops import tracking
from seq2acc.mlops.lineage import file_md5
from seq2acc.model.load import load_model

log = logging.getLogger(__name__)

PARTIAL = ".partial"  # side folder of an unfinished run, inside variants.out_dir
CACHE_BYTES = 512 << 20  # whole chromosomes kept decoded (a sorted VCF reads each once)


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


def open_genome(path) -> Genome:
    """The genome, caching as many whole chromosomes as fit in :data:`CACHE_BYTES` (at least 2)."""
    sizes = index_fasta(Path(path))
    return Genome(path, cache_chroms=max(2, CACHE_BYTES // max(max(sizes.values()), 1)))


def code_md5() -> str:
    """md5 of the source of every project module this stage imports (a code change must not resume)."""
    import seq2acc
    from seq2acc.mlops.codedeps import closure

    here = Path(__file__).resolve()
    h = hashlib.md5()
    for f in sorted({here, *closure(here, Path(seq2acc.__file__).resolve().parents[1])}):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def fingerprint(cfg: VariantsConfig, genome_path: Path, model_paths: dict, folds_path: Path) -> dict:
    """Everything the stage's outputs depend on (a resumed run must have the same): file hashes of the variants,
    genome, fold models and fold plan, the parameters (all but out_dir), the code and the numeric libraries."""
    import keras
    import tensorflow as tf

    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k != "out_dir"}
    return {"input_md5": file_md5(cfg.input), "genome": str(genome_path), "genome_md5": file_md5(genome_path),
            "models_md5": {str(k): file_md5(v) for k, v in model_paths.items()},
            "folds_md5": file_md5(folds_path) if Path(folds_path).exists() else None,
            "params": params, "code_md5": code_md5(),
            "versions": {"numpy": np.__version__, "tensorflow": tf.__version__, "keras": keras.__version__}}


def score_variants(p: Params) -> Path:
    """Stage body of ``variants`` (and of ``seq2acc score-variants``): see the module docstring."""
    cfg = variants_config(p)
    t0 = time.perf_counter()
    lay = layout(p)
    genome = open_genome(lay.genome)
    n = scan_variants(cfg.input, genome, cfg.skip_unsupported)
    folds = [int(k) for k in p.get("train.folds", list)]
    if not folds:
        raise ParamsError("train.folds", "is empty", "list the trained folds")
    paths = {k: fold_model.model_path(lay.models, k) for k in folds}
    models = {k: load_model(paths[k]) for k in folds}
    lengths = {int(m.input_shape[1]) for m in models.values()}
    if len(lengths) != 1:
        raise ParamsError("dataset.context", f"fold models take different input lengths {sorted(lengths)}",
                          "retrain every fold with the same dataset.context")
    scorer = V.VariantScorer(models, genome, cfg.n_null, cfg.seed, cfg.batch_size, cfg.contrib, cfg.method,
                             cfg.n_refs, cfg.flank, V.heldout_folds(lay.folds, set(folds)))
    log.info("%d variant(s) from %s; %d fold model(s), %d bp windows, %d shuffled backgrounds each, %d per chunk",
             n, cfg.input, len(folds), scorer.length, cfg.n_null, cfg.chunk)
    with ChunkedParts(cfg.out_dir / PARTIAL, fingerprint(cfg, lay.genome, paths, lay.folds)) as parts:
        done = int(parts.state.get("variants", 0))
        if parts.resumed:
            log.info("resuming after an interruption: %d of %d variants already scored (%s)", done, n, parts.folder)
        id_len = int(parts.state.get("id_len", 1))
        with tqdm(total=n, initial=done, desc="variants", unit="variant") as bar:
            for var in iter_variants(cfg.input, genome, cfg.chunk, start=done):
                cs = scorer.score_chunk(var, done)
                parts.append("scores.tsv", tsv_text(cs.scores, header=done == 0))
                parts.append("fold_scores.tsv", tsv_text(cs.folds, header=done == 0))
                parts.append("numbers.f64", np.column_stack([cs.scores[c].to_numpy(np.float64) for c in
                                                             ("delta", "delta_sd", "p_value")]).astype("<f8").tobytes())
                ids = [str(i).encode() for i in var.id]
                parts.append("id.txt", b"".join(i + b"\n" for i in ids))
                for name, arr in cs.arrays.items():
                    parts.append(f"{name}.bin", np.ascontiguousarray(arr).tobytes())
                done += len(var)
                id_len = max(id_len, *map(len, ids))
                parts.commit(variants=done, id_len=id_len)
                bar.update(len(var))
        if done != n:
            raise RuntimeError(f"{cfg.input}: scored {done} variants, expected {n}")  # the file changed meanwhile
        out = _finish(p, cfg, parts, scorer, n, id_len, time.perf_counter() - t0)
        parts.discard()
    return out


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(s))[:60]


def _ids(path: Path, wanted=None):
    """Variant ids from the id part (all, or {index: id} of ``wanted``)."""
    with open(path, "rb") as fh:
        if wanted is None:
            return [line[:-1].decode() for line in fh]
        return {i: line[:-1].decode() for i, line in enumerate(fh) if i in wanted}


def _finish(p, cfg, parts: ChunkedParts, scorer, n: int, id_len: int, seconds: float) -> Path:
    """The final outputs from the part files, all appearing together."""
    from seq2acc.interpret.null import bh

    out = cfg.out_dir
    nums = np.fromfile(parts.path("numbers.f64"), dtype="<f8").reshape(n, 3)
    delta, delta_sd, pval = nums[:, 0], nums[:, 1], nums[:, 2]
    q = bh(pval)
    order = np.argsort(-np.abs(delta), kind="stable")
    top = order[:max(10, cfg.top_plots if cfg.contrib else 0)]
    labels = _ids(parts.path("id.txt"), set(top.tolist()))
    names = ["scores.tsv", "fold_scores.tsv", "contrib.h5", "volcano.png", "plots", "summary.json"]
    with atomic_paths(*(out / x for x in names)) as tmps:
        tmp = dict(zip(names, tmps))
        finish_chunked_tsv(parts.path("scores.tsv"), tmp["scores.tsv"],
                           f"variants of {cfg.input} (1-based pos); fold-ensemble mean; a model of accessibility is "
                           "not a model of variant effect (protocol note 24)", ("p_value", "q_value", q))
        finish_chunked_tsv(parts.path("fold_scores.tsv"), tmp["fold_scores.tsv"],
                           "per fold; heldout = the fold's test chromosomes hold the variant")
        _write_h5(tmp["contrib.h5"], parts, cfg, scorer.length, n, id_len)
        V.plot_volcano(tmp["volcano.png"], delta, pval, labels, q, cfg.alpha, cfg.n_null)
        tmp["plots"].mkdir()
        if cfg.contrib:
            _plots(tmp["plots"], cfg, scorer, order[:cfg.top_plots], delta, delta_sd, pval)
        summary = {"input": str(cfg.input), "n_variants": int(n), "n_folds": len(scorer.folds),
                   "n_null": cfg.n_null, "method": cfg.method if cfg.contrib else None,
                   "n_significant": int((q < cfg.alpha).sum()), "alpha": cfg.alpha,
                   "mean_abs_delta": float(np.abs(delta).mean()), "max_abs_delta": float(np.abs(delta).max()),
                   "top": [{"id": labels[i], "delta": float(delta[i]), "delta_sd": float(delta_sd[i]),
                            "p_value": float(pval[i]), "q_value": float(q[i])} for i in order[:10]],
                   "chunk": cfg.chunk, "seconds": round(seconds, 1)}
        write_json(tmp["summary.json"], summary)
    log.info("variants: %d scored, %d with BH q < %g; max |delta| %.3f", n, summary["n_significant"], cfg.alpha,
             summary["max_abs_delta"])
    tracking.log_to_run(fold_model.run_id(layout(p).models, p.get("train.folds", list), parent=True),
                        {"variants.n_significant": summary["n_significant"],
                         "variants.max_abs_delta": summary["max_abs_delta"]},
                        {"variants.input": str(cfg.input)},
                        [out / "scores.tsv", out / "volcano.png", out / "summary.json"], "variants")
    return out


def _write_h5(path: Path, parts: ChunkedParts, cfg, length: int, n: int, id_len: int, block: int = 1 << 14) -> None:
    """contrib.h5 from the part files, ``block`` variants at a time."""
    w = 2 * cfg.flank + 1
    with h5py.File(path, "w") as f:
        f.attrs.update(flank=cfg.flank, method=cfg.method, n_refs=cfg.n_refs, input=str(cfg.input), length=length)
        ids = f.create_dataset("id", (n,), dtype=f"S{id_len}")
        with open(parts.path("id.txt"), "rb") as fh:
            buf, at = [], 0
            for line in fh:
                buf.append(line[:-1])
                if len(buf) == block:
                    ids[at:at + len(buf)] = np.array(buf, dtype=f"S{id_len}")
                    at, buf = at + len(buf), []
            if buf:
                ids[at:at + len(buf)] = np.array(buf, dtype=f"S{id_len}")
        for name in ("offset", "window_start"):
            f.create_dataset(name, data=np.fromfile(parts.path(f"{name}.bin"), dtype=np.int64))
        names = ["ref_onehot", "alt_onehot"] + (["ref_contrib", "alt_contrib"] if cfg.contrib else [])
        for name in names:
            src = np.memmap(parts.path(f"{name}.bin"), dtype=np.float32, mode="r", shape=(n, w, 4))
            ds = f.create_dataset(name, (n, w, 4), dtype=np.float32)
            for a in range(0, n, block):
                ds[a:a + block] = src[a:a + block]
            del src


def _plots(folder: Path, cfg, scorer, top, delta, delta_sd, pval) -> None:
    """Contribution logos of the variants ``top`` (indices, by rank), recomputed from their windows: the same
    numbers as the chunk that scored them (same references, fixed call shapes)."""
    rank_of = {int(i): r for r, i in enumerate(top, start=1)}
    if not rank_of:
        return
    idx = 0
    for var in iter_variants(cfg.input, scorer.genome, cfg.chunk):
        for j in range(len(var)):
            i = idx + j
            if i not in rank_of:
                continue
            row = var.iloc[[j]]
            r = row.iloc[0]
            w = V.variant_windows(row, scorer.genome, scorer.length)
            cref, calt = scorer.contributions(w, i)
            rank = rank_of[i]
            title = (f"#{rank} {r.id}  {r.chrom}:{r.pos} {r.ref}>{r.alt}  delta logit {delta[i]:+.3f} "
                     f"(sd {delta_sd[i]:.2f} over folds), p={pval[i]:.3g}  [{cfg.method}, fold mean]")
            V.plot_variant(folder / f"{rank:02d}_{_safe(r.id)}.png", title, w.ref[0], w.alt[0], cref[0], calt[0],
                           int(w.offset[0]), max(cfg.flank, 10), len(r.ref))
        idx += len(var)
        if idx > max(rank_of):
            break


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
