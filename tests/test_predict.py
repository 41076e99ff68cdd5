"""`seq2acc predict` on a tiny trained project: outputs equal the pipeline's own predictions for the same windows,
and bad input gets a clear error (issue 15, first part)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from test_evaluation import _project


@pytest.fixture
def project(tmp_path, monkeypatch):
    from seq2acc.pipeline.evaluate import evaluate_fold

    p, g, sizes = _project(tmp_path)
    p.data["evaluate"]["tracks"] = False
    evaluate_fold(p, 0)  # fold 0 holds c1 out
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(p.data))
    monkeypatch.chdir(tmp_path)
    return tmp_path, g, sizes


def _cli(*args):
    from seq2acc.cli import main

    main(["--params", "params.yaml", "predict", *args])


def test_chromosome_predictions_equal_the_evaluation_scores(project, capsys):
    from seq2acc.artifacts.scores import read_scores

    root, g, sizes = project
    _cli("--chrom", "c1", "--model", "fold0", "--out", "c1.tsv")
    got = pd.read_csv(root / "c1.tsv", sep="\t")
    ev = read_scores(root / "predictions/fold0/scores.h5")["genomewide"]["c1"]
    m = ev.merge(got, on="bin_start")
    assert len(m) == len(ev) == len(got)  # every evaluated bin, no other
    np.testing.assert_allclose(m.logit, m.cnn, atol=1e-6)  # the same scorer, the same numbers
    # probabilities are of the fold's calibration (evaluate@0 fitted it on its validation chromosome)
    import json

    cal = json.loads((root / "predictions/fold0/info.json").read_text())["calibration"]["cnn"]
    np.testing.assert_allclose(m.calibrated_logit, cal["a"] * m.cnn + cal["b"], atol=1e-5)
    np.testing.assert_allclose(m.probability, 1 / (1 + np.exp(-m.calibrated_logit)), atol=1e-5)  # TSV: 6 digits
    # held-out mode picks fold 0 for c1 (the fold whose test chromosome it is), and writes a bigWig
    _cli("--chrom", "c1", "--model", "heldout", "--out", "c1.bw")
    import pyBigWig

    bw = pyBigWig.open(str(root / "c1.bw"))
    centre = int(got.bin_start.iloc[10]) + 100  # a bin is drawn on its central stride bp
    assert bw.stats("c1", centre - 25, centre + 25)[0] == pytest.approx(got.probability.iloc[10], abs=1e-5)


def test_regions_and_fasta_windows_match_the_same_genome_windows(project):
    from seq2acc.model.load import load_model
    from seq2acc.model.predict import predict_logits
    from seq2acc.seq.encoding import onehot_codes

    root, g, sizes = project
    (root / "r.bed").write_text("c1\t2000\t2200\nc3\t2400\t2600\tpeak\n")
    _cli("--regions", "r.bed", "--model", "ensemble", "--out", "r.tsv")
    r = pd.read_csv(root / "r.tsv", sep="\t")
    assert list(r.start) == [1600, 2000] and (r.end - r.start == 1000).all()
    assert list(r.bin_start) == [2000, 2400]  # the labelled bin is the region's central 200 bp
    models = [load_model(root / f"models/fold{k}/model.keras") for k in range(3)]
    x = onehot_codes(np.stack([g.codes("c1")[1600:2600], g.codes("c3")[2000:3000]]))
    want = np.mean([predict_logits(m, x, 0, rc_average=True) for m in models], axis=0)
    np.testing.assert_allclose(r.logit, want, rtol=1e-6)
    # only fold 0 is evaluated (calibrated): the ensemble averages no mix of calibrated and raw logits
    np.testing.assert_array_equal(r.calibrated_logit, r.logit)
    # the same windows given as sequences: same numbers; a longer record is tiled at the stride
    seq = "".join("ACGTN"[c] for c in g.codes("c1")[1600:2700])
    (root / "s.fa").write_text(">w\n" + seq + "\n")
    _cli("--fasta", "s.fa", "--out", "s.tsv")
    s = pd.read_csv(root / "s.tsv", sep="\t")
    assert list(s.start) == [0, 50, 100] and s.logit.iloc[0] == pytest.approx(r.logit.iloc[0], rel=1e-6)
    _cli("--region", "c1:1,600-2,600", "--model", "fold1", "--out", "one.tsv")
    one = pd.read_csv(root / "one.tsv", sep="\t")
    assert one.start.iloc[0] == 1600 and one.logit.iloc[0] == pytest.approx(
        predict_logits(models[1], x[:1], 0, rc_average=True)[0], rel=1e-6)


@pytest.mark.parametrize("args, needle", [
    (["--fasta", "short.fa"], "shorter than the model's 1000 bp input"),
    (["--fasta", "bad.fa"], "characters other than DNA letters"),
    (["--region", "c1:10-500"], "too close to a chromosome end"),
    (["--region", "chrZ:1000-3000"], "not in"),
    (["--region", "c1-1000-3000"], "not a region"),
    (["--chrom", "chrZ"], "not a sequence of"),
    (["--chrom", "c1", "--model", "fold7"], "trained model missing"),
    (["--chrom", "c1", "--model", "nonsense"], "no such model"),
    (["--fasta", "ok.fa", "--out", "x.bw"], "a track needs genomic inputs"),
])
def test_bad_input_names_the_input_and_the_fix(project, args, needle, capsys):
    root, g, sizes = project
    (root / "short.fa").write_text(">s\n" + "ACGT" * 10 + "\n")
    (root / "bad.fa").write_text(">s\n" + "ACGU" * 300 + "\n")
    (root / "ok.fa").write_text(">s\n" + "ACGT" * 300 + "\n")
    if "--out" not in args:
        args = [*args, "--out", "o.tsv"]
    with pytest.raises(SystemExit) as e:
        _cli(*args)
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert needle in err and "fix:" in err
    assert not (root / "o.tsv").exists()
