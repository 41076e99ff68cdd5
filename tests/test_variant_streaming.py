"""Variants at scale: streaming reader, chunk-size independence, resuming after SIGKILL/SIGTERM, restart on changed
inputs, bad records named by file and line, the public ``seq2acc.score_variants``."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seq2acc.errors import InputError
from seq2acc.io.fasta import Genome
from seq2acc.io.vcf import check_variants, iter_variants, read_variants, scan_variants

from conftest import ROOT, project_env, random_seqs, shipped_params, write_fasta

L = 100
N = 13  # variants in the shared project
OUTPUTS = ("scores.tsv", "fold_scores.tsv", "contrib.h5", "volcano.png")


def _snvs(seqs, n, seed, chroms=("chrA", "chrB")):
    rng = np.random.default_rng(seed)
    lines = ["chrom\tpos\tref\talt\tid"]
    for i in range(n):
        c = chroms[i % len(chroms)]
        s = seqs[c]
        pos = int(rng.integers(1, len(s) + 1))
        lines.append(f"{c}\t{pos}\t{s[pos - 1]}\t{'ACGT'[('ACGT'.index(s[pos - 1]) + 1) % 4]}\tv{i}")
    return "\n".join(lines) + "\n"


def _make_project(root: Path, n: int = N, **variants) -> Path:
    """Genome (a Reb1 site planted), two fold models (the Reb1 detector of test_variants), folds, n SNVs."""
    from test_variants import _reb1_model

    root.mkdir(parents=True, exist_ok=True)
    seqs = random_seqs({"chrA": 600, "chrB": 500}, seed=11)
    seqs["chrA"] = seqs["chrA"][:300] + "TTACCCGG" + seqs["chrA"][308:]
    write_fasta(root / "g.fa", seqs)
    (root / "folds.json").write_text(json.dumps({"folds": [
        {"fold": 0, "test": ["chrA"], "valid": ["chrB"], "train": []},
        {"fold": 1, "test": ["chrB"], "valid": ["chrA"], "train": []}]}))
    model = _reb1_model(L)
    for k in (0, 1):
        (root / f"models/fold{k}").mkdir(parents=True, exist_ok=True)
        model.save(root / f"models/fold{k}/model.keras")
    (root / "v.tsv").write_text(_snvs(seqs, n - 1, seed=5) + "chrA\t305\tC\tA\tin_motif\n")
    v = {"input": "v.tsv", "n_null": 9, "method": "grad_x_input", "flank": 4, "top_plots": 2, "chunk": 4,
         "batch_size": 64, "out_dir": "out"}
    v.update(variants)
    params = shipped_params({"seed": 0, "genome": {"fasta_out": "g.fa"}, "folds": {"out": "folds.json"},
                             "train": {"folds": [0, 1], "out_dir": "models"}, "variants": v})
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return _make_project(tmp_path_factory.mktemp("varproj"))


def _run(root: Path, out: str, **variants):
    from seq2acc.config import Params
    from seq2acc.pipeline.variants import score_variants

    old = os.getcwd()
    os.chdir(root)
    try:
        p = Params.load("params.yaml")
        p.data["variants"].update(out_dir=out, **variants)
        return root / score_variants(p)
    finally:
        os.chdir(old)


def _same_outputs(a: Path, b: Path):
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pa, pb = sorted(x.name for x in (a / "plots").iterdir()), sorted(x.name for x in (b / "plots").iterdir())
    assert pa == pb and pa
    for name in pa:
        assert (a / "plots" / name).read_bytes() == (b / "plots" / name).read_bytes(), name


@pytest.fixture(scope="module")
def reference(project):
    """An uninterrupted run of the shipped chunking."""
    return _run(project, "ref")


# ----------------------------------------------------------------------------- the streaming reader
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(1, 12), start=st.integers(0, 9))
def test_streamed_chunks_are_the_checked_table(tmp_path, chunk, start):
    s = "ACGTTGCA" * 10
    fa = tmp_path / "g.fa"
    if not fa.exists():
        write_fasta(fa, {"chr1": s})
    g = Genome(fa)
    lines = ["chrom\tpos\tref\talt\tid"] + [f"chr1\t{k}\t{s[k - 1]}\tN\tv{k}" for k in range(1, 10)]
    lines.insert(4, "chr1\t30\tA\t<DEL>\tsymbolic")  # bad records, left out with skip_unsupported
    lines.insert(7, "chrX\t3\tA\tC\tunknown_chrom")
    p = tmp_path / "v.tsv"
    p.write_text("\n".join(lines) + "\n")
    want = check_variants(read_variants(p, True), g, p, True)
    assert scan_variants(p, g, True) == len(want) == 9
    got = list(iter_variants(p, g, chunk, start))
    assert all(len(c) <= chunk for c in got)
    got = pd.concat(got, ignore_index=True) if got else want.iloc[:0]
    pd.testing.assert_frame_equal(got, want.iloc[start:].reset_index(drop=True))


def test_a_table_written_in_chunks_is_the_table_written_at_once(tmp_path):
    from seq2acc.artifacts.tables import finish_chunked_tsv, tsv_text, write_tsv

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": [f'v"{i}' for i in range(11)], "pos": np.arange(11), "x": rng.normal(size=11) * 1e4,
                       "y": np.where(np.arange(11) % 3 == 0, np.nan, rng.random(11)), "ok": np.arange(11) % 2 == 0})
    q = rng.random(11)
    q[4] = np.nan
    part = tmp_path / "part.tsv"
    part.write_text("".join(tsv_text(df.iloc[i:i + 4], header=i == 0) for i in range(0, 11, 4)))
    finish_chunked_tsv(part, tmp_path / "chunked.tsv", "comment", ("x", "q", q))
    whole = df.copy()
    whole.insert(3, "q", q)
    write_tsv(whole, tmp_path / "whole.tsv", "comment")
    assert (tmp_path / "chunked.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()


def test_chunked_parts_keep_only_committed_bytes_and_start_over_on_another_fingerprint(tmp_path, caplog):
    from seq2acc.io.resume import ChunkedParts

    d = tmp_path / ".partial"
    with ChunkedParts(d, {"a": 1}) as parts:
        assert not parts.resumed
        parts.append("x", "one\n")
        parts.commit(done=1)
        parts.append("x", "half-written")  # interrupted before the commit
        parts.append("y", b"\x00")
    with ChunkedParts(d, {"a": 1}) as parts:
        assert parts.resumed and parts.state == {"done": 1}
        assert parts.path("x").read_text() == "one\n" and not (d / "y").exists()
    with caplog.at_level(logging.INFO), ChunkedParts(d, {"a": 2}) as parts:
        assert not parts.resumed and parts.state == {} and not (d / "x").exists()
    assert "a changed" in caplog.text
    with ChunkedParts(d, {"a": 2}) as parts:
        parts.append("x", "12345")
        parts.commit(done=1)
    (d / "x").write_text("12")  # shorter than recorded (a crash lost data): never trusted
    with ChunkedParts(d, {"a": 2}) as parts:
        assert not parts.resumed


# ----------------------------------------------------------------------------- chunk size does not change a number
_API_KW = dict(n_null=9, seed=0, batch_size=64, contrib=False, flank=4, progress=False)


@pytest.fixture(scope="module")
def api_whole(project):
    import seq2acc

    models = [project / f"models/fold{k}/model.keras" for k in (0, 1)]
    return seq2acc.score_variants(project / "v.tsv", models, project / "g.fa", folds=project / "folds.json",
                                  chunk=N, **_API_KW)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(1, N + 5))
@example(chunk=1)
@example(chunk=N + 5)
def test_scores_do_not_depend_on_the_chunk_size(project, api_whole, chunk):
    """(Contributions too: the stage test below compares chunk 1 and N + 5 with them.)"""
    import seq2acc

    models = [project / f"models/fold{k}/model.keras" for k in (0, 1)]
    got = seq2acc.score_variants(project / "v.tsv", models, project / "g.fa", folds=project / "folds.json",
                                 chunk=chunk, **_API_KW)
    pd.testing.assert_frame_equal(got, api_whole, check_exact=True)


def test_stage_output_is_the_api_table_and_independent_of_the_chunk_size(project, reference, tmp_path):
    import seq2acc
    from seq2acc.artifacts.tables import read_table, write_tsv

    api = seq2acc.score_variants(project / "v.tsv", {k: project / f"models/fold{k}/model.keras" for k in (0, 1)},
                                 project / "g.fa", folds=project / "folds.json", n_null=9, seed=0, batch_size=64,
                                 method="grad_x_input", flank=4, chunk=3, progress=False)
    from seq2acc.interpret.variants import SCORE_COLUMNS

    assert list(api.columns) == list(SCORE_COLUMNS)
    write_tsv(api, tmp_path / "api.tsv")
    assert (tmp_path / "api.tsv").read_text() == (reference / "scores.tsv").read_text().split("\n", 1)[1]
    sc = read_table(reference / "scores.tsv").set_index("id")
    assert sc.loc["in_motif", "delta"] == pytest.approx(-1.0, abs=1e-5) and sc.loc["in_motif", "p_value"] == 0.1
    assert not (reference / ".partial").exists()
    for chunk in (1, N + 5):
        _same_outputs(_run(project, f"chunk{chunk}", chunk=chunk), reference)


# ----------------------------------------------------------------------------- interrupted runs
def test_a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_one(project, reference, caplog):
    """A real ``seq2acc score-variants`` subprocess, SIGKILLed after its first chunks, then the same command again."""
    out = project / "killed"
    env = project_env()
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "seq2acc.cli", "score-variants", "v.tsv", "--out", "killed", "--chunk", "1"]
    proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    state = out / ".partial" / "state.json"
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if state.exists() and json.loads(state.read_text())["fields"]["variants"] >= 1:
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    scored = json.loads(state.read_text())["fields"]["variants"]
    assert 1 <= scored < N and not (out / "scores.tsv").exists()  # nothing final yet
    with caplog.at_level(logging.INFO):
        _run(project, "killed", chunk=1)
    assert f"{scored} of {N} variants already scored" in caplog.text
    _same_outputs(out, reference)  # chunk 1 or the shipped chunk: the same bytes
    assert not (out / ".partial").exists()


def _interrupt_after(monkeypatch, chunks: int):
    from seq2acc.interpret.variants import VariantScorer

    real, calls = VariantScorer.score_chunk, []

    def flaky(self, variants, index_offset):
        calls.append(index_offset)
        if len(calls) > chunks:
            raise KeyboardInterrupt("signal 15")  # what run_stage turns SIGTERM into
        return real(self, variants, index_offset)

    monkeypatch.setattr(VariantScorer, "score_chunk", flaky)
    return calls


def test_sigterm_resumes_and_changed_inputs_start_over(project, reference, monkeypatch, caplog, tmp_path):
    proj = tmp_path / "p"
    shutil.copytree(project, proj, ignore=shutil.ignore_patterns("ref", "chunk*", "killed", "out"))
    # interrupted after 2 chunks (SIGTERM in a stage), then the same inputs: resumes, same bytes
    _interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        _run(proj, "o")
    monkeypatch.undo()
    calls = _interrupt_after(monkeypatch, 99)
    with caplog.at_level(logging.INFO):
        _run(proj, "o")
    assert calls[0] == 8 and "8 of 13 variants already scored" in caplog.text
    _same_outputs(proj / "o", reference)
    # interrupted, then another variant file: starts over and equals a fresh run of that file
    monkeypatch.undo()
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        _run(proj, "o")
    monkeypatch.undo()
    lines = (proj / "v.tsv").read_text().splitlines()
    (proj / "v.tsv").write_text("\n".join(lines[:1] + lines[3:]) + "\n")
    calls = _interrupt_after(monkeypatch, 99)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        _run(proj, "o")
    assert calls[0] == 0 and "input_md5 changed" in caplog.text and "starting over" in caplog.text
    monkeypatch.undo()
    _same_outputs(proj / "o", _run(proj, "fresh"))
    # interrupted, then another model: starts over
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        _run(proj, "o")
    monkeypatch.undo()
    import keras

    m = keras.models.load_model(proj / "models/fold1/model.keras")
    m.get_layer("logit").set_weights([np.full((2, 1), 2.0, np.float32), np.array([-1.0], np.float32)])
    m.save(proj / "models/fold1/model.keras")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        _run(proj, "o")
    assert "models_md5 changed" in caplog.text
    _same_outputs(proj / "o", _run(proj, "fresh2"))


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("record, problem", [
    ("chrZ\t10\tA\tC\tunknown", "chromosome 'chrZ' is not in"),
    ("chrB\t501\tA\tC\toff_end", "chrB has 500 bases"),
    ("chrA\t305\tG\tA\twrong_ref", "REF 'G' does not match the genome, which has 'C'"),
])
def test_bad_records_stop_before_scoring_naming_file_and_line(project, tmp_path, record, problem):
    import seq2acc

    text = (project / "v.tsv").read_text().splitlines()
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join(text[:5] + [record] + text[5:]) + "\n")  # line 6
    with pytest.raises(InputError) as e:
        seq2acc.score_variants(bad, project / "models/fold0/model.keras", project / "g.fa", progress=False)
    assert f"{bad}:6" in str(e.value) and problem in str(e.value) and "fix:" in str(e.value)
    with pytest.raises(InputError, match=f"{bad}:6"):
        _run(project, str(tmp_path / "never"), input=str(bad))
    assert not (tmp_path / "never").exists()  # checked before anything is scored or written
    table = pd.DataFrame([r.split("\t") for r in [*text[1:3], record]], columns=["chrom", "pos", "ref", "alt", "id"])
    with pytest.raises(InputError, match=r"variants table:3: .*" + problem.split("'")[0]):
        seq2acc.score_variants(table, project / "models/fold0/model.keras", project / "g.fa", progress=False)


def test_public_api_defaults_are_the_shipped_params_and_models_come_in_any_form(project):
    import inspect

    import keras

    import seq2acc

    assert "score_variants" in seq2acc.__all__
    shipped = yaml.safe_load((ROOT / "params.yaml").read_text())
    sig = inspect.signature(seq2acc.score_variants).parameters
    for name in ("n_null", "chunk", "batch_size", "contrib", "method", "n_refs", "flank", "skip_unsupported"):
        assert sig[name].default == shipped["variants"][name], name
    assert sig["seed"].default == shipped["seed"]
    table = read_variants(project / "v.tsv").iloc[:3][["chrom", "pos", "ref", "alt"]]
    path = project / "models/fold0/model.keras"
    kw = dict(n_null=3, contrib=False, progress=False)
    one = seq2acc.score_variants(table, path, project / "g.fa", **kw)
    loaded = seq2acc.score_variants(table, keras.models.load_model(path), Genome(project / "g.fa"), **kw)
    pd.testing.assert_frame_equal(one, loaded)
    assert one.id.tolist()[0] == f"{table.chrom.iloc[0]}:{table.pos.iloc[0]}:{table.ref.iloc[0]}>{table.alt.iloc[0]}"
    assert one.line.tolist() == [1, 2, 3] and one.n_folds.eq(1).all() and one.heldout_fold.eq(-1).all()
    two = seq2acc.score_variants(table, {0: path, 1: path}, project / "g.fa", folds=project / "folds.json", **kw)
    np.testing.assert_array_equal(two.delta, one.delta)
    assert two.delta_sd.eq(0).all() and two.heldout_fold.isin([0, 1]).all() and "contrib_change" not in two
