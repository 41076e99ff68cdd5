"""CI retraining script on a fresh clone with a local DVC remote (issue 8).

A tiny project built with the real dvc.yaml data stages is run and pushed once ("main"); then a fresh
clone runs scripts/ci_retrain.sh exactly as .github/workflows/retrain.yml does:
- no change -> outputs come from the remote, no stage re-runs, the report says so;
- a changed peak file -> the stages downstream of it re-run, the report shows the metric change.
"""

import json
from pathlib import Path

import pytest
import yaml

from _workflow_project import REPO, BIN, dvc, git, make_project, sh

STAGES = ("genome", "peaks", "dataset", "folds")


def run_ci(clone: Path, *args):
    proc = sh(["bash", "scripts/ci_retrain.sh", *args], clone, check=False, VENV=str(BIN.parent))
    assert proc.returncode == 0, proc.stdout[-4000:]
    report = clone / "reports/ci/retrain.md"
    return report.read_text(), json.loads(report.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("ci") / "origin", stages=STAGES)
    dvc("repro", cwd=root)
    dvc("push", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "data stages run", cwd=root)
    return root


def test_fresh_clone_no_change_then_changed_peaks(origin, tmp_path):
    clone = origin.parent / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=origin.parent)
    assert not (clone / "data/datasets/chr1.h5").exists()  # data is not in git

    # 1. no change: everything comes from the remote, nothing retrains
    text, res = run_ci(clone)
    assert res["stages_run"] == [], text
    assert res["retrained"] is False and res["pull_ok"] is True and res["pushed"] is True
    assert (clone / "data/datasets/chr1.h5").exists() and (clone / "data/folds.json").exists()
    assert "Nothing to retrain" in text and "No metric changed." in text
    assert git("status", "--porcelain", "dvc.lock", cwd=clone).stdout.strip() == ""

    # 2. a changed peak file: a user adds target peaks on a branch
    git("checkout", "-q", "-b", "more-peaks", cwd=clone)
    bed = clone / "data/raw/peaks/target.bed"
    extra = "".join(f"chr1\t{s}\t{s + 300}\n" for s in (2000, 4000, 6000, 8000, 10000, 12000))
    bed.write_text(bed.read_text() + extra)
    git("commit", "-qam", "more Reb1 peaks on chr1", cwd=clone)
    genome_before = (clone / "data/genome/genome.fa").read_bytes()
    text, res = run_ci(clone, "--base", "main")
    ran = set(res["stages_run"])
    assert {"peaks", "dataset@chr1", "folds"} <= ran, text
    # the genome stage depends on data/raw (a user FASTA lives there), so it re-ran, and built the same genome
    assert (clone / "data/genome/genome.fa").read_bytes() == genome_before
    assert res["pushed"] is True
    # the report shows the metric change: more positives in the bucket holding chr1
    folds = json.loads((clone / "data/folds.json").read_text())
    k = next(i for i, b in enumerate(folds["buckets"]) if "chr1" in b)
    change = res["metrics_diff"]["data/folds_metrics.json"][f"bucket{k}.positives"]
    assert change["new"] > change["old"], change
    assert f"bucket{k}.positives" in text and "Retrained" in text
    row = next(ln for ln in text.splitlines() if f"| bucket{k}.positives |" in ln)
    assert f"+{change['new'] - change['old']}" in row

    # what CI pushed is enough for the next fresh clone: nothing missing on the remote
    git("commit", "-qam", "CI: dvc.lock after retraining", cwd=clone)
    status = dvc("status", "--cloud", "--json", cwd=clone).stdout
    assert json.loads(status[status.find("{"):]) == {}


def test_workflow_file_triggers_and_calls_the_script():
    wf = yaml.safe_load((REPO / ".github/workflows/retrain.yml").read_text())
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    paths = on["push"]["paths"]
    for pat in ("**.dvc", "data/**", "params.yaml", "dvc.yaml", "src/**"):
        assert pat in paths, pat
    steps = [s.get("run", "") for job in wf["jobs"].values() for s in job["steps"]]
    assert any("scripts/ci_retrain.sh" in r for r in steps)
