"""Signal labels (issue 16, protocol note 15, the data layer): a task's signal track (bigWig, or bedGraph converted
by the peaks stage) becomes ``dataset.signal_transform`` of the signal over each labelled bin, in the signal matrix
of the HDF5 datasets, checked by ``validate``. The tracks are written here with pyBigWig; the stages run as library
calls on tiny genomes (seconds, no DVC)."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_seqs, shipped_params, write_bed, write_fasta
from seq2acc.config import Params
from seq2acc.data.store import read_examples, read_genomewide, read_signal_info, signal_columns
from seq2acc.errors import InputError

SIZES = {"chr1": 1000, "chr2": 800, "chr3": 600}
PEAKS = {"sig": [("chr1", 300, 500), ("chr2", 300, 500), ("chr3", 200, 400)],
         "plain": [("chr1", 600, 800), ("chr2", 100, 300), ("chr3", 0, 200)]}
# The signal of task 'sig' on chr1 (0-based half-open); bases without an entry are uncovered.
CHR1 = [(0, 50, 2.0), (50, 100, 4.0), (300, 500, 1.0), (850, 900, 0.5), (900, 1000, 8.0)]
OTHER = {"chr2": [(0, 800, 1.0)], "chr3": [(100, 300, 3.0)]}


def task(name, peaks, signal=None, min_width=0) -> dict:
    return {"name": name, "peaks": peaks, "signal": signal, "jaspar_id": None, "min_width": min_width}


def write_track(path: Path, per_chrom: dict, sizes: dict = SIZES) -> Path:
    """A bigWig of ``per_chrom[chrom] = [(start, end, value), ...]``, written with pyBigWig as-is (NaN, negative
    values and all)."""
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c, n) for c, n in sizes.items()])
    for c in sizes:
        rows = per_chrom.get(c, [])
        if rows:
            bw.addEntries([c] * len(rows), [r[0] for r in rows], ends=[r[1] for r in rows],
                          values=[float(r[2]) for r in rows])
    bw.close()
    return path


def setup(root: Path, over: dict | None = None, signal: str = "raw/sig.bw") -> Params:
    """raw/genome.fa (SIZES), raw/<task>.bed, raw/sig.bw (CHR1 + OTHER); tasks 'sig' (with the track) and 'plain';
    context = bin size, so that bins reach the chromosome ends."""
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_fasta(raw / "genome.fa", random_seqs(SIZES, 5))
    for name, rows in PEAKS.items():
        write_bed(raw / f"{name}.bed", rows)
    write_track(raw / "sig.bw", {"chr1": CHR1, **OTHER})
    data = shipped_params({"genome": {"fasta": "raw/genome.fa"},
                           "peaks": {"target": None, "elsewhere": [], "blacklist": None,
                                     "tasks": [task("sig", "raw/sig.bed", signal), task("plain", "raw/plain.bed")]},
                           "dataset": {"chromosomes": list(SIZES), "context": 200}, "folds": {"n_folds": 3}})
    for dotted, val in (over or {}).items():
        node = data
        *head, last = dotted.split(".")
        for h in head:
            node = node[h]
        node[last] = val
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return Params.load(root / "params.yaml")


def build(p: Params, folds: bool = False) -> None:
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    prepare_genome(p)
    prepare_peaks(p)
    for c in SIZES:
        build_dataset(p, c)
    if folds:
        build_folds(p)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("signal")
    with contextlib.chdir(root):
        build(setup(root), folds=True)
    return root


# ----------------------------------------------------------------------------- hand-computed labels
# bin: (sum of the signal over its 200 bases, covered bases), by hand from CHR1
HAND = {0: (50 * 2 + 50 * 4, 100),          # partly covered: 2 entries on its first 100 bases
        200: (100 * 1.0, 100),               # [300, 400) of [200, 400)
        300: (200 * 1.0, 200),               # fully covered
        350: (150 * 1.0, 150),
        600: (0.0, 0),                       # no entry at all
        800: (50 * 0.5 + 100 * 8.0, 150)}    # the last bin: ends at the chromosome end (1000)


def test_signal_labels_are_log1p_of_the_mean_over_the_bin_computed_by_hand(project):
    _, _, _, gw = read_genomewide(project / "data/datasets/chr1.h5", tasks=True)
    gw = gw.set_index("bin_start")
    assert gw.index.max() + 200 == SIZES["chr1"]             # a bin at the chromosome end exists
    for b, (total, _) in HAND.items():                     # default: uncovered bases count as 0
        assert gw.loc[b, "signal:sig"] == pytest.approx(math.log1p(total / 200), rel=1e-6), b
    assert gw.loc[0, "signal:sig"] == pytest.approx(math.log1p(1.5))
    assert gw.loc[800, "signal:sig"] == pytest.approx(math.log1p(4.125))
    assert "signal:plain" not in gw                          # a task without a track has no signal column
    assert gw["signal:sig"].dtype == np.float32
    with h5py.File(project / "data/datasets/chr1.h5") as f:
        assert f.attrs["schema_version"] == 3
        m = f["genomewide/signal"][:]
        assert m.shape == (len(gw), 2) and np.isnan(m[:, 1]).all()   # NaN for the task without a track
        assert json.loads(f.attrs["signal_tasks"]) == ["sig"]
        assert json.loads(f.attrs["signal_transform"]) == "log1p_mean"


def test_examples_carry_the_signal_of_their_bin(project):
    paths = [project / f"data/datasets/{c}.h5" for c in SIZES]
    ex = read_examples(paths, tasks=True)
    assert {"label:sig", "label:plain", "signal:sig"} <= set(ex.columns) and "signal:plain" not in ex
    for c in SIZES:
        _, _, _, gw = read_genomewide(project / f"data/datasets/{c}.h5", tasks=True)
        sub = ex[ex.chrom == c]
        want = gw.set_index("bin_start").loc[sub.bin_start, "signal:sig"].to_numpy()
        np.testing.assert_array_equal(sub["signal:sig"].to_numpy(), want)
    # chr2 is covered by 1.0 everywhere: every bin's label is log1p(1)
    assert np.allclose(ex.loc[ex.chrom == "chr2", "signal:sig"], math.log1p(1.0))
    # without tasks=True the tables keep exactly the one-task columns
    assert not any(c.startswith("signal:") for c in read_examples(paths).columns)
    assert read_signal_info(paths).tasks == ("sig",)


@pytest.mark.parametrize("transform,uncovered", [("mean", "zero"), ("log1p_mean", "nan"), ("mean", "nan")])
def test_the_transform_and_the_uncovered_rule_are_params(tmp_path, monkeypatch, transform, uncovered):
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    monkeypatch.chdir(tmp_path)
    p = setup(tmp_path, {"dataset.signal_transform": transform, "dataset.signal_uncovered": uncovered})
    prepare_genome(p)
    prepare_peaks(p)
    build_dataset(p, "chr1")
    _, _, _, gw = read_genomewide(tmp_path / "data/datasets/chr1.h5", tasks=True)
    got = gw.set_index("bin_start")["signal:sig"]
    for b, (total, covered) in HAND.items():
        mean = total / 200 if uncovered == "zero" else (total / covered if covered else math.nan)
        want = mean if transform == "mean" else math.log1p(mean)
        if math.isnan(want):
            assert math.isnan(got[b]), b                     # no covered base: no label
        else:
            assert got[b] == pytest.approx(want, rel=1e-6), b
    assert read_signal_info([tmp_path / "data/datasets/chr1.h5"]).uncovered == uncovered


def test_a_bedgraph_track_gives_the_same_labels_as_the_bigwig(project, tmp_path, monkeypatch):
    """The peaks stage converts a bedGraph (gzip here, unsorted, with a track line) to data/peaks/signal/<task>.bw."""
    import gzip

    monkeypatch.chdir(tmp_path)
    p = setup(tmp_path, signal="raw/sig.bedGraph.gz")
    lines = [f"{c}\t{s}\t{e}\t{v:g}\n" for c, rows in {"chr1": CHR1, **OTHER}.items() for s, e, v in rows]
    with gzip.open(tmp_path / "raw/sig.bedGraph.gz", "wt") as fh:
        fh.write('track type=bedGraph name="sig"\n' + "".join(reversed(lines)) + "chrUn_x\t0\t10\t1\n")
    build(p)
    assert (tmp_path / "data/peaks/signal/sig.bw").is_file()
    summary = json.loads((tmp_path / "data/peaks/summary.json").read_text())
    assert summary["tasks"][0]["signal_read"] == "data/peaks/signal/sig.bw"
    assert summary["tasks"][0]["signal_format"] == "bedgraph" and "signal_read" not in summary["tasks"][1]
    for c in SIZES:
        a = read_genomewide(project / f"data/datasets/{c}.h5", tasks=True)[3]["signal:sig"].to_numpy()
        b = read_genomewide(tmp_path / f"data/datasets/{c}.h5", tasks=True)[3]["signal:sig"].to_numpy()
        np.testing.assert_array_equal(a, b)


def test_no_signal_task_writes_no_converted_track_and_all_nan_signal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build(setup(tmp_path, signal=None))
    assert not (tmp_path / "data/peaks/signal").exists()
    with h5py.File(tmp_path / "data/datasets/chr1.h5") as f:
        assert np.isnan(f["examples/signal"][:]).all() and json.loads(f.attrs["signal_tasks"]) == []
    assert not any(c.startswith("signal:") for c in read_examples([tmp_path / "data/datasets/chr1.h5"], tasks=True))


# ----------------------------------------------------------------------------- the reader against brute force
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 40), st.integers(0, 9)), max_size=25),
       st.sampled_from([7, 64, 1000]), st.integers(0, 3))
def test_bin_sums_equal_brute_force_for_any_track_and_chunking(tmp_path_factory, runs, chunk, stride_i):
    """For any sparse track (gaps, runs, intervals across chunk boundaries) the per-bin sums and covered counts equal
    those of the per-base array."""
    from seq2acc.io.signal import bigwig_bin_sums, open_bigwig

    size = 700
    base = np.full(size, np.nan)
    rows, pos = [], 0
    for gap, length, v in runs:
        s, e = pos + gap, min(size, pos + gap + length)
        if s >= size:
            break
        rows.append((s, e, float(v)))
        base[s:e] = v
        pos = e
    path = write_track(tmp_path_factory.mktemp("bw") / "t.bw", {"c": rows}, {"c": size})
    stride = (10, 25, 50, 33)[stride_i]
    starts = np.arange(0, size - 100 + 1, stride)
    with contextlib.closing(open_bigwig(path)) as bw:
        sums, covered = bigwig_bin_sums(bw, path, "c", size, starts, starts + 100, chunk=chunk)
    np.testing.assert_allclose(sums, [np.nansum(base[a:a + 100]) for a in starts], atol=1e-9)
    np.testing.assert_array_equal(covered, [np.isfinite(base[a:a + 100]).sum() for a in starts])


# ----------------------------------------------------------------------------- data checks
def test_validate_checks_the_signal_and_reports_its_mean_and_sd_per_split(project, monkeypatch):
    from seq2acc.pipeline.validate import run_checks

    monkeypatch.chdir(project)
    ck, summary = run_checks(Params.load("params.yaml"))
    rules = {r.rule for r in ck.results}
    assert {"task 'sig': signal is finite and >= 0 where given", "task 'sig': some examples have a signal label",
            "task 'sig': genome-wide signal is finite and >= 0 where given"} <= rules
    assert not any("'plain': signal" in r or "'plain': genome-wide signal" in r for r in rules)
    assert summary["signal_tasks"] == ["sig"] and summary["signal"]["transform"] == "log1p_mean"
    folds = json.loads((project / "data/folds.json").read_text())["folds"]
    ex = read_examples([project / f"data/datasets/{c}.h5" for c in SIZES], tasks=True)
    for f in folds:
        got = summary["signal"]["per_task"]["sig"][f"fold{f['fold']}"]
        test = ex[ex.chrom.isin(f["test"])]["signal:sig"].to_numpy(np.float64)
        assert got["test"] == {"n": len(test), "mean": round(float(test.mean()), 5),
                               "sd": round(float(test.std()), 5)}
        gw = np.concatenate([read_genomewide(project / f"data/datasets/{c}.h5", tasks=True)[3]["signal:sig"]
                             for c in f["test"]]).astype(np.float64)
        assert got["test_genomewide"]["n"] == len(gw)
        assert got["test_genomewide"]["mean"] == pytest.approx(gw.mean(), abs=1e-5)


def test_a_negative_or_infinite_signal_in_a_dataset_fails_the_check_of_its_task(project, monkeypatch):
    from seq2acc.pipeline.validate import run_checks

    monkeypatch.chdir(project)
    path = project / "data/datasets/chr2.h5"
    backup = path.read_bytes()
    try:
        with h5py.File(path, "r+") as f:
            for g, v in (("examples", -1.0), ("genomewide", np.inf)):
                m = f[f"{g}/signal"][:]
                m[0, 0] = v
                f[f"{g}/signal"][:] = m
        ck, _ = run_checks(Params.load("params.yaml"))
        text = "\n".join(ck.failure_lines())
        assert "[examples] task 'sig': signal is finite and >= 0 where given: 1 of" in text
        assert "[genomewide] task 'sig': genome-wide signal is finite and >= 0 where given" in text
    finally:
        path.write_bytes(backup)


def test_dataset_files_of_schema_2_are_refused_with_the_fix(project, tmp_path):
    old = tmp_path / "chr1.h5"
    old.write_bytes((project / "data/datasets/chr1.h5").read_bytes())
    with h5py.File(old, "r+") as f:
        f.attrs["schema_version"] = 2
    with pytest.raises(InputError, match=r"schema version 2; this seq2acc reads version 3(.|\n)*dvc repro dataset"):
        read_examples([old], tasks=True)
    assert signal_columns(["a", "b"]) == ["signal:a", "signal:b"]


# ----------------------------------------------------------------------------- the simulator's track as a task
def test_a_simulated_signal_track_labels_the_bins_its_grammar_opens(tmp_path, monkeypatch):
    """``seq2acc simulate`` with a signal section, its signal.bw as a task's signal: the dataset's signal labels are
    high on the positives (where the grammar holds) and follow the simulator's noise-free signal_mean."""
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks
    from seq2acc.sim.simulate import config_from_dict, read_bayes_optimal, simulate

    monkeypatch.chdir(tmp_path)
    sim = {"seed": 2, "genome": {"n_chromosomes": 3, "length": 50000}, "motifs": {"A": "MA0139.2"},
           "grammar": {"target": {"rules": [{"name": "A", "motifs": ["A"]}]}},
           "regions": {"target": 15, "min_gap": 1000}, "signal": {"scale": 20.0}}
    simulate(config_from_dict(sim, "sim.yaml"), tmp_path / "raw")
    data = shipped_params({"genome": {"fasta": "raw/genome.fa"},
                           "peaks": {"target": None, "elsewhere": [], "blacklist": None,
                                     "tasks": [task("A", "raw/target.bed", "raw/signal.bw", 200)]},
                           "dataset": {"chromosomes": ["chr1", "chr2", "chr3"]}, "folds": {"n_folds": 3}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    p = Params.load("params.yaml")
    prepare_genome(p)
    prepare_peaks(p)
    for c in ("chr1", "chr2", "chr3"):
        build_dataset(p, c)
    paths = [tmp_path / f"data/datasets/{c}.h5" for c in ("chr1", "chr2", "chr3")]
    ex = read_examples(paths, tasks=True)
    pos, neg = ex.loc[ex["label:A"] == 1, "signal:A"], ex.loc[ex["label:A"] == 0, "signal:A"]
    assert len(pos) > 20 and pos.mean() > 2 * neg.mean()
    bo = read_bayes_optimal(tmp_path / "raw").set_index(["chrom", "bin_start"])
    gw = [read_genomewide(q, tasks=True) for q in paths]
    label = np.concatenate([g[3]["signal:A"].to_numpy() for g in gw])
    best = np.concatenate([np.log1p(bo.loc[g[0]].loc[g[3].bin_start, "signal_mean"].to_numpy()) for g in gw])
    assert np.corrcoef(label, best)[0, 1] > 0.9
