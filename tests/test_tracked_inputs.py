"""Every user file a stage reads is a DVC dependency: an in-place edit re-runs exactly what depends on it, and a
file DVC cannot see stops the stage with the fix (issue 13, item 1)."""

from __future__ import annotations

import json

import yaml

from _workflow_project import DATA_STAGES, dvc, make_project


def _stale(root) -> set[str]:
    return set(json.loads(dvc("status", "--json", cwd=root).stdout or "{}"))


def test_in_place_edits_of_user_inputs_rerun_their_stages(tmp_path):
    root = make_project(tmp_path / "proj", stages=DATA_STAGES, remote=False)
    dvc("repro", cwd=root)
    assert _stale(root) == set()
    # a peak file edited in place: the peaks stage (and the genome stage, which reads data/raw) is stale ...
    target = root / "data/raw/peaks/target.bed"
    lines = target.read_text().splitlines(keepends=True)
    target.write_text("".join(lines[1:]))
    assert {"peaks", "genome"} <= _stale(root)
    # ... and `dvc repro` serves the edited peaks, not the old ones
    dvc("repro", cwd=root)
    assert lines[0].split()[:2] != (root / "data/peaks/target.bed").read_text().split()[:2]
    n_target = len((root / "data/peaks/target.bed").read_text().splitlines())
    assert n_target == len(lines) - 1
    assert _stale(root) == set()
    # the user's FASTA edited in place: the genome stage is stale
    fa = root / "data/raw/genome.fa"
    fa.write_text(fa.read_text().replace("ACGT", "ACGA", 1))
    assert "genome" in _stale(root)


def test_an_input_outside_the_tracked_folder_stops_the_stage_with_the_fix(tmp_path):
    root = make_project(tmp_path / "proj", stages=DATA_STAGES, remote=False)
    outside = tmp_path / "elsewhere_peaks.bed"
    outside.write_text((root / "data/raw/peaks/target.bed").read_text())
    p = yaml.safe_load((root / "params.yaml").read_text())
    p["peaks"]["target"] = str(outside)
    (root / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    res = dvc("repro", "peaks", cwd=root, check=False)
    assert res.returncode != 0
    assert "parameter 'peaks.target'" in res.stdout and str(outside) in res.stdout
    assert "copy it into data/raw/" in res.stdout
    assert not (root / "data/peaks").exists()  # nothing half-written


def test_a_signal_track_edited_in_place_reruns_the_dataset_stages(tmp_path):
    """A task's bigWig is read by the dataset stages where it lies (under data/raw/, their dependency): editing it
    makes every dataset@<chrom> stale and `dvc repro` serves the new signal labels."""
    import h5py
    import numpy as np
    import pyBigWig

    sizes = {"chr1": 16000, "chr2": 13000, "chr3": 11000}

    def track(value: float) -> None:
        bw = pyBigWig.open(str(root / "data/raw/sig.bw"), "w")
        bw.addHeader(list(sizes.items()))
        for c, n in sizes.items():
            bw.addEntries([c], [0], ends=[n], values=[value])
        bw.close()

    tasks = [{"name": "T", "peaks": "data/raw/peaks/target.bed", "signal": "data/raw/sig.bw", "jaspar_id": None,
              "min_width": 200}]
    root = make_project(tmp_path / "proj", stages=("genome", "peaks", "dataset"), sizes=sizes, remote=False,
                        params={"peaks.target": None, "peaks.tasks": tasks})
    track(1.0)
    dvc("repro", cwd=root)
    assert _stale(root) == set()

    def signal(chrom: str) -> np.ndarray:
        with h5py.File(root / f"data/datasets/{chrom}.h5") as f:
            return f["genomewide/signal"][:, 0]

    assert np.allclose(signal("chr2"), np.log1p(1.0))
    track(3.0)
    assert {f"dataset@{c}" for c in sizes} <= _stale(root)
    dvc("repro", cwd=root)
    assert np.allclose(signal("chr2"), np.log1p(3.0)) and _stale(root) == set()
