"""Several tasks through the data stages (issue 16, data half): the label matrix at the >50 % boundary, the union
sampling of informative negatives, per-task and elsewhere widening, one task sheet = ``peaks.target``, per-task data
checks and their summary. The stages run as library calls on tiny genomes written here (seconds, no DVC)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_seqs, shipped_params, write_bed, write_fasta
from seq2acc.config import Params, task_jaspar_ids, task_specs
from seq2acc.data.bins import FLANK, POSITIVE, BinSpec, sample_examples
from seq2acc.data.store import label_columns, read_examples, read_genomewide, read_task_names
from seq2acc.errors import InputError, ParamsError

SIZES = {"chr1": 3000, "chr2": 2600, "chr3": 2400}


def task(name, peaks, min_width=0, jaspar_id=None, signal=None) -> dict:
    return {"name": name, "peaks": peaks, "signal": signal, "jaspar_id": jaspar_id, "min_width": min_width}


def setup_project(root: Path, beds: dict[str, list], over: dict, seed: int = 3) -> Params:
    """raw/genome.fa, raw/<name>.bed for each of ``beds``, params.yaml = the shipped one + ``over``."""
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_fasta(raw / "genome.fa", random_seqs(SIZES, seed))
    for name, rows in beds.items():
        write_bed(raw / f"{name}.bed", rows)
    base = {"genome": {"fasta": "raw/genome.fa"}, "peaks": {"elsewhere": [], "blacklist": None},
            "dataset": {"chromosomes": list(SIZES), "context": 400}, "folds": {"n_folds": 3}}
    data = shipped_params(base)
    for dotted, val in over.items():
        node = data
        *head, last = dotted.split(".")
        for h in head:
            node = node[h]
        node[last] = val
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return Params.load(root / "params.yaml")


def build(p: Params, upto: str = "dataset") -> None:
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    prepare_genome(p)
    prepare_peaks(p)
    for c in SIZES:
        build_dataset(p, c)
    if upto == "folds":
        build_folds(p)


# ----------------------------------------------------------------------------- the label matrix, by hand
# Bins of 200 bp on a 50-bp grid; a bin is positive for a task when MORE than 100 of its bases are covered by the
# task's merged peaks (exactly 100 is negative).
A = [("chr1", 1000, 1101)]                          # 101 bp: bins 950, 1000 (101 each); 900 covers exactly 100
B = [("chr1", 900, 1101)]                           # overlaps A; bins 850..1000 positive; 800 and 1050 exactly 100 / 51
C = [("chr1", 1100, 1150), ("chr1", 1160, 1211)]    # 50 + 51 bp, 10 bp apart: only bins holding both (1050, 1100)
#               bin:  750 800 850 900 950 1000 1050 1100 1150
HAND = {"A":        [0,  0,  0,  0,  1,  1,   0,   0,   0],
        "B":        [0,  0,  1,  1,  1,  1,   0,   0,   0],
        "C":        [0,  0,  0,  0,  0,  0,   1,   1,   0]}
HAND_BINS = [750, 800, 850, 900, 950, 1000, 1050, 1100, 1150]


@pytest.fixture(scope="module")
def three_tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    with contextlib.chdir(root):
        p = setup_project(root, {"A": A, "B": B, "C": C}, {
            "peaks.target": None,
            "peaks.tasks": [task("A", "raw/A.bed"), task("B", "raw/B.bed", jaspar_id="MA0363"), task("C", "raw/C.bed")],
            "dataset.negatives.ratio": 1.0,
            "dataset.negatives.fractions": {"flank": 1.0, "elsewhere": 0.0, "random": 0.0}})
        build(p)
    return root


def test_label_matrix_of_three_overlapping_tasks_is_the_hand_computed_one(three_tasks):
    path = three_tasks / "data/datasets/chr1.h5"
    assert read_task_names([path]) == ["A", "B", "C"]
    _, _, _, gw = read_genomewide(path, tasks=True)
    gw = gw.set_index("bin_start")
    for name, want in HAND.items():
        assert gw.loc[HAND_BINS, f"label:{name}"].tolist() == want, name
    # no other bin of the chromosome is positive for any task
    rest = gw.drop(index=HAND_BINS)
    assert not rest[label_columns("ABC")].to_numpy().any()
    # 'label' (the one-task column) is the first task's
    assert (gw["label"] == gw["label:A"]).all()
    with h5py.File(path) as f:
        assert f.attrs["schema_version"] == 3 and json.loads(f.attrs["task_names"]) == ["A", "B", "C"]
        assert f["genomewide/labels"].shape == (len(gw), 3) and f["examples/labels"].shape[1] == 3


def test_examples_are_drawn_for_the_union_of_tasks_with_their_provenance(three_tasks):
    ex = read_examples([three_tasks / "data/datasets/chr1.h5"], tasks=True).set_index("bin_start")
    lab = ex[label_columns("ABC")]
    # every bin positive for some task is a positive example, with its whole label vector ...
    union = [b for i, b in enumerate(HAND_BINS) if any(HAND[t][i] for t in "ABC")]
    assert sorted(ex.index[ex.source == POSITIVE]) == union == [850, 900, 950, 1000, 1050, 1100]
    for i, b in enumerate(HAND_BINS):
        if b in union:
            assert lab.loc[b].tolist() == [HAND[t][i] for t in "ABC"]
    # ... so a positive of one task is a negative of the others (bin 850: positive for B only)
    assert lab.loc[850].tolist() == [0, 1, 0]
    # flanks: the 3 grid bins beside the run of bins positive for any task, negative for every task
    assert sorted(ex.index[ex.source == FLANK]) == [700, 750, 800, 1150, 1200, 1250]
    assert not lab[ex.source != POSITIVE].to_numpy().any()


def test_per_task_counts_and_task_files(three_tasks):
    summary = json.loads((three_tasks / "data/peaks/summary.json").read_text())
    assert [t["name"] for t in summary["tasks"]] == ["A", "B", "C"]
    assert [t["merged"] for t in summary["tasks"]] == [1, 1, 2]
    for name, rows in (("A", A), ("B", B), ("C", C)):  # min_width 0: the peaks as given
        text = (three_tasks / f"data/peaks/tasks/{name}.bed").read_text()
        assert text == "".join(f"{c}\t{s}\t{e}\n" for c, s, e in rows)
    assert (three_tasks / "data/peaks/target.bed").read_text() == (three_tasks / "data/peaks/tasks/A.bed").read_text()
    with h5py.File(three_tasks / "data/datasets/chr1.h5") as f:
        per_task = json.loads(f.attrs["meta"])["bins"]["per_task"]
    assert {n: c["positive_kept"] for n, c in per_task.items()} == {"A": 2, "B": 4, "C": 2}


def test_task_params_give_names_files_and_jaspar_ids(three_tasks):
    p = Params.load(three_tasks / "params.yaml")
    specs = task_specs(p)
    assert [(s.name, s.peaks.as_posix(), s.min_width, s.min_width_key) for s in specs] == [
        ("A", "raw/A.bed", 0, "peaks.tasks[0].min_width"), ("B", "raw/B.bed", 0, "peaks.tasks[1].min_width"),
        ("C", "raw/C.bed", 0, "peaks.tasks[2].min_width")]
    assert task_jaspar_ids(p) == {"A": None, "B": "MA0363", "C": None}
    one = Params(shipped_params())
    assert [s.name for s in task_specs(one)] == ["Reb1"] and task_jaspar_ids(one) == {"Reb1": "MA0363"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 2600), st.integers(1, 400)), max_size=4), min_size=1, max_size=4),
       st.integers(0, 2**31))
def test_union_sampling_properties(tasks, seed):
    """For any peak sets: each label column is that task's >50 % rule; positive examples are exactly the bins
    positive for some task; every negative example is negative for every task; one task given as a list samples
    exactly as that task given alone."""
    spec = BinSpec(200, 50, 400, 0.5)
    size = 3200
    codes = np.zeros(size, np.uint8)
    targets = []
    for peaks in tasks:
        cov = np.zeros(size + 400, bool)
        for s, w in peaks:
            cov[s:s + w] = True
        d = np.flatnonzero(np.diff(np.r_[False, cov, False].astype(np.int8)))
        targets.append((d[0::2].astype(np.int64), np.minimum(d[1::2], size).astype(np.int64)))
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    cb = sample_examples(spec, size, codes, targets, empty, empty, neg_ratio=1.5, seed=seed)
    for t, (s_, e_) in enumerate(targets):
        assert np.array_equal(cb.labels[:, t], spec.labels(cb.bin_start, s_, e_))
    any_pos = cb.labels.any(axis=1)
    assert np.array_equal(np.flatnonzero(any_pos), np.sort(cb.ex_index[cb.ex_source == POSITIVE]))
    assert not cb.labels[cb.ex_index[cb.ex_source != POSITIVE]].any()
    alone = sample_examples(spec, size, codes, targets[0], empty, empty, neg_ratio=1.5, seed=seed)
    listed = sample_examples(spec, size, codes, targets[:1], empty, empty, neg_ratio=1.5, seed=seed)
    for a, b in ((alone.ex_index, listed.ex_index), (alone.ex_source, listed.ex_source), (alone.label, listed.label),
                 (alone.labels, listed.labels)):
        assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- one task sheet == peaks.target
TARGET = [("chr1", 800, 801), ("chr1", 2000, 2001), ("chr2", 1200, 1201), ("chr3", 900, 1050), ("chr3", 1500, 1501)]
OTHER = [("chr1", 1400, 1401), ("chr2", 600, 601), ("chr3", 2000, 2001)]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for d in ("data/peaks", "data/datasets") for p in sorted((root / d).rglob("*")) if p.is_file()}


def test_a_one_task_sheet_gives_byte_identical_data_to_peaks_target(tmp_path, monkeypatch):
    common = {"peaks.elsewhere": ["raw/other.bed"], "peaks.min_width": 200}
    runs = {}
    for form, over in (("target", {"peaks.target": "raw/target.bed", "peaks.tasks": None}),
                       ("sheet", {"peaks.target": None,
                                  "peaks.tasks": [task("target", "raw/target.bed", 200, "MA0363")]})):
        root = tmp_path / form
        root.mkdir()
        monkeypatch.chdir(root)
        build(setup_project(root, {"target": TARGET, "other": OTHER}, {**common, **over}))
        runs[form] = _snapshot(root)
    assert sorted(runs["target"]) == sorted(runs["sheet"])
    assert {"data/peaks/tasks/target.bed", "data/datasets/chr1.h5"} <= set(runs["sheet"])
    for name in runs["target"]:
        assert runs["target"][name] == runs["sheet"][name], name


# ----------------------------------------------------------------------------- widening: per task, elsewhere
WIDE = [("chr1", 900, 1050), ("chr2", 1000, 1150), ("chr3", 1200, 1350)]    # 150-bp regions, kept (min_width 0)
EVENTS = [("chr1", 2000, 2001), ("chr2", 1800, 1801), ("chr3", 600, 601)]    # 1-bp events


def test_elsewhere_files_are_widened_on_their_own_and_never_silently_unused(tmp_path, monkeypatch):
    """150-bp target regions kept as given next to 1-bp elsewhere events: the elsewhere events are widened by
    peaks.elsewhere_min_width and give elsewhere negatives; kept 1 bp wide, they stop the peaks stage with the fix
    instead of silently giving none."""
    from seq2acc.data.bins import ELSEWHERE
    from seq2acc.pipeline.peaks import prepare_peaks

    monkeypatch.chdir(tmp_path)
    over = {"peaks.target": "raw/target.bed", "peaks.min_width": 0, "peaks.elsewhere": ["raw/other.bed"],
            "peaks.elsewhere_min_width": 200}
    p = setup_project(tmp_path, {"target": WIDE, "other": EVENTS}, over)
    build(p)
    peaks = tmp_path / "data/peaks"
    assert [ln.split("\t")[1:] for ln in (peaks / "target.bed").read_text().splitlines()] == [
        [str(s), str(e)] for _, s, e in WIDE]                               # target kept 150 bp wide
    assert {int(e) - int(s) for _, s, e in (ln.split("\t") for ln in (peaks / "elsewhere.bed").read_text()
                                            .splitlines())} == {200}      # elsewhere widened to 200
    ex = read_examples([tmp_path / f"data/datasets/{c}.h5" for c in SIZES])
    assert (ex.source == ELSEWHERE).sum() > 0 and (ex.label == 1).sum() > 0

    before = _snapshot(tmp_path)
    p = setup_project(tmp_path, {}, {**over, "peaks.elsewhere_min_width": 0})
    with pytest.raises(InputError) as e:
        prepare_peaks(p)
    msg = str(e.value)
    assert "raw/other.bed" in msg and "'elsewhere' peak(s)" in msg and "peaks.elsewhere_min_width: 0" in msg
    assert "fix: set peaks.elsewhere_min_width to at least 200" in msg
    assert _snapshot(tmp_path) == before                                    # nothing (re)written


def test_each_task_is_widened_by_its_own_min_width(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = setup_project(tmp_path, {"wide": WIDE, "events": EVENTS}, {
        "peaks.target": None, "peaks.tasks": [task("wide", "raw/wide.bed", 0), task("events", "raw/events.bed", 200)]})
    build(p)
    widths = {n: {int(r.split("\t")[2]) - int(r.split("\t")[1])
                  for r in (tmp_path / f"data/peaks/tasks/{n}.bed").read_text().splitlines()} for n in ("wide", "events")}
    assert widths == {"wide": {150}, "events": {200}}
    # each column of the label matrix follows its own peaks: 150 bp -> 1 or 2 positive bins, 200 bp event -> 3 or 4
    _, _, _, gw = read_genomewide(tmp_path / "data/datasets/chr1.h5", tasks=True)
    assert gw.loc[gw["label:wide"] == 1, "bin_start"].tolist() == [850, 900]  # 150 bp each; 800, 950: exactly 100
    assert gw.loc[gw["label:events"] == 1, "bin_start"].tolist() == [1850, 1900, 1950]


# ----------------------------------------------------------------------------- data checks per task
@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Three tasks on three chromosomes, folds built: the data checks' input."""
    root = tmp_path_factory.mktemp("checked")
    with contextlib.chdir(root):
        every = [("chr1", 900, 1101), ("chr2", 1000, 1201), ("chr3", 800, 1001)]
        p = setup_project(root, {"a": every, "b": [(c, s + 700, e + 700) for c, s, e in every],
                                 "lonely": [("chr1", 2000, 2201)]}, {
            "peaks.target": None,
            "peaks.tasks": [task("a", "raw/a.bed"), task("b", "raw/b.bed"), task("lonely", "raw/lonely.bed")]})
        build(p, upto="folds")
    return root


def test_data_checks_run_per_task_and_report_per_task_positive_rates(checked, monkeypatch):
    from seq2acc.pipeline.validate import run_checks

    monkeypatch.chdir(checked)
    ck, summary = run_checks(Params.load("params.yaml"))
    failed = {(r.table, r.rule) for r in ck.results if not r.success}
    # 'lonely' has positives on chr1 only: every fold whose valid or test split lacks chr1 fails for it, by name
    folds = json.loads((checked / "data/folds.json").read_text())["folds"]
    want = {(f"fold{f['fold']}_{s}", f"task 'lonely': {w} split has positives")
            for f in folds for s, w in (("train", "training"), ("valid", "valid"), ("test", "test"))
            if "chr1" not in f[s]}
    assert want and failed == want
    assert summary["tasks"] == ["a", "b", "lonely"]
    rates = summary["positive_fraction_per_task"]
    ex = read_examples([checked / f"data/datasets/{c}.h5" for c in SIZES], tasks=True)
    for f in folds:
        test = ex[ex.chrom.isin(f["test"])]
        for n in ("a", "b", "lonely"):
            assert rates[n][f"fold{f['fold']}"]["test"] == round(float(test[f"label:{n}"].mean()), 4)
    # the rule names and the test's own labels agree: chr1-only task positive rate 0 where chr1 is absent
    assert all(rates["lonely"][f"fold{f['fold']}"]["test"] == 0 for f in folds if "chr1" not in f["test"])


def test_a_bad_label_matrix_entry_fails_the_check_of_its_task(checked, monkeypatch):
    from seq2acc.pipeline.validate import run_checks

    monkeypatch.chdir(checked)
    path = checked / "data/datasets/chr2.h5"
    backup = path.read_bytes()
    try:
        with h5py.File(path, "r+") as f:
            m = f["examples/labels"][:]
            m[0, 1] = 2
            f["examples/labels"][:] = m
        ck, _ = run_checks(Params.load("params.yaml"))
        text = "\n".join(ck.failure_lines())
        assert "[examples] task 'b': labels are 0 or 1: 1 of" in text
        assert "task 'a': labels are 0 or 1" not in text
    finally:
        path.write_bytes(backup)


# ----------------------------------------------------------------------------- inside dvc repro: tracked inputs
def test_a_task_file_outside_data_raw_stops_the_stage_inside_dvc(tmp_path, monkeypatch):
    """Every task's peak file must lie under data/raw/ (a dependency of the peaks stage in dvc.yaml), so an in-place
    edit re-runs the stages that read it."""
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/raw").mkdir(parents=True)
    write_bed(tmp_path / "data/raw/a.bed", WIDE)
    p = setup_project(tmp_path, {"b": WIDE}, {"peaks.target": None, "peaks.tasks": [
        task("a", "data/raw/a.bed"), task("b", "raw/b.bed")]})
    prepare_genome(p)
    monkeypatch.setenv("DVC_STAGE", "peaks")
    with pytest.raises(ParamsError, match=r"parameter 'peaks.tasks\[1\].peaks': raw/b.bed is outside data/raw/"):
        prepare_peaks(p)
    assert not (tmp_path / "data/peaks").exists()


def test_dataset_files_of_an_older_schema_are_refused_with_the_fix(three_tasks, tmp_path):
    old = tmp_path / "chr1.h5"
    old.write_bytes((three_tasks / "data/datasets/chr1.h5").read_bytes())
    with h5py.File(old, "r+") as f:
        f.attrs["schema_version"] = 1
    with pytest.raises(InputError, match=r"schema version 1; this seq2acc reads version 3(.|\n)*dvc repro dataset"):
        read_examples([old])
