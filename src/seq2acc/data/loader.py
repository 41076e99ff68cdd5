"""The one training input loader: examples of a fold's chromosomes -> shuffled one-hot batches as ``tf.data``.

:class:`BatchSource` batches one table; :class:`EpochSource` adds, each epoch, fresh samples of genome-wide
negative bins (``train.genomewide_negatives`` and friends); :func:`fold_data` builds both sources of a fold and
:func:`make_dataset` wraps either for Keras.

Labels are ``(n, n_tasks)``: one column per task of the label matrix (``label:<task>``, docs/multitask.md), in the
datasets' task order; a one-task table may give just ``label``. The genome-wide negative pools are bins positive for
NO task, each with its label row (0 for every task, or :data:`~seq2acc.data.store.MISSING_LABEL` where a task has no
label), so an extra negative never carries another task's positive as a 0.

The example tables (intervals and labels, a few MB) are read whole from HDF5 and shuffled in memory; the
sequence comes from whole-chromosome code arrays (``Genome``), gathered per batch with numpy fancy indexing and
one-hot encoded on the fly. No random single-row HDF5 reads, no stored one-hot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2acc.data.folds import get_fold, load_folds
from seq2acc.data.store import dataset_path, label_columns, read_examples, read_genomewide, read_task_names
from seq2acc.errors import ArgumentError
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import onehot_codes, revcomp_codes

# Examples gathered per numpy call and per tf.data element, in whole batches (a speed setting only: the batches
# do not change). 2048 x 1000 bp is 2 MB of codes and 32 MB of one-hot per element.
CHUNK_EXAMPLES = 2048


def chunk_batches(batch_size: int) -> int:
    """Batches per chunk: as many whole batches as fit in :data:`CHUNK_EXAMPLES` (at least one)."""
    return max(1, CHUNK_EXAMPLES // int(batch_size))


@dataclass
class BatchSource:
    """Deterministic batch generator over an example table (numpy only; wrapped by :func:`make_dataset`).

    An epoch is one permutation of the table (``numpy.random.default_rng([seed, epoch])``), then, batch by batch
    from the same generator, the shifts (``max_shift``) and the reverse-complement flips (``rc_augment``) of that
    batch's examples. Windows are gathered as uint8 codes for several batches at once and reverse-complemented in
    code space; :meth:`epoch_batches` one-hot encodes them, :func:`make_dataset` ships the codes to ``tf.data``
    and one-hot encodes them there. Both give the same batches (``tests/test_pipeline.py``).

    ``label_columns``: the table's label columns, one per task (model output order); ``y`` is (n, n_tasks)."""

    genome: Genome
    table: pd.DataFrame
    batch_size: int = 128
    shuffle: bool = True
    seed: int = 0
    rc_augment: bool = False
    max_shift: int = 0
    context: int = 1000
    label_columns: tuple = ("label",)

    def __post_init__(self):
        self.table = self.table.reset_index(drop=True)
        self.label_columns = tuple(self.label_columns)
        self._chrom_codes = {c: i for i, c in enumerate(sorted(self.table.chrom.unique()))}
        self._chrom_idx = self.table.chrom.map(self._chrom_codes).to_numpy()
        self._start = self.table.start.to_numpy(np.int64)
        self._label = self.table[list(self.label_columns)].to_numpy(np.float32)  # (n, n_tasks)
        self._size = self.table.chrom_size.to_numpy(np.int64)
        self._names = {i: c for c, i in self._chrom_codes.items()}
        self.epoch = 0

    def __len__(self):
        return int(np.ceil(len(self.table) / self.batch_size))

    @property
    def n_tasks(self) -> int:
        return len(self.label_columns)

    def _draws(self, n: int, rng: np.random.Generator | None):
        """One batch's augmentation draws, in the loader's fixed order: shifts, then flips (None when off)."""
        shift = flip = None
        if self.max_shift and rng is not None:
            shift = rng.integers(-self.max_shift, self.max_shift + 1, size=n)
        if self.rc_augment and rng is not None:
            flip = rng.random(n) < 0.5
        return shift, flip

    def codes(self, idx: np.ndarray, shift: np.ndarray | None = None, flip: np.ndarray | None = None) -> np.ndarray:
        """(len(idx), context) uint8 codes of examples ``idx``: windows moved by ``shift`` (clipped to the
        chromosome), the rows where ``flip`` is true reverse-complemented."""
        starts = self._start[idx]
        if shift is not None:
            starts = np.clip(starts + shift, 0, self._size[idx] - self.context)
        codes = np.empty((len(idx), self.context), dtype=np.uint8)
        ci = self._chrom_idx[idx]
        for c in np.unique(ci):
            m = ci == c
            codes[m] = self.genome.gather(self._names[int(c)], starts[m], self.context)
        if flip is not None and flip.any():
            codes[flip] = revcomp_codes(codes[flip])
        return codes

    def batch(self, idx: np.ndarray, rng: np.random.Generator | None = None):
        """One-hot ``x`` (n, context, 4) float32 and labels ``y`` (n, n_tasks) of examples ``idx``, augmented from
        ``rng`` (None: no augmentation)."""
        x = onehot_codes(self.codes(idx, *self._draws(len(idx), rng)))
        return x, self._label[idx]

    def epoch_chunks(self, batches_per_chunk: int = 1):
        """The next epoch as uint8 codes, ``batches_per_chunk`` batches at a time: yields ``codes``
        (k, batch_size, context) uint8 and ``y`` (k, batch_size, n_tasks) float32; a last short batch comes alone
        (k = 1). The epoch counter moves when the epoch starts."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.table)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        aug_rng = rng if (self.rc_augment or self.max_shift) else None
        bs, k = self.batch_size, max(1, int(batches_per_chunk))
        n_full = n // bs
        spans = [(b, min(b + k, n_full)) for b in range(0, n_full, k)] + ([(n_full, n_full + 1)] if n % bs else [])
        for b0, b1 in spans:
            lo, hi = b0 * bs, min(b1 * bs, n)
            nb = b1 - b0
            draws = [self._draws(min(bs, hi - lo - j * bs), aug_rng) for j in range(nb)]  # batch by batch
            shift, flip = (np.concatenate(d) if d[0] is not None else None for d in zip(*draws))
            idx = order[lo:hi]
            yield (self.codes(idx, shift, flip).reshape(nb, -1, self.context),
                   self._label[idx].reshape(nb, -1, self.n_tasks))

    def epoch_batches(self):
        """The next epoch's batches: one-hot ``x`` (n, context, 4) float32, labels ``y`` (n, n_tasks) float32."""
        for codes, y in self.epoch_chunks(chunk_batches(self.batch_size)):
            for c, yy in zip(codes, y):
                yield onehot_codes(c), yy


def fold_table(data_dir, chroms, tasks: bool = False) -> pd.DataFrame:
    """Example table of a list of chromosomes (e.g. a fold's training chromosomes); ``tasks=True`` adds the
    per-task label columns (``seq2acc.data.store.label_columns``)."""
    return read_examples([dataset_path(data_dir, c) for c in chroms], tasks=tasks)


EXTRA_KINDS = ("random", "elsewhere", "flank")  # genome-wide negative pools (source codes 4, 5, 6)


_EXTRA_CODE = {"random": 4, "elsewhere": 5, "flank": 6}


class EpochSource:
    """Training batches of one fold: the fold's examples plus, each epoch, fresh samples of genome-wide negatives.

    ``extra`` is a list of ``(pool, n)``: ``n`` rows drawn without replacement from ``pool`` (a table in the
    example layout) every epoch. Deterministic: epoch ``e`` uses ``numpy.random.default_rng([seed, e, i])`` for the
    sample of pool ``i``, and ``BatchSource`` seeds the order and the augmentations by ``(seed, e)``.
    ``label_columns``: one per task, present in ``examples`` and every pool.
    """

    def __init__(self, genome: Genome, examples: pd.DataFrame, extra: list | None, batch_size: int, seed: int,
                 rc_augment: bool, max_shift: int, context: int, shuffle: bool = True, label_columns=("label",)):
        self.genome, self.examples = genome, examples.reset_index(drop=True)
        self.extra = [(pool, min(int(n), len(pool))) for pool, n in (extra or []) if pool is not None and len(pool)
                      and int(n) > 0]
        self.label_columns = tuple(label_columns)
        self.kw = dict(batch_size=batch_size, shuffle=shuffle, rc_augment=rc_augment, max_shift=max_shift,
                       context=context, label_columns=self.label_columns)
        self.context = context
        self.seed = int(seed)
        self.epoch = 0
        self.n = len(self.examples) + sum(n for _, n in self.extra)
        self.batch_size = batch_size

    def __len__(self):
        return int(math.ceil(self.n / self.batch_size))

    def table(self, epoch: int) -> pd.DataFrame:
        if not self.extra:
            return self.examples
        parts = [self.examples]
        for i, (pool, n) in enumerate(self.extra):
            rng = np.random.default_rng([self.seed, epoch, i + 1])
            parts.append(pool.iloc[np.sort(rng.choice(len(pool), size=n, replace=False))])
        return pd.concat(parts, ignore_index=True)

    @property
    def n_tasks(self) -> int:
        return len(self.label_columns)

    def labels(self, epoch: int = 0) -> np.ndarray:
        """(n, n_tasks) float32 labels of epoch ``epoch``'s table."""
        return self.table(epoch)[list(self.label_columns)].to_numpy(np.float32)

    def epoch_batches(self):
        # Count the epoch when it starts: Keras stops after len(self) batches (the dataset's cardinality) and
        # drops the generator unfinished, so code after the last yield would never run (same data every epoch).
        epoch, self.epoch = self.epoch, self.epoch + 1
        yield from self._source(epoch).epoch_batches()

    def epoch_chunks(self, batches_per_chunk: int = 1):
        """As :meth:`BatchSource.epoch_chunks` (uint8 codes, several batches at a time) for the next epoch."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        yield from self._source(epoch).epoch_chunks(batches_per_chunk)

    def _source(self, epoch: int) -> BatchSource:
        src = BatchSource(self.genome, self.table(epoch), seed=self.seed, **self.kw)
        src.epoch = epoch
        return src


def _label_part(df: pd.DataFrame, mask=None) -> dict:
    """The per-task label columns (``label:<task>``) of a genome-wide table read with ``tasks=True``."""
    cols = [c for c in df.columns if c.startswith("label:")]
    return {c: (df[c].to_numpy(np.uint8) if mask is None else df[c].to_numpy(np.uint8)[mask]) for c in cols}


def genomewide_table(data_dir, chroms) -> pd.DataFrame:
    """Every genome-wide bin (positive and negative) of ``chroms`` in the example-table layout (source 7), with the
    per-task label columns."""
    frames = []
    for c in chroms:
        chrom, size, spec, df = read_genomewide(dataset_path(data_dir, c), tasks=True)
        st = df.start.to_numpy(np.int64)
        frames.append(pd.DataFrame({"chrom": chrom, "start": st, "end": st + spec.context,
                                    "bin_start": df.bin_start.to_numpy(np.int64), "label": df.label.to_numpy(np.uint8),
                                    "source": np.uint8(7), "n_frac": df.n_frac.to_numpy(np.float32),
                                    "chrom_size": size, **_label_part(df)}))
    return pd.concat(frames, ignore_index=True)


def genomewide_pools(data_dir, chroms, kinds=EXTRA_KINDS, elsewhere=None, flank_bins: int = 3) -> dict:
    """Negative genome-wide bins of ``chroms`` in the example-table layout, by kind, with the per-task label columns.
    A bin is negative when it is positive for no task (``labels.any(1) == 0``: another task's positive is never drawn
    as a negative for everything).

    - ``random``: every negative bin;
    - ``elsewhere``: negative bins covered more than ``positive_overlap`` by the 'elsewhere' peaks (``elsewhere`` is
      an :class:`~seq2acc.io.bed.Intervals`; the same rule that labels positives);
    - ``flank``: negative bins within ``flank_bins`` grid steps of a positive bin.
    """
    cols = ["chrom", "start", "end", "bin_start", "label", "source", "n_frac", "chrom_size"]
    frames = {k: [] for k in kinds}
    for c in chroms:
        chrom, size, spec, df = read_genomewide(dataset_path(data_dir, c), tasks=True)
        bins = df.bin_start.to_numpy(np.int64)
        neg = ~(df[[col for col in df.columns if col.startswith("label:")]].to_numpy() == 1).any(axis=1)
        masks = {"random": neg}
        if "elsewhere" in kinds:
            es = elsewhere.chrom(chrom) if elsewhere is not None else (np.zeros(0, np.int64), np.zeros(0, np.int64))
            masks["elsewhere"] = neg & spec.labels(bins, *es).astype(bool)
        if "flank" in kinds:
            pos = np.sort(bins[~neg])
            if len(pos):
                i = np.clip(np.searchsorted(pos, bins), 1, len(pos)) - 1
                j = np.clip(i + 1, 0, len(pos) - 1)
                dist = np.minimum(np.abs(bins - pos[i]), np.abs(bins - pos[j]))
                masks["flank"] = neg & (dist <= flank_bins * spec.stride)
            else:
                masks["flank"] = np.zeros(len(bins), bool)
        for k in kinds:
            sub = df[masks[k]]
            frames[k].append(pd.DataFrame({"chrom": chrom, "start": sub.start.to_numpy(np.int64),
                                           "end": sub.start.to_numpy(np.int64) + spec.context,
                                           "bin_start": sub.bin_start.to_numpy(np.int64),
                                           "label": sub.label.to_numpy(np.uint8),
                                           "source": np.uint8(_EXTRA_CODE[k]), "n_frac": sub.n_frac.to_numpy(np.float32),
                                           "chrom_size": size, **_label_part(sub)}))
    return {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame(columns=cols) for k, v in frames.items()}


def class_weight_arrays(weights, n_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """``(w0, w1)``, one weight per task for negatives and positives, of ``weights``: one mapping ``{0: w0, 1: w1}``
    for every task, or a list of such mappings, one per task (a missing class weighs 1)."""
    per = list(weights) if isinstance(weights, (list, tuple)) else [weights] * n_tasks
    if len(per) != n_tasks:
        raise ArgumentError("weights", f"{len(per)} class weightings for {n_tasks} tasks", "give one per task")
    return (np.array([float(w.get(0, 1.0)) for w in per]), np.array([float(w.get(1, 1.0)) for w in per]))


def make_dataset(source, weights=None):
    """The ``tf.data.Dataset`` (prefetched, cardinality known) of a :class:`BatchSource` or :class:`EpochSource`,
    re-iterated once per epoch; with ``weights`` ({0: w0, 1: w1}, or one such mapping per task) each batch also
    carries per-example weights (one task: ``(batch,)``) or per-entry weights (several: ``(batch, n_tasks)``).

    Yields ``x`` (batch, context, 4) float32 one-hot, ``y`` (batch, n_tasks) float32 labels[, ``w``]: the
    batches of ``source.epoch_batches()``, in the same order. The Python generator only gathers uint8 codes, whole
    batches up to :data:`CHUNK_EXAMPLES` examples per call (a sixteenth of the one-hot's bytes cross into
    TensorFlow); the one-hot encoding (:func:`seq2acc.seq.encoding.onehot_codes_tf`) and the weights run in
    parallel ``tf.data`` map threads outside the GIL, one op per chunk; the chunk is then split into its batches
    and prefetched ahead of the training step."""
    import tensorflow as tf

    from seq2acc.seq.encoding import onehot_codes_tf

    context, k, n_tasks = source.context, chunk_batches(source.batch_size), source.n_tasks
    sig = (tf.TensorSpec((None, None, context), tf.uint8), tf.TensorSpec((None, None, n_tasks), tf.float32))
    ds = tf.data.Dataset.from_generator(lambda: source.epoch_chunks(k), output_signature=sig)
    if weights and n_tasks == 1:
        w0, w1 = (float(a[0]) for a in class_weight_arrays(weights, 1))

        def encode(codes, y):
            return onehot_codes_tf(codes), y, tf.where(y[..., 0] > 0.5, w1, w0)
    elif weights:
        w0, w1 = (tf.constant(a, tf.float32) for a in class_weight_arrays(weights, n_tasks))

        def encode(codes, y):  # per entry; a missing label (255) gets w1 here and weight 0 in the loss
            return onehot_codes_tf(codes), y, tf.where(y > 0.5, w1, w0)
    else:
        def encode(codes, y):
            return onehot_codes_tf(codes), y
    ds = ds.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(source)))  # Keras then knows the steps per epoch
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class FoldData:
    fold: dict
    train: EpochSource
    valid: EpochSource
    n_train_examples: int
    n_valid_examples: int
    task_names: tuple = ("target",)  # the label-matrix columns = the model's outputs, in order


def fold_data(genome: Genome, data_dir, folds_path, k: int, tc, context: int,
              elsewhere=None) -> FoldData:
    """Training and validation sources of fold ``k`` (only its train / valid chromosomes are read).

    ``tc`` is a :class:`seq2acc.model.fit.TrainConfig` (batch sizes, seed, augmentation, extra negatives).

    ``elsewhere``: the merged 'elsewhere' peaks (:class:`~seq2acc.io.bed.Intervals`), needed when
    ``train.elsewhere_negatives`` > 0.
    """
    n_folds = len(load_folds(folds_path))
    if not 0 <= k < n_folds:
        raise ArgumentError("k", f"fold {k} does not exist: {folds_path} has {n_folds} folds",
                            f"use a fold 0..{n_folds - 1} (or make more folds)")
    fold = get_fold(folds_path, k)
    names = read_task_names([dataset_path(data_dir, c) for c in fold["train"] + fold["valid"]])
    cols = label_columns(names)
    tr, va = fold_table(data_dir, fold["train"], tasks=True), fold_table(data_dir, fold["valid"], tasks=True)
    if not len(tr) or not (tr[cols] == 1).to_numpy().any():
        raise ArgumentError("k", f"fold {k} has no positive training examples (chromosomes {fold['train']})",
                            "check the peaks file and the chromosomes of the datasets")
    lacking = [n for n, c in zip(names, cols) if not (tr[c] == 1).any()]
    if lacking:
        raise ArgumentError("k", f"fold {k}: task(s) {lacking} have no positive training example (chromosomes "
                            f"{fold['train']})", "check those tasks' peak files, or leave the tasks out of peaks.tasks "
                            "(`dvc repro validate` names every split without positives)")
    if not len(va):
        raise ArgumentError("k", f"fold {k} has no validation examples ({fold['valid']})",
                            "use fewer folds so each bucket has examples")
    rates = {"random": tc.genomewide_negatives, "elsewhere": tc.elsewhere_negatives, "flank": tc.flank_negatives}
    kinds = tuple(k for k in EXTRA_KINDS if rates[k] > 0)
    if "elsewhere" in kinds and elsewhere is None:
        raise ArgumentError("elsewhere", "elsewhere_negatives > 0 needs the 'elsewhere' peaks (data/peaks/elsewhere.bed)",
                            "run the peaks stage, or draw no elsewhere negatives")
    if kinds:
        pool_tr = genomewide_pools(data_dir, fold["train"], kinds, elsewhere, tc.flank_bins)
        pool_va = genomewide_pools(data_dir, fold["valid"], kinds, elsewhere, tc.flank_bins)
    # extra negatives per positive example: an example positive for any task (with one task: its positives)
    n_tr, n_va = (int((t[cols] == 1).to_numpy().any(axis=1).sum()) for t in (tr, va))
    extra_tr = [(pool_tr[k], round(rates[k] * n_tr)) for k in kinds]
    extra_va = [(pool_va[k], round(rates[k] * n_va)) for k in kinds]
    train = EpochSource(genome, tr, extra_tr, tc.batch_size, tc.seed, tc.rc_augment, tc.max_shift, context,
                        label_columns=cols)
    # Validation: fixed set (same sample every epoch), no augmentation, same composition as training.
    if tc.valid_set == "genomewide":
        # Every genome-wide bin of the validation chromosomes: val_loss / val_auprc are then the genome-wide numbers
        # the model is judged on (positive rate ~2%, not the sampled ~50%).
        valid_table = genomewide_table(data_dir, fold["valid"])
    else:
        valid_table = EpochSource(genome, va, extra_va, tc.batch_size, tc.seed + 1, False, 0, context,
                                  label_columns=cols).table(0)
    valid = EpochSource(genome, valid_table, None, tc.valid_batch_size, tc.seed, False, 0, context, shuffle=False,
                        label_columns=cols)
    return FoldData(fold, train, valid, train.n, valid.n, tuple(names))
