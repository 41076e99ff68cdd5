"""The tf.data training input: one-hot on the fly, deterministic shuffling, every example once per epoch."""

import numpy as np
import pandas as pd
import pytest

from conftest import random_seqs, write_fasta
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode
from seq2acc.seq.encoding import onehot_codes, reverse_complement
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


def _reference_epoch(seqs, table, batch_size, seed, epoch, rc_augment, max_shift, context):
    """The loader's batches written the straightforward way: one example at a time from the FASTA strings, the same
    draws from the same generator (the epoch's permutation, then per batch the shifts, then the flips)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(table))
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        shift = rng.integers(-max_shift, max_shift + 1, size=len(idx)) if max_shift else np.zeros(len(idx), int)
        flip = rng.random(len(idx)) < 0.5 if rc_augment else np.zeros(len(idx), bool)
        xs = []
        for i, s, f in zip(idx, shift, flip):
            r = table.iloc[i]
            start = min(max(r.start + s, 0), len(seqs[r.chrom]) - context)
            x = onehot_codes(encode(seqs[r.chrom][start:start + context]))
            xs.append(reverse_complement(x) if f else x)
        yield np.stack(xs), table.label.to_numpy(np.float32)[idx, None]


@pytest.mark.parametrize("chunk", [1, 8, 30])  # examples per chunk: 1, 2, 7 batches of 4
def test_batches_equal_a_straightforward_reference_encoding(tmp_path, monkeypatch, chunk):
    """Same examples, same order, same shifts and flips for a seed, whatever the chunking (a speed setting);
    N (all-zero rows) included; the tf.data path (one-hot in the graph, weights) gives the numpy path's batches."""
    from seq2acc.data import loader

    monkeypatch.setattr(loader, "CHUNK_EXAMPLES", chunk)
    rng = np.random.default_rng(5)
    seqs = {c: "".join(rng.choice(list("ACGTN"), p=[.24, .24, .24, .24, .04], size=n))
            for c, n in {"a": 1400, "b": 1300, "c": 1200}.items()}
    g = Genome(write_fasta(tmp_path / "g.fa", seqs))
    starts = rng.integers(0, 190, size=23)
    table = pd.DataFrame({"chrom": rng.choice(["a", "b", "c"], size=23), "start": starts,
                          "label": rng.integers(0, 2, size=23)})
    table["chrom_size"] = table.chrom.map(g.sizes)
    src = BatchSource(g, table, batch_size=4, seed=9, rc_augment=True, max_shift=150, context=1000)
    ds = make_dataset(BatchSource(g, table, batch_size=4, seed=9, rc_augment=True, max_shift=150, context=1000),
                      {0: 1.0, 1: 2.5})
    for epoch in range(2):
        ref = list(_reference_epoch(seqs, table, 4, 9, epoch, True, 150, 1000))
        got, tf_got = list(src.epoch_batches()), list(ds)
        assert len(got) == len(tf_got) == len(ref) == 6  # 23 examples: 5 full batches and a short one
        for (xr, yr), (x, y), (xt, yt, wt) in zip(ref, got, tf_got):
            assert x.dtype == np.float32 and x.shape == xr.shape and (x == xr).all() and (y == yr).all()
            assert (xt.numpy() == xr).all() and (yt.numpy() == yr).all()
            assert (wt.numpy() == np.where(yr[:, 0] > 0.5, 2.5, 1.0)).all()
        assert (ref[0][0] == 0).all(-1).any()  # some N rows were really there
