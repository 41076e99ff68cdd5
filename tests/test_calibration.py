"""Per-fold calibration (evaluate.calibration): Platt / temperature fits, ranking invariance, pooling over folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seq2acc.errors import ArgumentError
from seq2acc.evaluate.calibration import apply_calibration, fit_calibration
from seq2acc.evaluate.metrics import bce_with_logits, binary_metrics


def _logistic(seed: int, n: int, a: float, b: float, scale: float = 2.0):
    """Labels drawn from P(y=1 | z) = sigmoid(a z + b)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, scale, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(a * z + b)))).astype(np.int8)
    return z, y


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_platt_recovers_a_known_slope_and_intercept(seed):
    rng = np.random.default_rng(100 + seed)
    a, b = float(rng.uniform(0.3, 3.0)), float(rng.uniform(-3.0, 0.5))
    z, y = _logistic(seed, 40000, a, b)
    cal = fit_calibration(z, y, "platt")
    assert cal["fallback"] is None and cal["method"] == "platt"
    assert cal["a"] == pytest.approx(a, rel=0.08) and cal["b"] == pytest.approx(b, abs=0.08)
    assert cal["n_bins"] == len(y) and cal["n_positive"] == int(y.sum())
    assert cal["val_loss_after"] <= cal["val_loss_before"] + 1e-12
    assert cal["val_loss_before"] == pytest.approx(bce_with_logits(y, z))
    assert cal["val_loss_after"] == pytest.approx(bce_with_logits(y, apply_calibration(z, cal)))
    # the maximum likelihood: the gradient of the mean BCE vanishes
    r = 1 / (1 + np.exp(-apply_calibration(z, cal))) - y
    assert abs(np.mean(r)) < 1e-5 and abs(np.mean(r * z)) < 1e-5


@pytest.mark.parametrize("seed", [0, 1])
def test_temperature_fits_the_scale_only(seed):
    z, y = _logistic(seed, 40000, 0.5, 0.0)
    cal = fit_calibration(z, y, "temperature")
    assert cal["b"] == 0.0 and cal["a"] == pytest.approx(0.5, rel=0.08)
    assert cal["val_loss_after"] <= cal["val_loss_before"]


def test_none_is_the_identity_and_calibration_keeps_the_ranking():
    z, y = _logistic(7, 5000, 2.5, -2.0)
    none = fit_calibration(z, y, "none")
    assert (none["a"], none["b"], none["fallback"]) == (1.0, 0.0, None)
    np.testing.assert_array_equal(apply_calibration(z, none), z)
    np.testing.assert_array_equal(apply_calibration(z, None), z)
    assert none["val_loss_before"] == none["val_loss_after"]
    for method in ("platt", "temperature"):
        cal = fit_calibration(z, y, method)
        before, after = binary_metrics(y, z), binary_metrics(y, apply_calibration(z, cal))
        assert after["auprc"] == before["auprc"] and after["auroc"] == before["auroc"]  # a monotone map
        assert after["loss"] < before["loss"]  # but the loss changes (here: improves, the logits were miscalibrated)


def test_degenerate_validation_set_gives_the_identity_with_a_warning(caplog):
    z = np.linspace(-3, 3, 50)
    for y, word in ((np.zeros(50, int), "no positive"), (np.ones(50, int), "no negative")):
        cal = fit_calibration(z, y, "platt")
        assert (cal["a"], cal["b"]) == (1.0, 0.0) and word in cal["fallback"]
        assert word in caplog.text
    empty = fit_calibration(np.zeros(0), np.zeros(0, int), "platt")
    assert (empty["a"], empty["b"], empty["n_bins"]) == (1.0, 0.0, 0) and empty["val_loss_before"] is None


def test_a_non_positive_slope_falls_back_to_the_identity(caplog):
    z, y = _logistic(3, 5000, -1.5, 0.0)  # the score ranks backwards
    cal = fit_calibration(z, y, "platt")
    assert (cal["a"], cal["b"]) == (1.0, 0.0) and "not positive" in cal["fallback"] and "not positive" in caplog.text


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ArgumentError, match="not a calibration method"):
        fit_calibration([0.0], [1], "isotonic")
    with pytest.raises(ArgumentError, match="not finite"):
        fit_calibration([0.0, -np.inf], [1, 0], "platt")
    with pytest.raises(ArgumentError, match="labels"):
        fit_calibration([0.0, 1.0], [1], "platt")
    with pytest.raises(ArgumentError, match="positive"):
        apply_calibration([0.0], {"a": -1.0, "b": 0.0})


def _fold(k: int, chrom: str, z: np.ndarray, y: np.ndarray, cal: dict | None) -> dict:
    gw = pd.DataFrame({"bin_start": np.arange(len(y)) * 50, "label": y, "cnn": z})
    pos = np.flatnonzero(y)[:5]
    sm = pd.DataFrame({"chrom": chrom, "bin_start": gw.bin_start.to_numpy()[pos], "label": 1, "source": 0,
                       "cnn": z[pos]})
    info = {"test": [chrom], "baselines": {}}
    if cal is not None:
        info["calibration"] = {"cnn": cal}
    return {"fold": k, "genomewide": {chrom: gw}, "sampled": sm, "info": info}


def test_pooling_two_folds_on_different_scales_recovers_the_common_score():
    """Two 'folds' whose logits are the same score s on different scales (fold 0: 4 s + 1, fold 1: 0.5 s - 2):
    after each fold's Platt calibration (fitted on its own validation bins) the pooled AUPRC equals the AUPRC of the
    common score s, and is higher than pooling the raw logits."""
    from seq2acc.evaluate.cv import cv_headline, markdown, summarize
    from seq2acc.evaluate.fold import calibrated

    transforms = [(4.0, 1.0), (0.5, -2.0)]
    folds, common_s, common_y = [], [], []
    for k, (m, c) in enumerate(transforms):
        s_val, y_val = _logistic(10 + k, 30000, 1.0, -3.0)   # validation bins of the fold
        s_test, y_test = _logistic(20 + k, 30000, 1.0, -3.0)  # test bins
        cal = fit_calibration(m * s_val + c, y_val, "platt")
        assert cal["a"] == pytest.approx(1 / m, rel=0.1)
        folds.append(_fold(k, f"c{k}", m * s_test + c, y_test, cal))
        common_s.append(s_test), common_y.append(y_test)
    want = binary_metrics(np.concatenate(common_y), np.concatenate(common_s))["auprc"]
    summary = summarize(folds)
    got, raw = summary["pooled"]["cnn"]["auprc"], summary["pooled_uncalibrated"]["cnn"]["auprc"]
    assert got == pytest.approx(want, abs=0.005) and got > raw + 0.01
    # per-fold AUPRC identical with and without calibration
    for f in folds:
        d, dc = f["genomewide"][f"c{f['fold']}"], calibrated(f)["genomewide"][f"c{f['fold']}"]
        assert not np.allclose(d.cnn, dc.cnn)
        assert binary_metrics(d.label, d.cnn)["auprc"] == binary_metrics(dc.label, dc.cnn)["auprc"]
        assert summary["folds"][f"fold{f['fold']}"]["cnn_auprc"] == binary_metrics(d.label, d.cnn)["auprc"]
    assert calibrated(calibrated(folds[0]))["genomewide"]["c0"].cnn.equals(calibrated(folds[0])["genomewide"]["c0"].cnn)
    head = cv_headline(summary)
    assert head["pooled_auprc"] == got and head["pooled_auprc_uncalibrated"] == raw
    assert "Pooled AUPRC without calibration" in markdown(summary)
    # folds without calibration (evaluated before it existed) pool their raw logits
    plain = summarize([{**f, "info": {"test": f["info"]["test"], "baselines": {}}} for f in folds])
    assert plain["pooled"]["cnn"]["auprc"] == pytest.approx(raw) and plain["pooled_uncalibrated"] == {}
