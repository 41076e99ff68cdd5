"""The tf.data training input: one-hot on the fly, deterministic shuffling, every example once per epoch."""

import numpy as np
import pandas as pd

from conftest import random_seqs, write_fasta
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode
from seq2acc.seq.encoding import onehot_codes
from seq2acc.data.loader import BatchSource, make_dataset


def _source(tmp_path, **kw):
    seqs = random_seqs({"a": 3000, "b": 2500}, 4)
    g = Genome(write_fasta(tmp_path / "g.fa", seqs))
    table = pd.DataFrame({"chrom": ["a"] * 6 + ["b"] * 5, "start": list(range(0, 600, 100)) + list(range(0, 500, 100)),
                          "label": [1, 0] * 5 + [1]})
    table["chrom_size"] = table.chrom.map(g.sizes)
    return BatchSource(g, table, batch_size=4, context=1000, **kw), seqs, table


def test_batches_hold_the_right_sequence_and_labels(tmp_path):
    src, seqs, table = _source(tmp_path, shuffle=False)
    xs, ys = zip(*src.epoch_batches())
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (11, 1000, 4) and y.shape == (11, 1)
    for i, r in table.iterrows():
        expect = onehot_codes(encode(seqs[r.chrom][r.start:r.start + 1000]))
        assert (x[i] == expect).all() and y[i, 0] == r.label


def test_shuffle_is_deterministic_and_changes_per_epoch(tmp_path):
    def fingerprints(src):  # one integer per example (its first 20 bases), in batch order, for two epochs
        weights = 4 ** np.arange(20)
        return [np.concatenate([b[0][:, :20].argmax(-1) @ weights for b in src.epoch_batches()]) for _ in range(2)]
    a1, a2 = fingerprints(_source(tmp_path, seed=7)[0])
    b1, b2 = fingerprints(_source(tmp_path, seed=7)[0])
    assert (a1 == b1).all() and (a2 == b2).all()
    assert not (a1 == a2).all()
    assert sorted(a1.tolist()) == sorted(a2.tolist())  # same examples, other order


def test_augmentation_keeps_labels_and_windows_inside_chromosome(tmp_path):
    src, _, table = _source(tmp_path, seed=1, rc_augment=True, max_shift=20)
    n = sum(len(b[1]) for b in src.epoch_batches())
    assert n == len(table)


def test_tf_data_dataset(tmp_path):
    src, _, _ = _source(tmp_path, seed=1)
    ds = make_dataset(src)
    batches = list(ds)
    assert sum(int(b[0].shape[0]) for b in batches) == 11 and batches[0][0].shape[1:] == (1000, 4)
    assert len(list(ds)) == len(batches)  # re-iterable: one pass per epoch
