"""Training input: examples of a fold's chromosomes -> shuffled one-hot batches as a ``tf.data`` pipeline.

The example tables (intervals and labels, a few MB) are read whole from HDF5 and shuffled in memory; the
sequence comes from whole-chromosome code arrays (``Genome``), gathered per batch with numpy fancy indexing and
one-hot encoded on the fly. No random single-row HDF5 reads, no stored one-hot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2acc.data.store import dataset_path, read_examples
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import onehot_codes


@dataclass
class BatchSource:
    """Deterministic batch generator over an example table (numpy only; wrapped by :func:`make_dataset`)."""

    genome: Genome
    table: pd.DataFrame
    batch_size: int = 128
    shuffle: bool = True
    seed: int = 0
    rc_augment: bool = False
    max_shift: int = 0
    context: int = 1000

    def __post_init__(self):
        self.table = self.table.reset_index(drop=True)
        self._chrom_codes = {c: i for i, c in enumerate(sorted(self.table.chrom.unique()))}
        self._chrom_idx = self.table.chrom.map(self._chrom_codes).to_numpy()
        self._start = self.table.start.to_numpy(np.int64)
        self._label = self.table.label.to_numpy(np.float32)
        self._size = self.table.chrom_size.to_numpy(np.int64)
        self._names = {i: c for c, i in self._chrom_codes.items()}
        self.epoch = 0

    def __len__(self):
        return int(np.ceil(len(self.table) / self.batch_size))

    def batch(self, idx: np.ndarray, rng: np.random.Generator | None = None):
        starts = self._start[idx].copy()
        if self.max_shift and rng is not None:
            starts += rng.integers(-self.max_shift, self.max_shift + 1, size=len(idx))
            starts = np.clip(starts, 0, self._size[idx] - self.context)
        codes = np.empty((len(idx), self.context), dtype=np.uint8)
        ci = self._chrom_idx[idx]
        for c in np.unique(ci):
            m = ci == c
            codes[m] = self.genome.gather(self._names[int(c)], starts[m], self.context)
        x = onehot_codes(codes)
        if self.rc_augment and rng is not None:
            flip = rng.random(len(idx)) < 0.5
            x[flip] = x[flip, ::-1, ::-1]
        return x, self._label[idx, None]

    def epoch_batches(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.table)) if self.shuffle else np.arange(len(self.table))
        aug_rng = rng if (self.rc_augment or self.max_shift) else None
        for b in range(len(self)):
            yield self.batch(order[b * self.batch_size:(b + 1) * self.batch_size], aug_rng)
        self.epoch += 1


def make_dataset(source: BatchSource):
    """Wrap a :class:`BatchSource` as a prefetched ``tf.data.Dataset`` (re-iterated once per epoch)."""
    import tensorflow as tf

    sig = (tf.TensorSpec((None, source.context, 4), tf.float32), tf.TensorSpec((None, 1), tf.float32))
    ds = tf.data.Dataset.from_generator(source.epoch_batches, output_signature=sig)
    return ds.prefetch(tf.data.AUTOTUNE)


def fold_table(data_dir, chroms) -> pd.DataFrame:
    """Example table of a list of chromosomes (e.g. a fold's training chromosomes)."""
    return read_examples([dataset_path(data_dir, c) for c in chroms])
