"""``seq2acc explain`` / :func:`seq2acc.explain`: contribution scores of the user's own regions or sequences, with
the significance of each base and window against a dinucleotide-shuffled null.

Inputs (as ``seq2acc predict``, read by :mod:`seq2acc.apps.inputs`): a BED/narrowPeak of regions or
``chr:start-end`` strings (one model input window per region, centred on its narrowPeak summit, else its centre),
a FASTA of sequences or DNA strings (each at least the model's input length ``L``; a longer one is tiled with
windows every ``L // 2`` bp, the last ending at its end), or one-hot arrays ``(n, L, 4)``. Models as ``seq2acc
predict`` (:func:`seq2acc.apps.predict.resolve_models`): ``ensemble`` (default), ``heldout`` (each chromosome
explained by the fold model that held it out), ``fold<K>``, a ``model.keras`` path or ``models:/<name>@<alias>``.

Exactly the ``attribute`` stage's method (``pipeline/attribute.py``): contribution scores of each window for the
model's logit (:func:`seq2acc.interpret.attribution.contributions`: DeepSHAP by default, grad x input, ISM), the
same method run on ``attribute.null_shuffles`` dinucleotide-shuffled copies of every window
(:func:`~seq2acc.interpret.attribution.null_contributions`), and per-base and per-window empirical p-values
against that pooled null with Benjamini-Hochberg q-values over all bases / all windows of the input set
(:func:`seq2acc.interpret.null.null_test`). With several fold models the contributions (and the null's) are the
mean over folds and the test runs on the means, as ``attribute_ensemble`` does
(:func:`seq2acc.interpret.ensemble.ensemble`); in ``heldout`` mode each fold's chromosomes are tested against
that fold's own null. Defaults (method, references, shuffles, seed, window, tail, alpha, task, logos) are the
``attribute`` section of params.yaml.

Outputs of :func:`write_explanation` (one directory, written atomically: complete or absent):

- ``regions.tsv``: one row per input window (:meth:`Explanation.summary`);
- ``significant.bed``: merged windows with window q < ``attribute.alpha`` (BED6+, score = -log10 q; coordinates
  on the genome, or within the FASTA record for sequences);
- ``contrib.h5``: the windows' one-hot, contributions, hypothetical contributions, null and p/q-values, in the
  layout of the pipeline's ``contrib.h5`` (``modisco motifs -i contrib.h5`` reads it);
- genomic inputs: ``contrib.bw`` (per-base contribution of the actual base, summed over A/C/G/T),
  ``qvalue_base.bw`` (-log10 q of each base's own test) and ``qvalue_window.bw`` (-log10 q of the
  ``attribute.window``-bp window centred on each base: base ``i`` shows the window starting at ``i - window // 2``);
- sequence inputs: ``bases.h5`` with the same three per-base values per record instead of the bigWigs;
- ``logos.png``: logos of the ``attribute.top_logos`` windows with the highest logit; ``explain.json``: settings.

Where windows overlap (nearby regions, tiles of a long record) each base's track value comes from the window in
which it lies most centrally (ties: the earlier window), so every value of a track is one window's own value.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.apps.inputs import (INPUT_KINDS, classify_inputs, onehot_windows, read_fasta_records, region_windows,
                                 regions_table, sequence_records, sequence_windows)
from seq2acc.apps.predict import Models, models_from_params
from seq2acc.artifacts.contrib import write_attribution
from seq2acc.artifacts.tables import write_tsv
from seq2acc.errors import ArgumentError, InputError
from seq2acc.interpret.attribution import METHODS, contributions, null_contributions
from seq2acc.interpret.ensemble import ensemble
from seq2acc.interpret.null import NullTest, significant_bed, significant_regions
from seq2acc.interpret.sets import AttributionSet
from seq2acc.io.atomic import atomic_path, write_json
from seq2acc.io.fasta import Genome, gather_onehot
from seq2acc.model.predict import predict_logits
from seq2acc.pipeline.attribute import AttributeConfig, attribute_config
from seq2acc.seq.encoding import onehot_codes

log = logging.getLogger(__name__)



@dataclass
class Explanation(AttributionSet):
    """Contribution scores of ``n`` input windows of ``L`` bp and their significance against the shuffled null.

    Attributes (``n`` windows, ``L`` = the model's input length, ``S`` = null shuffles per window,
    ``w`` = ``test.window``):

    - ``regions`` (DataFrame, n rows): ``chrom`` (chromosome; the record name for sequence inputs), ``start``,
      ``end`` (the window, 0-based half-open, on the chromosome or within the record), ``bin_start`` (the model's
      labelled central bin), ``label`` (-1: unknown), ``logit`` (forward-strand logit of ``task``, the number
      explained; mean over fold models), ``n_models``, ``source_fold`` (-1: mean of folds), and for regions
      ``region_start``, ``region_end`` (the input region the window is centred on);
    - ``onehot``, ``contrib``, ``hyp``: (n, L, 4) float32: input, actual-base contributions (non-zero only at each
      position's base), hypothetical contributions;
    - ``null_onehot`` (n, S, L, 4) uint8 and ``null_contrib`` (n, S, L, 4) float32: the shuffled null;
    - ``test`` (:class:`~seq2acc.interpret.null.NullTest`): ``position_p``/``position_q`` (n, L) and
      ``window_p``/``window_q`` (n, L - w + 1; window ``j`` covers positions ``[j, j + w)``), float64;
    - ``significant`` (DataFrame): merged significant windows (:func:`~seq2acc.interpret.null.significant_regions`:
      seq, start, end within the window, n_windows, min_q, min_p);
    - ``attrs`` (dict): settings (method, n_refs, null_shuffles, seed, task, window, tail, alpha, model, inputs).
    """

    significant: pd.DataFrame | None = None

    @property
    def genomic(self) -> bool:
        return self.attrs.get("inputs") == "genome"

    @property
    def per_base(self) -> np.ndarray:
        """(n, L) float32: contribution of each position's actual base (``contrib`` summed over A, C, G, T)."""
        return self.contrib.sum(-1, dtype=np.float32)

    def window_q_per_base(self) -> np.ndarray:
        """(n, L) float64: q-value of the window centred on each position (``window_q[:, i - w // 2]``); NaN where
        that window would leave the input."""
        w = self.test.window
        n, L = self.test.position_q.shape
        out = np.full((n, L), np.nan)
        out[:, w // 2:w // 2 + self.test.window_q.shape[1]] = self.test.window_q
        return out

    def significant_bed(self) -> pd.DataFrame:
        """Significant regions in chromosome (or record) coordinates: BED6+ (chrom, start, end, name = seq<i>,
        score = -log10 min q, strand, min_q, min_p, seq = row of ``regions``)."""
        return significant_bed(self.regions, self.significant)

    def summary(self) -> pd.DataFrame:
        """One row per window: the window columns of ``regions`` (``name`` instead of ``chrom`` for sequences),
        logit, n_models, source_fold, contrib_sum (sum of the window's contributions), max_abs_contrib and
        max_abs_pos (its position: on the chromosome / in the record), significant_regions (merged significant
        windows), significant_bp (bases they cover), min_window_q, min_base_q."""
        r = self.regions
        cols = [c for c in ("chrom", "start", "end", "region_start", "region_end") if c in r]
        df = r[cols].copy()
        if not self.genomic:
            df = df.rename(columns={"chrom": "name"})
        pb = self.per_base
        n = len(r)
        df["logit"] = r.logit.to_numpy()
        df["n_models"] = r.n_models.to_numpy()
        df["source_fold"] = r.source_fold.to_numpy()
        df["contrib_sum"] = pb.sum(1, dtype=np.float64) if n else []
        arg = np.abs(pb).argmax(1) if n else np.zeros(0, int)
        df["max_abs_contrib"] = pb[np.arange(n), arg]
        df["max_abs_pos"] = r.start.to_numpy() + arg
        sig = self.significant
        df["significant_regions"] = np.bincount(sig.seq, minlength=n) if len(sig) else 0
        df["significant_bp"] = np.bincount(sig.seq, weights=sig.end - sig.start, minlength=n).astype(int) \
            if len(sig) else 0
        df["min_window_q"] = self.test.window_q.min(1) if n else []
        df["min_base_q"] = self.test.position_q.min(1) if n else []
        return df

    def bases(self) -> pd.DataFrame:
        """One row per base covered by some window (each from the window where it lies most centrally): chrom (or
        name), pos (0-based), contrib, qvalue_base, qvalue_window (q of the window centred on it; NaN near a window
        edge), row (the window it comes from)."""
        parts = assemble(self.regions, {"contrib": self.per_base, "qvalue_base": self.test.position_q,
                                        "qvalue_window": self.window_q_per_base()})
        key = "chrom" if self.genomic else "name"
        frames = [pd.DataFrame({key: c, "pos": pos, **vals}) for c, (pos, vals) in parts.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=[key, "pos", "contrib", "qvalue_base", "qvalue_window", "row"])


def assemble(windows: pd.DataFrame, values: dict) -> dict:
    """Per-base values of possibly overlapping windows (columns chrom, start, end; all ``L`` bp): each base takes the
    values of the window in which it lies most centrally (ties: the earlier window; identical windows: the first).

    ``values``: name -> (n, L) array. Returns ``{chrom: (positions, {name: values, "row": window row})}`` with
    positions sorted."""
    out = {}
    if not len(windows):
        return out
    L = int(windows.end.iloc[0] - windows.start.iloc[0])
    for c, idx in windows.groupby("chrom", sort=False).indices.items():
        st = windows.start.to_numpy()[idx]
        order = np.argsort(st, kind="stable")
        idx, st = idx[order], st[order]
        first = np.r_[True, np.diff(st) > 0]  # identical windows: keep the first
        idx, st = idx[first], st[first]
        # cell of window i: [b_{i-1}, b_i) with b_i the midpoint of centres i and i+1 (a base p goes to window i
        # when p + 1/2 is nearer centre i = s_i + L/2; ties to the earlier), clipped to the window itself
        b = (st[:-1] + st[1:] + L + 1) // 2
        lo = np.maximum(st, np.r_[np.iinfo(np.int64).min, b])
        hi = np.minimum(st + L, np.r_[b, np.iinfo(np.int64).max])
        pos = np.concatenate([np.arange(a, z) for a, z in zip(lo, hi)])
        rows = np.concatenate([np.full(max(z - a, 0), i) for i, a, z in zip(idx, lo, hi)])
        offs = pos - windows.start.to_numpy()[rows]
        vals = {k: np.asarray(v)[rows, offs] for k, v in values.items()}
        vals["row"] = rows
        out[c] = (pos, vals)
    return out


# ----------------------------------------------------------------------------- the method
def explain_onehot(models: Models, x: np.ndarray, windows: pd.DataFrame, cfg: AttributeConfig,
                   genomic: bool, progress: bool = True) -> Explanation:
    """Contributions, null and test of one-hot windows ``x`` (n, L, 4) whose table ``windows`` (n rows: chrom, start,
    end, bin_start, ...) says where they are; ``genomic``: ``chrom`` is a chromosome (``heldout`` models pick each
    chromosome's fold), else a record name. Settings from ``cfg`` (the ``attribute`` section)."""
    n = len(x)
    windows = windows.reset_index(drop=True)
    split = genomic and models.heldout is not None  # heldout: each chromosome by the fold that held it out
    if split:
        groups: dict = {}
        for c, idx in windows.groupby("chrom", sort=False).indices.items():
            (k,) = models.for_chrom(c)
            groups[k] = np.sort(np.concatenate([groups.get(k, np.zeros(0, int)), idx]))
    else:
        groups = {k: np.arange(n) for k in models.models}
    sets, held = {}, {}
    for k, idx in groups.items():
        m, xs = models.models[k], x[idx]
        log.info("%s: %s contributions of %d window(s) (%d references each) + %d shuffled null cop%s", _name(k),
                 cfg.method, len(xs), cfg.n_refs, cfg.null_shuffles, "y" if cfg.null_shuffles == 1 else "ies")
        logit = predict_logits(m, xs, cfg.task)
        contrib, hyp = contributions(m, xs, cfg.method, cfg.n_refs, cfg.seed, cfg.batch_size, cfg.task,
                                     progress=progress)
        null_x, null_c = null_contributions(m, xs, cfg.null_shuffles, cfg.method, cfg.n_refs, cfg.seed,
                                            cfg.batch_size, cfg.task, progress=progress)
        # rows keyed by their index, so the ensemble matches windows one to one whatever their coordinates
        reg = pd.DataFrame({"chrom": [f"row{i}" for i in idx], "start": windows.start.to_numpy()[idx], "row": idx,
                            "logit": logit.astype(np.float32)})
        sets[k] = AttributionSet(reg, xs, contrib, hyp, (null_x > 0).astype(np.uint8), null_c, None, {})
        held[k] = list(reg.chrom) if split else []
    a = ensemble(sets, held, cfg.window, cfg.tail)  # the mean over folds, as attribute_ensemble
    order = np.argsort(a.regions.row.to_numpy(), kind="stable")
    if not np.array_equal(a.regions.row.to_numpy()[order], np.arange(n)):
        raise AssertionError("explain: the fold ensemble lost or repeated windows")  # pragma: no cover
    t = a.test
    test = NullTest(t.position_p[order], t.position_q[order], t.window_p[order], t.window_q[order], t.window,
                    t.tail)
    src = a.regions.iloc[order].reset_index(drop=True)
    regions = windows.assign(label=-1, logit=src.logit.to_numpy(), n_models=src.n_models.to_numpy(),
                             source_fold=src.source_fold.to_numpy())
    attrs = {"method": cfg.method, "n_refs": cfg.n_refs, "null_shuffles": cfg.null_shuffles, "seed": cfg.seed,
             "task": cfg.task, "window": cfg.window, "tail": cfg.tail, "alpha": cfg.alpha, "context": x.shape[1],
             "folds": [int(k) for k in models.models], "ensemble": len(models.models) > 1,
             "inputs": "genome" if genomic else "sequences", "fold": -1 if len(models.models) > 1 else
             int(next(iter(models.models)))}
    e = Explanation(regions, a.onehot[order], a.contrib[order], a.hyp[order], a.null_onehot[order],
                    a.null_contrib[order], test, attrs)
    e.significant = significant_regions(test, cfg.alpha)
    return e


def _name(k) -> str:
    return f"fold {k}" if isinstance(k, (int, np.integer)) else str(k)


def explain_regions(models: Models, genome: Genome, regions: pd.DataFrame, cfg: AttributeConfig, bin_size: int,
                    what, progress: bool = True) -> Explanation:
    """:func:`explain_onehot` of one input window per region (chrom, start, end[, summit]; see
    :func:`seq2acc.apps.inputs.region_windows`); ``what`` names the input in errors."""
    L = models.context
    win = region_windows(genome, regions, L, what)
    win.insert(3, "bin_start", win.start + (L - bin_size) // 2)
    return explain_onehot(models, gather_onehot(genome, win, L), win, cfg, True, progress)


def explain_sequences(models: Models, records, cfg: AttributeConfig, bin_size: int, where,
                      progress: bool = True) -> Explanation:
    """:func:`explain_onehot` of ``(name, sequence, line)`` records: each at least the model's input length ``L``,
    tiled every ``L // 2`` bp (:func:`seq2acc.apps.inputs.sequence_windows`); ``where`` names the input."""
    L = models.context
    rows, codes = sequence_windows(records, L, max(1, L // 2), where)
    win = pd.DataFrame({"chrom": rows["name"], "start": rows["start"], "end": rows["end"]})
    win.insert(3, "bin_start", win.start + (L - bin_size) // 2)
    return explain_onehot(models, onehot_codes(codes), win, cfg, False, progress)


# ----------------------------------------------------------------------------- outputs
def write_explanation(e: Explanation, out_dir, chrom_sizes: dict | None, top_logos: int, logo_width: int,
                      extra: dict | None = None) -> Path:
    """Every output (module docstring) in ``out_dir``, atomically: the directory appears complete or not at all
    (an earlier ``seq2acc explain`` directory there is replaced; any other non-empty directory is an error)."""
    from seq2acc.interpret.logos import logo_panels, save_logos
    from seq2acc.io.bigwig import write_bigwig_bases

    out = check_out_dir(out_dir)
    alpha = e.attrs["alpha"]
    with atomic_path(out) as tmp:
        tmp.mkdir()
        write_tsv(e.summary(), tmp / "regions.tsv",
                  f"seq2acc explain: {e.attrs['method']} contributions per input window; 0-based half-open; "
                  f"q: BH over all bases / windows vs the shuffled null", bed=e.genomic)
        write_tsv(e.significant_bed(), tmp / "significant.bed",
                  f"windows of {e.test.window} bp with BH q < {alpha} vs the dinucleotide-shuffled null, merged; "
                  f"score = -log10 q; 0-based half-open {'genome' if e.genomic else 'record'} coordinates", bed=True)
        write_attribution(tmp / "contrib.h5", e)
        parts = assemble(e.regions, {"contrib": e.per_base, "qvalue_base": -np.log10(e.test.position_q),
                                     "qvalue_window": -np.log10(e.window_q_per_base())})
        if e.genomic:
            for name in ("contrib", "qvalue_base", "qvalue_window"):
                write_bigwig_bases(tmp / f"{name}.bw", {c: (pos, v[name]) for c, (pos, v) in parts.items()},
                                   chrom_sizes)
        else:
            _write_bases_h5(tmp / "bases.h5", parts)
        who = f"mean of folds {e.attrs['folds']}" if e.attrs["ensemble"] else _name(e.attrs["fold"])
        title = (f"{e.attrs['method']} contributions ({who}), top {top_logos} windows by logit (x: position in the "
                 f"{e.onehot.shape[1]} bp input; yellow: BH q < {alpha} vs shuffled null)")
        save_logos(tmp / "logos.png", logo_panels(e, top_logos, logo_width, e.significant), suptitle=title)
        write_json(tmp / "explain.json", {**e.attrs, "n_windows": len(e.regions),
                                          "significant_regions": int(len(e.significant)), **(extra or {}),
                                          "qvalue_tracks": "-log10 BH q-values: qvalue_base per base, qvalue_window "
                                          "of the window centred on the base"})
    return out


def check_out_dir(out_dir) -> Path:
    """``out_dir`` may be written: absent, empty, or an earlier explain output (it is replaced as a whole)."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "explain.json").exists())):
        raise InputError(out, "exists and is not an earlier `seq2acc explain` output",
                         "give a new directory (or an empty one) for --out")
    return out


def _write_bases_h5(path, parts: dict) -> None:
    """Per record, per base (as the bigWigs of genomic inputs): ``names``, ``offsets`` (n + 1: record i is
    ``[offsets[i], offsets[i + 1])`` of every array), ``pos`` (position in the record), ``contrib``,
    ``qvalue_base``, ``qvalue_window`` (-log10 q), ``row`` (the window of ``contrib.h5`` a value comes from)."""
    import h5py

    names = list(parts)
    offsets = np.cumsum([0] + [len(parts[c][0]) for c in names])
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("names", data=np.array(names, dtype="S"))
        f.create_dataset("offsets", data=offsets.astype(np.int64))
        f.create_dataset("pos", data=np.concatenate([parts[c][0] for c in names]).astype(np.int64))
        for key, dt in (("contrib", np.float32), ("qvalue_base", np.float32), ("qvalue_window", np.float32),
                        ("row", np.int64)):
            f.create_dataset(key, data=np.concatenate([parts[c][1][key] for c in names]).astype(dt))
        f.attrs["qvalues"] = "-log10 BH q; qvalue_window: of the window centred on the base (NaN near window edges)"


# ----------------------------------------------------------------------------- the public API
def settings(p, method: str | None = None, null_shuffles: int | None = None, n_refs: int | None = None,
             seed: int | None = None) -> AttributeConfig:
    """The ``attribute`` section of params ``p`` (:func:`seq2acc.pipeline.attribute.attribute_config`), with the
    given settings replaced."""
    cfg = attribute_config(p)
    if method is not None and method not in METHODS:
        raise ArgumentError("method", f"{method!r} is not a method", f"use one of {', '.join(METHODS)}")
    for arg, v in (("null_shuffles", null_shuffles), ("n_refs", n_refs)):
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
            raise ArgumentError(arg, f"{v!r}", "give an integer >= 1")
    over = {"method": method, "null_shuffles": null_shuffles, "n_refs": n_refs, "seed": seed}
    return dataclasses.replace(cfg, **{k: v for k, v in over.items() if v is not None})


def explain(inputs, model="ensemble", *, params="params.yaml", genome=None, method: str | None = None,
            null_shuffles: int | None = None, n_refs: int | None = None, seed: int | None = None, out=None,
            kind: str | None = None, progress: bool = True) -> Explanation:
    """Contribution scores of regions or sequences with their significance against a dinucleotide-shuffled null.

    Parameters
    ----------
    inputs
        What to explain: a BED/narrowPeak path (or a DataFrame with chrom, start, end[, summit]; one model input
        window per region, centred on the summit, else the centre), ``"chr:start-end"`` strings (0-based, end
        exclusive), a FASTA path (``.fa``/``.fasta``/``.fna``/``.fas``, optionally ``.gz``), DNA strings (a str,
        a list, or a dict name -> sequence; each at least the model's input length ``L``, longer ones tiled every
        ``L // 2`` bp), or one-hot arrays, shape (n, L, 4) or (L, 4).
    model : str or Models, default "ensemble"
        As ``seq2acc predict --model``: ``ensemble`` (the mean over every trained fold), ``heldout``, ``fold<K>``,
        a ``model.keras`` path, ``models:/<name>@<alias>``; or a :class:`~seq2acc.apps.predict.Models`.
    params : str, Path or Params, default "params.yaml"
        The project: its models, genome (``genome.fasta_out``), ``dataset.bin_size`` and the ``attribute``
        section, which gives every setting not passed here.
    genome : str or Path, optional
        Genome FASTA (plain/gzip/bgzip) or 2bit for genomic inputs; default the project's.
    method : {"deepshap", "grad_x_input", "ism"}, optional
        Default ``attribute.method``.
    null_shuffles, n_refs, seed : int, optional
        Shuffled null copies per window, DeepSHAP references per sequence, random seed; default ``attribute.*``.
    out : str or Path, optional
        Also write every output (:func:`write_explanation`) into this directory.
    kind : {"regions", "region", "fasta", "sequences", "onehot"}, optional
        What ``inputs`` is, when not to be guessed.
    progress : bool, default True
        tqdm progress bars.

    Returns
    -------
    Explanation
        ``n`` windows: ``regions`` (DataFrame, n rows), ``contrib``/``hyp``/``onehot`` (n, L, 4) float32,
        ``per_base`` (n, L), ``test.position_q`` (n, L) and ``test.window_q`` (n, L - window + 1) BH q-values,
        ``significant`` (merged significant windows), ``summary()`` (one row per window), ``bases()`` (one row per
        base), ``significant_bed()``; see :class:`Explanation`.

    Raises
    ------
    seq2acc.errors.InputError
        An input that cannot be read or explained (no such file, a region off its chromosome, an unknown
        chromosome, letters other than DNA, a sequence shorter than ``L``, an unknown model), naming it and the fix.
    seq2acc.errors.ArgumentError
        A bad ``method``, ``null_shuffles`` or ``n_refs``.

    Examples
    --------
    >>> e = seq2acc.explain("my.bed", out="explained")                 # the fold ensemble, DeepSHAP
    >>> e.summary()[["chrom", "start", "end", "logit", "significant_bp"]]
    >>> e = seq2acc.explain(["ACGT..."], model="fold0", method="ism")   # strings >= the input length
    >>> e.per_base.shape, e.test.window_q.shape                        # (1, L), (1, L - window + 1)
    """
    from seq2acc.config import Params, layout

    t0 = time.perf_counter()
    if out is not None:
        check_out_dir(out)  # before any work
    p = params if isinstance(params, Params) else Params.load(params)
    cfg = settings(p, method, null_shuffles, n_refs, seed)
    models = model if isinstance(model, Models) else models_from_params(p, str(model), calibrated=False)
    bin_size = p.get("dataset.bin_size", int, gt=0)
    kind = kind or classify_inputs(inputs, "seq2acc explain")
    if kind not in INPUT_KINDS:
        raise ArgumentError("kind", f"{kind!r}", f"use one of {', '.join(INPUT_KINDS)}")
    g = None
    if kind in ("regions", "region"):
        g = Genome(genome or layout(p).genome)
        regions, what = regions_table(inputs, kind, g)
        e = explain_regions(models, g, regions, cfg, bin_size, what, progress)
    elif kind == "fasta":
        e = explain_sequences(models, read_fasta_records(inputs), cfg, bin_size, inputs, progress)
    elif kind == "sequences":
        records = sequence_records(inputs)
        e = explain_sequences(models, records, cfg, bin_size, "sequences", progress)
    else:
        L = models.context
        x = onehot_windows(inputs, L)
        win = pd.DataFrame({"chrom": [f"seq{i + 1}" for i in range(len(x))], "start": 0, "end": L,
                            "bin_start": (L - bin_size) // 2})
        e = explain_onehot(models, x, win, cfg, False, progress)
    e.attrs["model"] = model if isinstance(model, str) else "Models"
    log.info("explained %d window(s) in %.1f s: %d significant region(s) (window q < %g)", len(e.regions),
             time.perf_counter() - t0, len(e.significant), cfg.alpha)
    if out is not None:
        write_explanation(e, out, g.sizes if g is not None else None, cfg.top_logos, cfg.logo_width,
                          {"seconds": round(time.perf_counter() - t0, 1)})
    return e
