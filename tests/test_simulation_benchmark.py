"""Ground-truth benchmark (issue 7): the scoring helpers on hand-made inputs, the derived DVC project, and a small
simulation run through the REAL pipeline (dvc repro) with asserted thresholds that a broken pipeline (shuffled
labels) fails."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, project_env
from seq2acc.errors import ParamsError
from seq2acc.sim.benchmark import (attribution_auprc, check_thresholds, derive_dvc, format_table, motif_mask, pair_rank,
                              planted_pairs, tomtom_matches, variant_contrast, write_project)
from seq2acc.sim.simulate import config_from_dict, load_motifs


# ----------------------------------------------------------------------------- helpers on hand-made inputs
def test_motif_mask_marks_planted_bases_of_each_window():
    truth = pd.DataFrame({"chrom": ["c1", "c1", "c1", "c2"], "start": [100, 150, 990, 100], "end": [110, 160, 1010, 110],
                          "role": ["target", "bystander", "target", "target"]})
    m = motif_mask(truth, "c1", [95, 1000], 20)
    assert m[0].tolist() == [False] * 5 + [True] * 10 + [False] * 5  # bystander at 150 is outside the window
    assert m[1].tolist() == [True] * 10 + [False] * 10  # instance [990, 1010) clipped at the window start
    assert motif_mask(truth, "c1", [140], 30, roles=None)[0, 10:20].all()
    assert not motif_mask(truth, "c1", [140], 30)[0].any()


def test_attribution_auprc_perfect_random_and_inverted():
    rng = np.random.default_rng(0)
    mask = np.zeros((20, 100), bool)
    mask[:, 40:55] = True
    perfect = np.where(mask, 1.0, 0.01)[..., None] * np.eye(4)[rng.integers(0, 4, (20, 100))]
    assert attribution_auprc(perfect, mask) == pytest.approx(1.0)
    assert attribution_auprc(-perfect, mask) == pytest.approx(1.0)  # |contribution|: sign does not matter
    noise = rng.normal(size=(20, 100))
    assert attribution_auprc(noise, mask) < 0.3
    assert attribution_auprc(np.where(mask, 0.0, 1.0), mask) < mask.mean() + 0.01


def test_tomtom_matches_planted_motifs_and_not_random_patterns():
    cfg = config_from_dict(_cfg(), "t.yaml")
    motifs = load_motifs(cfg)
    planted = {s: m.ppm for s, m in motifs.items()}
    from seq2acc.interpret.motifs import fetch_jaspar

    decoys = [m.counts / m.counts.sum(1, keepdims=True) for m in fetch_jaspar(tax_group=["fungi"])[:60]]
    rng = np.random.default_rng(1)
    uniform_ish = rng.dirichlet(np.ones(4) * 50, size=12)  # flat, uninformative pattern
    core_a = planted["A"][2:13]  # a trimmed CTCF pattern, as MoDISco reports it
    rc_c = planted["C"][::-1, ::-1]  # CEBPB on the other strand
    res = tomtom_matches([core_a, rc_c, uniform_ish], planted, decoys)
    best = res.loc[res.groupby("pattern").q.idxmin()].set_index("pattern")
    assert best.loc[0, "motif"] == "A" and best.loc[0, "match"]
    assert best.loc[1, "motif"] == "C" and best.loc[1, "match"]
    assert not res[res.pattern == 2].match.any()


def test_pair_rank_and_variant_contrast_and_thresholds():
    r = pair_rank({("C", "B"): 0.9, ("A", "B"): 0.1, ("A", "C"): -0.2}, [("B", "C")])
    assert r["B+C"]["rank"] == 1 and r["B+C"]["n_pairs"] == 3 and r["B+C"]["top"]
    assert pair_rank({("B", "C"): 0.0, ("A", "B"): 0.1}, [("B", "C")])["B+C"]["rank"] == 2
    v = variant_contrast(pd.DataFrame({"cls": ["inside"] * 2 + ["outside"] * 2, "effect": [-1.0, 0.5, 0.1, -0.1]}))
    assert v["inside_mean_abs"] == 0.75 and v["ratio"] == pytest.approx(7.5)
    m = {"genomewide_auprc": {"mean": {"cnn": 0.4, "positive_rate": 0.03}}}
    assert check_thresholds(m, {"genomewide_auprc.mean.cnn_min": 0.3}) == []
    failed = check_thresholds(m, {"genomewide_auprc.mean.cnn_min": 0.5, "genomewide_auprc.mean.positive_rate_max": 0.01,
                                  "attribution_auprc.deepshap.mean_min": 0.1})
    assert len(failed) == 3 and "below" in failed[0] and "above" in failed[1] and "missing" in failed[2]
    with pytest.raises(ParamsError, match="_min or _max"):
        check_thresholds(m, {"genomewide_auprc.mean.cnn": 0.3})
    table = format_table({"genomewide_auprc": {"fold0": {"cnn": 0.4}, "mean": {"cnn": 0.4}},
                          "checks": {"failed": failed, "n_thresholds": 3}})
    assert "| genome-wide AUPRC | CNN | 0.400 | 0.400 |" in table and "FAILED" in table


def test_planted_pairs_of_the_grammar():
    assert planted_pairs(config_from_dict(_cfg(), "t.yaml")) == [("B", "C")]


def test_derived_pipeline_keeps_root_stages_and_leaves_out_unready_ones(tmp_path):
    root = {"stages": {
        "genome": {"cmd": "python stages/genome.py", "deps": ["stages/genome.py"], "outs": ["data/genome"]},
        "dataset": {"foreach": "${dataset.chromosomes}", "do": {
            "cmd": "python stages/dataset.py ${item}", "deps": ["stages/dataset.py", "data/genome"],
            "outs": ["data/datasets/${item}.h5"]}},
        "future": {"cmd": "python stages/future.py", "deps": ["stages/future.py"], "outs": ["future"]},
        "after": {"cmd": "python stages/after.py", "deps": ["stages/after.py", "future/x"], "outs": ["after.json"]},
        "noparams": {"cmd": "python stages/genome.py", "deps": ["stages/genome.py"], "params": ["missing.key"],
                     "outs": ["np"]},
    }}
    (tmp_path / "stages").mkdir()
    for n in ("genome", "dataset", "after"):
        (tmp_path / "stages" / f"{n}.py").write_text("")
    d = derive_dvc(root, "", tmp_path, {"dataset": {}})
    assert list(d["stages"]) == ["simulate", "genome", "dataset", "simbench"]
    assert "data/raw" in d["stages"]["genome"]["deps"]  # the simulated FASTA feeds the genome stage
    assert d["stages"]["dataset"]["do"]["cmd"] == "python stages/dataset.py ${item}"
    deps = d["stages"]["simbench"]["deps"]
    assert "data/datasets" in deps and "data/genome" in deps and "future" not in deps
    # a project elsewhere reaches the root's sources through the prefix
    d2 = derive_dvc(root, "../../")
    assert d2["stages"]["genome"]["cmd"] == "python ../../stages/genome.py"
    assert d2["stages"]["dataset"]["do"]["deps"][0] == "../../stages/dataset.py"


def test_write_project_links_root_and_overrides_params(tmp_path):
    conf = tmp_path / "sim.yaml"
    raw = _cfg()
    raw["pipeline"] = {"folds.n_folds": 3, "train.epochs": 2}
    raw["thresholds"] = {"genomewide_auprc.mean.cnn_min": 0.2}
    conf.write_text(yaml.safe_dump(raw))
    proj = write_project(conf, tmp_path / "proj", ROOT, overrides={"simulation.shuffle_labels": True})
    assert (proj / ".dvc").is_dir() and (proj / "stages").is_symlink() and (proj / "src").is_symlink()
    assert (proj / "stages" / "dataset.py").exists()
    params = yaml.safe_load((proj / "params.yaml").read_text())
    assert params["genome"]["fasta"] == "data/raw/genome.fa"
    assert params["peaks"]["target"] == "data/raw/target.bed"
    assert params["dataset"]["chromosomes"] == ["chr1", "chr2", "chr3", "chr4", "chr5"]
    assert params["folds"]["n_folds"] == 3 and params["simulation"]["shuffle_labels"] is True
    assert params["simbench"]["thresholds"] == {"genomewide_auprc.mean.cnn_min": 0.2}
    if "train" in params:
        assert params["train"]["epochs"] == 2 and params["train"]["folds"] == [0, 1, 2]
    dvc = yaml.safe_load((proj / "dvc.yaml").read_text())
    assert list(dvc["stages"])[0] == "simulate" and list(dvc["stages"])[-1] == "simbench"
    root_stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert set(dvc["stages"]) - {"simulate", "simbench"} <= set(root_stages)
    with pytest.raises(ParamsError, match="pipeline"):
        bad = copy.deepcopy(raw)
        bad["pipeline"] = ["folds.n_folds=3"]
        conf.write_text(yaml.safe_dump(bad))
        write_project(conf, tmp_path / "proj2", ROOT)


def _cfg() -> dict:
    return {
        "seed": 5,
        "genome": {"n_chromosomes": 5, "length": 300000},
        "background": {"model": "markov", "gc": 0.4, "cpg_ratio": 0.3},
        "motifs": {"A": "MA0139.2", "B": "MA0035.4", "C": "MA0466.3", "D": "MA0138.3", "E": "MA0080.6"},
        "grammar": {"target": {"rules": [{"name": "A", "motifs": ["A"]},
                                         {"name": "B+C", "motifs": ["B", "C"], "spacing": [5, 25]}],
                               "repressors": ["D"]},
                    "elsewhere": {"rules": [{"name": "E", "motifs": ["E"]}]}},
        "regions": {"target": 200, "elsewhere": 100, "decoy": 200, "width": 120, "peak_width": 200, "min_gap": 1000,
                    "bystander_rate": 0.5},
        "label_noise": 0.02,
    }


# ----------------------------------------------------------------------------- the real pipeline, end to end
E2E_STAGES = ["genome", "peaks", "dataset", "folds", "validate", "train", "evaluate", "attribute"]
E2E_THRESHOLDS = {
    # a working pipeline learns the grammar well above chance (positive rate ~0.08; shuffled labels stay near it)
    "genomewide_auprc.fold0.cnn_min": 0.25,  # measured 0.48 (shuffled labels: 0.075)
    # ... and its contributions single out the planted motif bases (~2% of the bases of a positive window)
    "attribution_auprc.deepshap.fold0_min": 0.15,  # measured 0.38 (shuffled labels: 0.008)
    "genomewide_auprc.fold0.bayes_optimal_min": 0.9,
}


def _e2e_config(tmp_path) -> str:
    """1.5 Mb, dense regions and clear instances (relative score >= 0.9) so that fold 0's model learns the grammar
    in a few epochs on 2 CPU cores; everything else is the pipeline's defaults."""
    raw = _cfg()
    raw["regions"].update(target=300, elsewhere=100, decoy=150)
    raw["motif_sampling"] = {"min_score": 0.9}
    raw["label_noise"] = 0.0
    raw["pipeline"] = {
        "folds.n_folds": 5, "train.folds": [0], "train.epochs": 7, "train.patience": 2,
        "train.genomewide_negatives": 0,  # the sampled examples only: 6x fewer steps per epoch than the default
        "evaluate.tracks": False, "baselines.kmer.enabled": False,
        "attribute.max_regions": 40, "attribute.n_refs": 5, "attribute.top_logos": 2,
        "simbench.attribution_max_seqs": 40, "simbench.attribution_methods": ["deepshap", "grad_x_input"],
        "simbench.modisco": False, "simulation.variants_per_class": 150,
    }
    raw["thresholds"] = E2E_THRESHOLDS
    conf = tmp_path / "sim.yaml"
    conf.write_text(yaml.safe_dump(raw, sort_keys=False))
    return conf


def _run(project) -> dict:
    env = project_env()
    env.update(OMP_NUM_THREADS="2", TF_NUM_INTEROP_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f"dvc repro failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
    return json.loads((project / "results/simbench/metrics.json").read_text())


@pytest.mark.slow
def test_working_pipeline_meets_thresholds_and_shuffled_labels_fail_them(tmp_path):
    conf = _e2e_config(tmp_path)
    ok = _run(write_project(conf, tmp_path / "ok", ROOT, include=E2E_STAGES))
    assert ok["checks"]["failed"] == [], ok["checks"]["failed"]
    gw = ok["genomewide_auprc"]["fold0"]
    assert gw["cnn"] > 3 * gw["positive_rate"]
    assert ok["wired"]["CNN"] and ok["wired"]["attribution"] and ok["wired"]["variants"]
    assert ok["variants"]["ratio"] > 1.2  # substitutions in planted motifs matter more than next to them (1.6)
    table = (tmp_path / "ok/results/simbench/table.md").read_text()
    assert "Bayes-optimal" in table and "CNN" in table and "deepshap" in table

    # Broken pipeline: the same run with the target peaks moved to random places must fail the same thresholds.
    bad = _run(write_project(conf, tmp_path / "bad", ROOT, include=E2E_STAGES,
                             overrides={"simulation.shuffle_labels": True}))
    failed = " ".join(bad["checks"]["failed"])
    print("working:", ok["genomewide_auprc"]["fold0"], ok["attribution_auprc"]["deepshap"])
    print("shuffled labels:", bad["genomewide_auprc"]["fold0"], bad.get("attribution_auprc", {}).get("deepshap"))
    assert "genomewide_auprc.fold0.cnn" in failed
    assert "attribution_auprc.deepshap.fold0" in failed
