"""Model cards (issue 8): one markdown + one self-contained HTML file per registered model version.

The pipeline outputs a card reads are laid out here in the formats the stages write (evaluate.json, summary.md,
patterns.tsv, enrichment.tsv, mlflow_run.json, dvc.lock, ...); the model versions are registered in a real MLflow
store. A second project lacks the interpretation and summary outputs: its card says which stage would add them.
"""

import json
import re

import pytest
import yaml

from conftest import shipped_params
from seq2acc.config import Params

MODEL = "toyset-Reb1"
TEST_CHROMS = {0: ["chrA"], 1: ["chrB"]}
AUPRC = {0: 0.4123, 1: 0.3311}


def png(path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    ax.set_title(title)
    fig.savefig(path)
    plt.close(fig)


def tsv(path, header_comment, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0])
    path.write_text(f"## {header_comment}\n" + "\t".join(cols) + "\n" +
                    "".join("\t".join(str(r[c]) for c in cols) + "\n" for r in rows))


def register_versions(root):
    """Two fold runs with a registered version each; version 1 is the champion."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops import tracking

    exp = tracking.setup("seq2acc/toyset/Reb1", root)
    client = MlflowClient()
    client.create_registered_model(MODEL)
    out = {}
    for k in (0, 1):
        with mlflow.start_run(experiment_id=exp, run_name=f"fold{k}",
                              tags={"git_commit": "abc123def456", "git_dirty": "False", "dvc_stage": f"train@{k}",
                                    "input.data/folds.json": "f01d5f01d5"}) as run:
            mlflow.log_metric("best_val_loss", 0.3 + k / 10)
        mv = client.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id)
        out[k] = (run.info.run_id, mv.version)
    client.set_registered_model_alias(MODEL, "champion", out[0][1])
    return exp, out


def pipeline_outputs(root, versions, interpretation=True):
    """The files the train/evaluate/cv_summary/promote/modisco/motif_scan stages leave behind."""
    for k, (run_id, version) in versions.items():
        m = root / "models" / f"fold{k}"
        m.mkdir(parents=True)
        fold = {"train": ["chrC"], "valid": TEST_CHROMS[1 - k], "test": TEST_CHROMS[k]}
        (m / "config.json").write_text(json.dumps({"fold": fold, "input_length": 1000, "model": {"name": "small"}}))
        (m / "mlflow_run.json").write_text(json.dumps({"run_id": run_id, "experiment": "seq2acc/toyset/Reb1",
                                                       "registered_model_version": version, "best_epoch": 4,
                                                       "best_val_loss": 0.3 + k / 10}))
        (m / "history.json").write_text(json.dumps({"epochs_run": 7, "best_epoch": 4, "train_seconds": 12.5}))
        png(m / "loss.png", f"fold {k} loss")
        gw = {"loss": 0.09, "auprc": AUPRC[k], "auroc": 0.91, "positive_rate": 0.0151, "n_bins": 29155,
              "n_positive": 440}
        ev = {"genomewide": gw, "sampled": dict(gw, auprc=0.87, positive_rate=0.5, n_bins=880),
              "by_negative_type": {"flank": {"auprc": 0.61}, "random": {"auprc": 0.97}},
              "per_chromosome": {TEST_CHROMS[k][0]: gw},
              "baselines": {"pwm": {"genomewide": dict(gw, auprc=0.3456, loss=None)}}}
        (root / "metrics" / f"fold{k}").mkdir(parents=True)
        (root / "metrics" / f"fold{k}" / "evaluate.json").write_text(json.dumps(ev))
        png(root / "metrics" / f"fold{k}" / "curves.png", f"fold {k} curves")
    (root / "reports").mkdir()
    (root / "reports/train.json").write_text(json.dumps({
        "registered_model_name": MODEL, "criterion": "genomewide_auprc", "champion_version": versions[0][1],
        "decision": "no champion yet: version 1 (fold 0) becomes champion",
        "folds": {f"fold{k}": {"val_loss": 0.3, "genomewide_auprc": AUPRC[k], "version": v, "run_id": r}
                  for k, (r, v) in versions.items()}}))
    if not interpretation:
        return
    (root / "metrics/summary.md").write_text("## Cross-validation: genome-wide evaluation\n\n"
                                             "| fold | CNN AUPRC |\n|---|---|\n| 0 | 0.412 |\n| **pooled** | 0.377 |\n")
    png(root / "metrics/summary_pr.png", "pooled")
    for k in versions:
        tsv(root / "modisco/folds" / f"fold{k}" / "patterns.tsv", "modisco patterns", [
            {"pattern": "pos_patterns.pattern_0", "sign": "+", "n_seqlets": 212, "width": 11,
             "consensus": "TTACCCGGc", "best_match": "MA0363.3 REB1", "q_value": 0.0004, "match0_id": "MA0363.3",
             "match0_name": "REB1", "match0_p": 1e-6, "match0_q": 0.0004, "match1_id": "MA0114.1",
             "match1_name": "HNF4A", "match1_p": 0.01, "match1_q": 0.2}])
        png(root / "modisco/folds" / f"fold{k}" / "patterns.png", "logos")
        tsv(root / "motifs/folds" / f"fold{k}" / "enrichment.tsv", "enrichment", [
            {"motif_id": "MA0363.3", "motif_name": "REB1", "rank": 1, "frac_pos": 0.81, "frac_neg": 0.12,
             "log2_odds_ratio": 4.9, "q_value": 1e-30},
            {"motif_id": "MA0265.3", "motif_name": "ABF1", "rank": 2, "frac_pos": 0.2, "frac_neg": 0.1,
             "log2_odds_ratio": 1.2, "q_value": 0.03}])


def lock(root):
    (root / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "genome": {"cmd": "python stages/genome.py", "outs": [{"path": "data/genome", "hash": "md5",
                                                              "md5": "9e1c0ffee.dir", "size": 12, "nfiles": 3}]},
        "peaks": {"cmd": "python stages/peaks.py",
                  "deps": [{"path": "data/raw", "hash": "md5", "md5": "7a7a7a7a.dir", "size": 5, "nfiles": 18}],
                  "outs": [{"path": "data/peaks", "hash": "md5", "md5": "5eed5eed.dir", "size": 9, "nfiles": 4}]},
        "folds": {"cmd": "python stages/folds.py",
                  "outs": [{"path": "data/folds.json", "hash": "md5", "md5": "f01d5f01d5", "size": 99}]},
        "train@0": {"cmd": "python stages/train.py 0",
                    "outs": [{"path": "models/fold0", "hash": "md5", "md5": "0dd5.dir", "size": 1, "nfiles": 5}]},
    }}))


def params(root):
    return Params(shipped_params({
        "seed": 1, "dataset": {"context": 1000}, "model": {"name": "small"}, "train": {"folds": [0, 1]},
        "modelcard": {"out_dir": str(root / "reports/modelcards"), "dvc_lock": str(root / "dvc.lock")},
        "promote": {"out": str(root / "reports/train.json")},
        "evaluate": {"metrics_dir": str(root / "metrics")},
        "modisco": {"out_dir": str(root / "modisco")}, "motif_scan": {"out_dir": str(root / "motifs")},
        "attribute": {"out_dir": str(root / "attribution")}}), str(root / "params.yaml"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)  # card paths as the stage sees them (relative to the project root)
    (tmp_path / ".dvc").mkdir()
    return tmp_path


def _p(root):
    p = params(root)
    p.data["train"]["out_dir"] = str(root / "models")
    return p


def test_every_version_gets_a_complete_card_logged_to_mlflow(project):
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops.modelcard import build_all

    exp, versions = register_versions(project)
    pipeline_outputs(project, versions)
    lock(project)
    written = build_all(_p(project))
    out = project / "reports/modelcards"
    assert sorted(p.name for p in written) == [f"{MODEL}-v1.html", f"{MODEL}-v2.html"]
    md = (out / f"{MODEL}-v1.md").read_text()
    # identity, performance with baseline, cross-validation, motifs + JASPAR, lineage, params
    assert "version 1 — **champion**" in md and "fold 0" in md.lower()
    assert "0.412" in md and "0.0151" in md and "baseline: pwm" in md and "0.346" in md
    assert "| **pooled** | 0.377 |" in md
    assert "TTACCCGGc" in md and "MA0363.3 REB1 (q=0.0004)" in md and "ABF1" in md
    assert "| `models/fold0` | `0dd5.dir` | train@0 |" in md
    assert "`9e1c0ffee.dir`" in md and "`5eed5eed.dir`" in md and "`7a7a7a7a.dir`" in md and "f01d5f01d5" in md
    assert "abc123def456" in md and "```yaml" in md and "name: small" in md
    assert "Not available" not in md and "incomplete" not in md
    for img in re.findall(r"\]\((assets/[^)]+)\)", md):
        assert (out / img).exists()
    # the HTML stands alone: every image embedded, nothing to fetch
    page = (out / f"{MODEL}-v1.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(re.findall(r"!\[", md)) >= 4
    assert 'src="assets' not in page and "<table>" in page
    assert (out / "champion.html").read_text() == page
    assert "[v2](" in (out / "index.md").read_text()
    # logged: artifacts in the version's run, registry description, tag
    client = MlflowClient()
    for k, (run_id, version) in versions.items():
        names = sorted(a.path for a in client.list_artifacts(run_id, "model_card"))
        assert names == [f"model_card/{MODEL}-v{version}.html", f"model_card/{MODEL}-v{version}.md"]
        mv = client.get_model_version(MODEL, version)
        assert f"AUPRC {AUPRC[k]:.3f}" in mv.description and mv.tags["model_card"].endswith(".html")


def test_champion_card_describes_the_fold_ensemble_and_best_fold_its_fold(project):
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops.modelcard import build_all

    _, versions = register_versions(project)
    pipeline_outputs(project, versions, interpretation=False)
    client = MlflowClient()
    ens = client.create_model_version(MODEL, "runs:/x/ensemble", versions[0][0]).version  # the promote stage's
    client.set_registered_model_alias(MODEL, "champion", ens)
    client.set_registered_model_alias(MODEL, "best_fold", versions[1][1])
    report = json.loads((project / "reports/train.json").read_text())
    report.update({"champion_version": ens, "best_fold_version": versions[1][1],
                   "aliases": {"champion": ens, "best_fold": versions[1][1]},
                   "decision": "no best_fold yet: version 2 (fold 1) becomes best_fold",
                   "ensemble": {"version": ens, "folds": [0, 1], "run_id": "r", "uncalibrated_folds": [1],
                                "rc_average": True, "genomewide_auprc": 0.377}})
    (project / "reports/train.json").write_text(json.dumps(report))
    build_all(_p(project))
    out = project / "reports/modelcards"
    champ = (out / "champion.md").read_text()
    assert f"version {ens} — **champion** (fold ensemble)" in champ and "fold models 0, 1" in champ
    assert "0.377" in champ and "Fold(s) 1 had no calibration" in champ
    assert f"mlflow.pyfunc.load_model(\"models:/{MODEL}@champion\")" in champ and "dataframe_records" in champ
    assert f"models:/{MODEL}@best_fold` = version {versions[1][1]}" in champ
    assert "<table>" in (out / "champion.html").read_text()
    v2 = (out / f"{MODEL}-v{versions[1][1]}.md").read_text()
    assert "— **best_fold**" in v2 and f"models:/{MODEL}@best_fold" in v2 and "@champion" not in v2
    assert "**champion**" not in (out / f"{MODEL}-v{versions[0][1]}.md").read_text()
    index = (out / "index.md").read_text()
    assert f"@champion` = version {ens} the ensemble of folds 0, 1" in index and "@best_fold` = version" in index


def test_missing_sections_are_named_with_the_stage_that_makes_them(project):
    from seq2acc.mlops.modelcard import build_all

    _, versions = register_versions(project)
    pipeline_outputs(project, versions, interpretation=False)  # no cv_summary, modisco, motif_scan, dvc.lock
    build_all(_p(project))
    md = (project / "reports/modelcards" / f"{MODEL}-v2.md").read_text()
    assert "This card is incomplete" in md
    for stage in ("cv_summary", "modisco@1", "motif_scan@1"):
        assert f"`dvc repro {stage}`" in md, stage
    assert "0.331" in md  # what exists is still there


def test_no_promote_report_is_a_clear_error(project):
    from seq2acc.errors import Seq2AccError
    from seq2acc.mlops.modelcard import build_all

    with pytest.raises(Seq2AccError, match="dvc repro promote"):
        build_all(_p(project))


def test_read_table_handles_comment_and_bed_headers(tmp_path):
    import pandas as pd

    from seq2acc.artifacts.tables import read_table, write_tsv

    (tmp_path / "a.tsv").write_text("## pooled over folds [0]\n#chrom\tstart\tend\nchrA\t1\t5\n")
    df = read_table(tmp_path / "a.tsv")
    assert list(df.columns) == ["chrom", "start", "end"] and df.start.tolist() == [1]
    assert read_table(tmp_path / "missing.tsv", missing_ok=True) is None
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "missing.tsv")
    # what write_tsv writes, read_table reads back (comment line, '#' header, empty table)
    t = pd.DataFrame({"chrom": ["c1", "c2"], "start": [3, 7], "q": [0.5, 1e-9]})
    write_tsv(t, tmp_path / "b.tsv", "a comment", bed=True)
    pd.testing.assert_frame_equal(read_table(tmp_path / "b.tsv"), t)
    write_tsv(t.iloc[:0], tmp_path / "c.tsv", "nothing")
    assert list(read_table(tmp_path / "c.tsv").columns) == ["chrom", "start", "q"]
