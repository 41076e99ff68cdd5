"""Data stages end to end on a tiny genome: real `dvc repro`, a no-op second run, GX checks failing on bad data."""

import json

import h5py
import pytest

from conftest import dvc, make_project
from seq2acc.errors import DataValidationError
from seq2acc.config import Params

SIZES = {"chrA": 9000, "chrB": 8000, "chrC": 7000, "chrD": 6000, "chrE": 5000}
TARGET = [("chrA", 2000, 2001), ("chrA", 5000, 5001), ("chrB", 3000, 3300), ("chrC", 2500, 2501),
          ("chrD", 2000, 2001), ("chrD", 3000, 3001), ("chrE", 2100, 2101), ("chrE", 2100, 2101)]
OTHER = [("chrA", 7000, 7001), ("chrB", 6000, 6001), ("chrC", 4000, 4001), ("chrD", 4500, 4501)]
BLACK = [("chrB", 1000, 1300)]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = make_project(tmp_path_factory.mktemp("proj"), SIZES, TARGET, OTHER, BLACK, n_folds=3)
    res = dvc(d, "repro", "validate")
    assert "Running stage 'validate'" in res.stdout
    return d


def test_repro_builds_datasets_folds_and_report(project):
    for c in SIZES:
        with h5py.File(project / "data/datasets" / f"{c}.h5") as f:
            ex, gw = f["examples"], f["genomewide"]
            assert set(ex) >= {"start", "end", "bin_start", "label", "source"} and "onehot" not in ex
            assert ((ex["end"][:] - ex["start"][:]) == 1000).all()
            assert ex["start"][:].min() >= 0 and ex["end"][:].max() <= SIZES[c]
            # genome-wide set: every grid bin with context inside, minus the blacklist
            n_grid = (SIZES[c] - 200 - 400 - 400) // 50 + 1
            bins = gw["bin_start"][:]
            if c == "chrB":
                assert not ((bins + 200 > 1000) & (bins < 1300)).any()
                assert len(bins) == n_grid - len(range(850, 1300, 50))
            else:
                assert len(bins) == n_grid
    folds = json.loads((project / "data/folds.json").read_text())
    assert len(folds["folds"]) == 3
    assert sorted(c for b in folds["buckets"] for c in b) == sorted(SIZES)
    summary = json.loads((project / "data/validation/summary.json").read_text())
    assert summary["success"] and summary["n_passed"] == summary["n_checks"]


def test_second_repro_does_nothing(project):
    res = dvc(project, "repro", "validate")
    assert "Running stage" not in res.stdout
    # the data stages are up to date (later stages, e.g. training, have not been run in this project)
    assert "up to date" in dvc(project, "status", "validate").stdout


def test_checks_fail_on_bad_data_with_readable_lines(project, monkeypatch):
    from seq2acc.pipeline.validate import run_checks

    monkeypatch.chdir(project)
    p = Params.load("params.yaml")
    path = project / "data/datasets/chrC.h5"
    backup = path.read_bytes()
    try:
        with h5py.File(path, "r+") as f:
            lab = f["examples/label"][:]
            lab[0] = 2
            f["examples/label"][:] = lab
            end = f["examples/end"][:]
            end[1] = SIZES["chrC"] + 5
            f["examples/end"][:] = end
        folds = json.loads((project / "data/folds.json").read_text())
        bad = json.loads(json.dumps(folds))
        f0 = bad["folds"][0]
        f0["train"].append(f0["test"][0])  # leak a test chromosome into training
        (project / "data/folds.json").write_text(json.dumps(bad))
        ck, summary = run_checks(p)
        text = "\n".join(ck.failure_lines())
        assert not ck.success
        assert "labels are 0 or 1" in text and "label=2" in text
        assert "end <= chromosome size" in text
        assert "every interval is exactly 1000 bp" in text
        assert "[fold0_train] no test or validation chromosome" in text and f0["test"][0] in text
        from seq2acc.pipeline.validate import validate

        with pytest.raises(DataValidationError, match="data checks failed"):
            validate(p)
    finally:
        path.write_bytes(backup)
        (project / "data/folds.json").write_text(json.dumps(folds))


def test_bad_peaks_stop_repro_with_a_clear_message(tmp_path):
    d = make_project(tmp_path / "bad", SIZES, [("A", 100, 200)], n_folds=3)
    res = dvc(d, "repro", "peaks", check=False)
    assert res.returncode != 0
    err = res.stderr + res.stdout
    assert "target.bed:1" in err and "not in the FASTA" in err and "fix:" in err
    assert not (d / "data/peaks/target.bed").exists()


def test_missing_param_is_named(project, monkeypatch):
    import yaml

    from seq2acc.errors import ParamsError
    from seq2acc.pipeline.dataset import build_dataset

    monkeypatch.chdir(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    del params["dataset"]["stride"]
    with pytest.raises(ParamsError, match="'dataset.stride': is missing"):
        build_dataset(Params(params), "chrA")


def test_data_checks_print_no_progress_bars(capfd):
    import pandas as pd

    from seq2acc.data.checks import Checker

    c = Checker()
    c.check("t", pd.DataFrame({"label": [0, 1, 1]}),
            [("labels are 0 or 1", c.gx.expectations.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]))])
    assert all(r.success for r in c.results)
    assert "Calculating Metrics" not in capfd.readouterr().err
