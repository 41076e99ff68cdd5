"""``seq2acc predict``: a trained model's predictions for the user's own sequences, regions or whole chromosomes.

Inputs (one of): a FASTA of sequences (each exactly the model's input length, or longer and tiled at the grid
stride), a BED/narrowPeak of regions (the input window centred on the narrowPeak summit, else the centre), a
region string ``chr:start-end`` (0-based half-open, like BED), or whole chromosomes (every grid window, as the
genome-wide evaluation scores them). Models: a ``model.keras`` path, ``fold<K>``, ``ensemble`` (the mean logit of
every trained fold), ``heldout`` (genomic inputs: each chromosome scored by the fold model that held it out,
leakage-free) or a registry URI (``models:/<name>@champion``: the registered fold ensemble, its folds' calibrations
included; ``models:/<name>@best_fold``: one fold model). Outputs: a TSV (window, labelled bin, logit,
calibrated_logit, probability) and, for genomic inputs, a bedGraph or bigWig of the probability per labelled bin.

Calibration: for ``fold<K>``, ``ensemble`` and ``heldout`` each fold's model has a calibration fitted by
``evaluate@K`` on its validation chromosomes (``predictions/fold<K>/info.json``, key ``calibration.cnn``).
``logit`` is the raw model logit (the mean over the models for ``ensemble``), the number stored in the evaluation's
``scores.h5``; ``calibrated_logit`` applies each fold's calibration to its own logit first (then averages over the
models), and ``probability`` is its sigmoid, so probabilities are comparable across folds and chromosomes (as in
``tracks/cnn_heldout.bw``). When a fold's calibration is not available (not evaluated yet; a model file or registry
URI, whose fold is unknown) that fold's logits stay raw (``ensemble``: no fold is calibrated then, so raw and
calibrated logits are never averaged), with a warning. The calibration was fitted on the evaluation's strand setting
(``evaluate.rc_average``).

Inputs are read and checked by :mod:`seq2acc.apps.inputs` (shared with ``seq2acc explain``). Every window is
predicted with the project's one predict primitive (:func:`seq2acc.model.predict.predict_logits`)
or, for whole chromosomes, with the same shared-trunk scorer as ``evaluate@K``, so the numbers equal the
pipeline's own for the same windows.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.apps.inputs import check_chromosome, read_fasta_records, region_windows, sequence_windows
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.fold_calibration import fold_calibrations
from seq2acc.data.folds import load_folds
from seq2acc.errors import InputError
from seq2acc.evaluate.calibration import mean_calibrated
from seq2acc.io.atomic import atomic_path
from seq2acc.io.bigwig import sigmoid
from seq2acc.io.fasta import Genome
from seq2acc.model.load import load_model
from seq2acc.model.predict import predict_logits
from seq2acc.seq.encoding import onehot_codes

log = logging.getLogger(__name__)


@dataclass
class Models:
    """Fold -> Keras model; ``heldout`` maps chromosomes to the fold that held them out (None: average all);
    ``calibration``: fold -> its CNN calibration (None: none applied)."""

    models: dict
    heldout: dict | None = None
    calibration: dict | None = None

    @property
    def context(self) -> int:
        return int(next(iter(self.models.values())).input_shape[1])

    def for_chrom(self, chrom: str | None) -> list:
        """The folds whose models score ``chrom``: its held-out fold in ``heldout`` mode, else all of them (whose
        logits are averaged). ``chrom`` None (FASTA sequences): all of them."""
        if self.heldout is None or chrom is None:
            return list(self.models)
        if chrom not in self.heldout:
            raise InputError(chrom, "no trained fold holds this chromosome out", "use --model ensemble or a fold")
        return [self.heldout[chrom]]

    def combine(self, per_fold: dict) -> tuple[np.ndarray, np.ndarray]:
        """(mean raw logit, mean calibrated logit) of ``{fold: logits}``."""
        raw = mean_calibrated(per_fold, None)
        return raw, (mean_calibrated(per_fold, self.calibration) if self.calibration else raw)


def resolve_models(spec: str, models_dir, folds_path=None, folds=None, predictions_dir=None) -> Models:
    """The models named by ``spec`` (see the module docstring); ``folds``: the trained folds (``train.folds``);
    ``predictions_dir``: the evaluation's ``predictions/`` (fold calibrations; None = no calibration)."""
    if spec.startswith("models:/"):
        from seq2acc.mlops import tracking

        uri = tracking.tracking_uri()
        if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).exists():  # looking must not create one
            raise InputError(spec, f"no MLflow store at {uri[len('sqlite:///'):]}, so no registered model",
                             "run the pipeline first (`make demo`: `promote` registers the models), set "
                             "MLFLOW_TRACKING_URI to the store, or give --model fold<K>")
        import mlflow

        mlflow.set_tracking_uri(uri)
        try:
            if "keras" not in mlflow.models.get_model_info(spec).flavors:  # the fold ensemble (pyfunc): its folds
                ens = mlflow.pyfunc.load_model(spec).unwrap_python_model()
                if not ens.calibration:
                    log.warning("%s: no fold of the ensemble is calibrated: raw logits", spec)
                return Models(dict(ens.models), calibration=dict(ens.calibration) or None)
            return Models({0: mlflow.keras.load_model(spec)})
        except Exception as e:  # noqa: BLE001 - any registry failure is a user-facing problem with the URI
            raise InputError(spec, f"cannot load the registered model: {e}",
                             "check the name and alias (`seq2acc ui` lists them) or give --model fold<K>") from e
    m = re.fullmatch(r"fold(\d+)", spec)
    if m:
        k = int(m.group(1))
        return Models({k: load_model(fold_model.model_path(models_dir, k))},
                      calibration=fold_calibrations([k], predictions_dir))
    if spec in ("ensemble", "heldout"):
        folds = list(folds or [])
        if not folds:
            raise InputError(models_dir, "no trained fold listed", "train folds first (`dvc repro train`)")
        models = {k: load_model(fold_model.model_path(models_dir, k)) for k in folds}
        heldout = None
        if spec == "heldout":
            heldout = {c: f["fold"] for f in load_folds(folds_path) if f["fold"] in models for c in f["test"]}
        return Models(models, heldout, fold_calibrations(list(models), predictions_dir, require_all=heldout is None))
    if Path(spec).exists():
        return Models({0: load_model(spec)})
    raise InputError(spec, "no such model",
                     "give a model.keras path, fold<K>, ensemble, heldout or models:/<name>@<alias>")


def models_from_params(p, spec: str, calibrated: bool = True) -> Models:
    """:func:`resolve_models` of ``spec`` in the project of params ``p`` (its models, folds, ``train.folds`` and,
    when ``calibrated``, the folds' calibrations)."""
    from seq2acc.config import layout

    lay = layout(p)
    return resolve_models(spec, lay.models, lay.folds, p.get("train.folds", list),
                          lay.predictions if calibrated else None)


def _logits(models: Models, x: np.ndarray, chrom: str | None, rc_average: bool) -> tuple[np.ndarray, np.ndarray]:
    return models.combine({k: predict_logits(models.models[k], x, 0, rc_average=rc_average)
                           for k in models.for_chrom(chrom)})


def _table(rows: dict, logits: tuple[np.ndarray, np.ndarray], context: int, bin_size: int) -> pd.DataFrame:
    """Window columns + the labelled central bin (``bin_start``, ``bin_end``) + logit, calibrated logit and
    probability (of the calibrated logit)."""
    df = pd.DataFrame(rows)
    off = (context - bin_size) // 2
    df.insert(3, "bin_start", df.start + off)
    df.insert(4, "bin_end", df.start + off + bin_size)
    df["logit"] = np.asarray(logits[0], dtype=np.float64)
    df["calibrated_logit"] = np.asarray(logits[1], dtype=np.float64)
    df["probability"] = sigmoid(df["calibrated_logit"].to_numpy())
    return df


def predict_fasta(models: Models, path, stride: int, bin_size: int, rc_average: bool = True) -> pd.DataFrame:
    """One row per window of each FASTA record: records of exactly the input length give one window, longer ones
    are tiled every ``stride`` bp (the last window ends at the record's end). Columns: name, start, end (window in
    the record), bin_start, bin_end (the labelled central bin), logit, probability."""
    L = models.context
    rows, codes = sequence_windows(read_fasta_records(path), L, stride, path)
    x = onehot_codes(codes)
    return _table(rows, _logits(models, x, None, rc_average), L, bin_size)  # no chromosome: every fold's mean


def predict_regions(models: Models, genome: Genome, regions: pd.DataFrame, bin_size: int, what: str,
                    rc_average: bool = True) -> pd.DataFrame:
    """One window per region, centred on its summit (column ``summit`` >= 0) or centre. Columns: chrom, start, end
    (the input window, 0-based half-open), bin_start, bin_end, region_start, region_end, logit, probability."""
    L = models.context
    win = region_windows(genome, regions, L, what)
    out = []
    for c, idx in win.groupby("chrom", sort=False).indices.items():
        w = win.iloc[idx]
        x = onehot_codes(genome.gather(c, w.start.to_numpy(), L))
        t = _table({col: w[col].to_numpy() for col in win.columns}, _logits(models, x, c, rc_average), L, bin_size)
        t.index = idx
        out.append(t)
    return pd.concat(out).sort_index().reset_index(drop=True)


def predict_chromosome(models: Models, genome: Genome, chrom: str, bin_size: int, stride: int,
                       rc_average: bool = True, progress: bool = True) -> pd.DataFrame:
    """Every grid window of ``chrom`` (bin starts at multiples of ``stride`` whose window fits the chromosome),
    scored with the same scorer as ``evaluate@K``. Columns as :func:`predict_regions` without the region ones."""
    from seq2acc.evaluate.scorers import make_scorer

    check_chromosome(genome, chrom)
    L = models.context
    off = (L - bin_size) // 2
    bins = np.arange(0, genome.sizes[chrom] - bin_size + 1, stride, dtype=np.int64)
    starts = bins - off
    starts = starts[(starts >= 0) & (starts + L <= genome.sizes[chrom])]
    if not len(starts):
        raise InputError(chrom, f"shorter than the model's {L} bp input", "score a longer chromosome")
    logits = models.combine({k: make_scorer(models.models[k], L, stride, rc_average=rc_average).score(
        genome, chrom, starts, progress=progress)[:, 0] for k in models.for_chrom(chrom)})
    return _table({"chrom": chrom, "start": starts, "end": starts + L}, logits, L, bin_size)


@dataclass(frozen=True)
class ChromosomeJob:
    """``predict_chromosome`` of one chromosome as a picklable callable for :func:`seq2acc.apps.shard.map_chromosomes`
    (local processes or Ray tasks): everything by value or absolute path; each process loads the models once
    (:func:`_cached_models`) and keeps them for its next chromosomes. ``skip_short``: a chromosome shorter than
    the model's input gives None (``--chrom all``) instead of an error."""

    model: str
    models_dir: str
    folds_path: str
    folds: tuple
    predictions_dir: str
    genome: str
    bin_size: int
    stride: int
    rc_average: bool = True
    tracking_uri: str | None = None  # for models:/ URIs (a Ray worker's working directory is not the driver's)
    skip_short: bool = False

    def models(self) -> Models:
        return _cached_models(self.model, self.models_dir, self.folds_path, self.folds, self.predictions_dir,
                              self.tracking_uri)

    def __call__(self, chrom: str) -> pd.DataFrame | None:
        models, genome = self.models(), _cached_genome(self.genome)
        if self.skip_short and chrom in genome.sizes and genome.sizes[chrom] < models.context:
            log.info("%s: %d bp, shorter than the model's %d bp input: skipped", chrom, genome.sizes[chrom],
                     models.context)
            return None
        return predict_chromosome(models, genome, chrom, self.bin_size, self.stride, self.rc_average,
                                  progress=False)


@functools.lru_cache(maxsize=2)
def _cached_models(spec, models_dir, folds_path, folds, predictions_dir, tracking_uri) -> Models:
    if tracking_uri:
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    return resolve_models(spec, models_dir, folds_path, list(folds), predictions_dir)


@functools.lru_cache(maxsize=2)
def _cached_genome(path) -> Genome:
    return Genome(path)


def predict_chromosomes(job: ChromosomeJob, chroms: list[str], **shard) -> pd.DataFrame:
    """:class:`ChromosomeJob` over ``chroms`` sharded by :func:`seq2acc.apps.shard.map_chromosomes` (``shard``: its
    ``workers``, ``ray_address``, ``ray_cpus``, ``ray_gpus``), concatenated in the order of ``chroms``: the same
    table whatever the sharding."""
    from seq2acc.apps.shard import map_chromosomes

    try:
        parts = map_chromosomes(job, chroms, sizes=_cached_genome(job.genome).sizes, desc="predict", **shard)
    finally:  # this process's models: a later call may find them retrained
        _cached_models.cache_clear()
        _cached_genome.cache_clear()
    parts = [t for t in parts if t is not None]
    if not parts:
        raise InputError(job.genome, "no chromosome is as long as the model's input", "score a genome with longer "
                         "sequences")
    return pd.concat(parts, ignore_index=True)


def chromosome_list(names: list[str], genome: Genome, heldout_chroms: set | None = None) -> list[str]:
    """The chromosomes of ``--chrom`` (repeatable, comma-separated lists allowed) in the given order; ``all`` = every
    sequence of the genome in its order (with ``heldout_chroms``: only those some trained fold holds out; the others
    are logged). Unknown names are an :class:`InputError` naming them."""
    want = [c for n in names for c in n.split(",") if c]
    if "all" in want:
        if want != ["all"]:
            raise InputError(" ".join(names), "`all` cannot be combined with other chromosomes",
                             "give --chrom all, or list the chromosomes")
        want = list(genome.sizes)
        if heldout_chroms is not None:
            skipped = [c for c in want if c not in heldout_chroms]
            if skipped:
                log.info("--model heldout: %d sequence(s) no trained fold holds out are skipped: %s", len(skipped),
                         ", ".join(skipped[:10]) + (", ..." if len(skipped) > 10 else ""))
            want = [c for c in want if c in heldout_chroms]
    seen = set()
    dup = [c for c in want if c in seen or seen.add(c)]
    if dup:
        raise InputError(" ".join(names), f"chromosome(s) listed twice: {dup[:5]}", "list each chromosome once")
    unknown = [c for c in want if c not in genome.sizes]
    if unknown:
        raise InputError(unknown[0], f"not a sequence of {genome.path}" + (
            f" (nor {len(unknown) - 1} other(s) listed)" if len(unknown) > 1 else ""),
            f"use one of {', '.join(list(genome.sizes)[:8])}{', ...' if len(genome.sizes) > 8 else ''} (or all)")
    return want


def write_outputs(df: pd.DataFrame, out, genome: Genome | None, bin_size: int, stride: int) -> Path:
    """``out`` by its suffix: ``.tsv`` (the table), ``.bedGraph`` / ``.bw`` (probability per labelled bin; genomic
    inputs only)."""
    from seq2acc.io.bigwig import write_bedgraph, write_bigwig

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".bw", ".bigwig", ".bedgraph"):
        if genome is None or "chrom" not in df:
            raise InputError(out, "a track needs genomic inputs (--regions, --region or --chrom)",
                             "write a .tsv for FASTA sequences")
        per = {c: (g.bin_start.to_numpy(), g.probability.to_numpy()) for c, g in df.groupby("chrom", sort=False)}
        if suffix == ".bedgraph":
            if len(per) != 1:
                raise InputError(out, "a bedGraph holds one chromosome here", "write a .bw for several chromosomes")
            (c, (b, v)), = per.items()
            return write_bedgraph(out, c, b, v, bin_size, stride, genome.sizes[c], name="seq2acc predict",
                                  view_limits=(0, 1))
        return write_bigwig(out, per, bin_size, stride, genome.sizes)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    return out


def predict(inputs=None, model="ensemble", *, params="params.yaml", genome=None, chrom=None, rc_average: bool = True,
            kind: str | None = None) -> pd.DataFrame:
    """Predictions of a trained project's model(s) for the user's own inputs: ``seq2acc predict`` as a function.

    Parameters
    ----------
    inputs
        A BED/narrowPeak path or a DataFrame (chrom, start, end[, summit]): one model input window per region,
        centred on the summit, else the centre; ``"chr:start-end"`` strings (0-based, end exclusive); a FASTA path;
        DNA strings (a str, a list, or a dict name -> sequence; each at least the model's input length ``L``, longer
        ones tiled at ``dataset.stride``); or one-hot arrays, shape (n, L, 4) or (L, 4). None with ``chrom``.
    model : str or Models, default "ensemble"
        As ``seq2acc predict --model``: ``ensemble``, ``heldout``, ``fold<K>``, a ``model.keras`` path,
        ``models:/<name>@<alias>``; or a :class:`Models` (:func:`models_from_params`).
    params : str, Path or Params, default "params.yaml"
        The project: its models, fold calibrations, genome and ``dataset.bin_size`` / ``dataset.stride``.
    genome : str or Path, optional
        Genome FASTA (plain/gzip/bgzip) or 2bit for genomic inputs; default the project's ``genome.fasta_out``.
    chrom : str or list of str, optional
        Whole chromosomes instead of ``inputs``: every grid window, scored as ``evaluate@K`` scores them.
    rc_average : bool, default True
        Average each window's logit over both strands (as the evaluation does).
    kind : {"regions", "region", "fasta", "sequences", "onehot"}, optional
        What ``inputs`` is, when not to be guessed.

    Returns
    -------
    pandas.DataFrame
        One row per window: where it is (chrom/name, start, end; bin_start, bin_end: the labelled central bin;
        region_start, region_end for regions), ``logit`` (raw; the mean over the models), ``calibrated_logit``
        (each fold's validation calibration applied first) and ``probability`` (its sigmoid).

    Examples
    --------
    >>> seq2acc.predict("my.bed")                          # fold ensemble, one window per region
    >>> seq2acc.predict(["ACGT..."], model="fold0")        # DNA strings >= the input length
    >>> seq2acc.predict(chrom="chrIV", model="heldout")    # leakage-free genome-wide track of one chromosome
    """
    from seq2acc.apps.inputs import INPUT_KINDS, classify_inputs, onehot_windows, regions_table, sequence_records
    from seq2acc.config import Params, layout
    from seq2acc.errors import ArgumentError

    p = params if isinstance(params, Params) else Params.load(params)
    models = model if isinstance(model, Models) else models_from_params(p, str(model))
    bin_size, stride = p.get("dataset.bin_size", int, gt=0), p.get("dataset.stride", int, gt=0)
    if (inputs is None) == (chrom is None):
        raise ArgumentError("inputs", "give exactly one of inputs and chrom", "predict(inputs) or predict(chrom=...)")
    if chrom is not None:
        g = Genome(genome or layout(p).genome)
        names = [chrom] if isinstance(chrom, str) else list(chrom)
        return pd.concat([predict_chromosome(models, g, c, bin_size, stride, rc_average) for c in names],
                         ignore_index=True)
    kind = kind or classify_inputs(inputs, "seq2acc predict")
    if kind not in INPUT_KINDS:
        raise ArgumentError("kind", f"{kind!r}", f"use one of {', '.join(INPUT_KINDS)}")
    L = models.context
    if kind in ("regions", "region"):
        g = Genome(genome or layout(p).genome)
        regions, what = regions_table(inputs, kind, g)
        return predict_regions(models, g, regions, bin_size, what, rc_average)
    if kind == "fasta":
        return predict_fasta(models, inputs, stride, bin_size, rc_average)
    if kind == "sequences":
        rows, codes = sequence_windows(sequence_records(inputs), L, stride, "sequences")
        return _table(rows, _logits(models, onehot_codes(codes), None, rc_average), L, bin_size)
    x = onehot_windows(inputs, L)
    rows = {"name": [f"seq{i + 1}" for i in range(len(x))], "start": [0] * len(x), "end": [L] * len(x)}
    return _table(rows, _logits(models, x, None, rc_average), L, bin_size)
