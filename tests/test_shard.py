"""Genome-wide `seq2acc predict --chrom` sharded per chromosome (apps.shard, issue 15): two local processes and a
real two-worker Ray cluster write exactly the bytes one process writes; results keep the given chromosome order;
a worker's error arrives as itself; the TensorFlow device is logged by stages that load TensorFlow, only."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading

import pytest

from conftest import ROOT, stop_process_group, write_fasta


def _cli(root, *args):
    from seq2acc.cli import main

    main(["--params", str(root / "params.yaml"), "predict", *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny trained project of test_predict (3 chromosomes, 3 folds, fold 0 evaluated: calibrated) and the
    one-process outputs of `--chrom all --model heldout` (each chromosome by the fold holding it out)."""
    import yaml

    from seq2acc.pipeline.evaluate import evaluate_fold
    from test_evaluation import _project

    root = tmp_path_factory.mktemp("shard")
    p, _, sizes = _project(root)
    p.data["evaluate"]["tracks"] = False
    evaluate_fold(p, 0)
    (root / "params.yaml").write_text(yaml.safe_dump(p.data))
    _cli(root, "--chrom", "all", "--model", "heldout", "--workers", "1", "--out", str(root / "one.tsv"), "--out",
         str(root / "one.bw"))
    return root, sizes


def test_two_local_processes_write_what_one_process_writes(trained, capsys):
    import pandas as pd
    import pyBigWig

    root, sizes = trained
    capsys.readouterr()
    _cli(root, "--chrom", "all", "--model", "heldout", "--workers", "2", "--out", str(root / "two.tsv"), "--out",
         str(root / "two.bw"))
    assert "3 chromosome(s) over 2 local worker processes" in capsys.readouterr().err
    assert (root / "two.tsv").read_bytes() == (root / "one.tsv").read_bytes()
    one, two = pyBigWig.open(str(root / "one.bw")), pyBigWig.open(str(root / "two.bw"))
    assert one.chroms() == two.chroms() == sizes
    for c in sizes:
        assert one.intervals(c) == two.intervals(c) and len(one.intervals(c)) > 0
    assert (root / "two.bw").read_bytes() == (root / "one.bw").read_bytes()
    # the merged table: every chromosome once, in the genome's order, calibrated only where fold 0 is (c1)
    t = pd.read_csv(root / "two.tsv", sep="\t")
    assert list(dict.fromkeys(t.chrom)) == ["c1", "c2", "c3"]
    assert (t[t.chrom == "c1"].calibrated_logit != t[t.chrom == "c1"].logit).all()
    assert (t[t.chrom != "c1"].calibrated_logit == t[t.chrom != "c1"].logit).all()


def _tag(prefix: str, chrom: str):
    """A picklable per-chromosome function for the pool (this module is importable in the workers)."""
    from seq2acc.errors import InputError

    if chrom == "bad":
        raise InputError(chrom, "no such chromosome here", "give a good one")
    return prefix + chrom, os.getpid()


def test_shards_come_back_in_the_given_order_and_errors_arrive_intact():
    from seq2acc.apps.shard import map_chromosomes
    from seq2acc.errors import InputError

    chroms = ["chrB", "chrA", "chrC", "chrD"]
    sizes = {"chrA": 10, "chrB": 1, "chrC": 30, "chrD": 20}  # handed out C, D, A, B
    got = map_chromosomes(functools.partial(_tag, "x"), chroms, workers=2, sizes=sizes)
    assert [g[0] for g in got] == ["xchrB", "xchrA", "xchrC", "xchrD"]
    assert os.getpid() not in {g[1] for g in got}  # computed in the worker processes
    same = map_chromosomes(functools.partial(_tag, "x"), chroms, workers=1)
    assert [g[0] for g in same] == [g[0] for g in got] and {g[1] for g in same} == {os.getpid()}
    with pytest.raises(InputError) as e:
        map_chromosomes(functools.partial(_tag, "x"), ["chrA", "bad", "chrC"], workers=2)
    assert e.value.path == "bad" and "fix: give a good one" in str(e.value)


def test_chromosome_lists_all_and_bad_names(tmp_path):
    from seq2acc.apps.predict import chromosome_list
    from seq2acc.errors import InputError
    from seq2acc.io.fasta import Genome

    g = Genome(write_fasta(tmp_path / "g.fa", {"chrII": "ACGT" * 50, "chrI": "ACGT" * 60, "chrM": "ACGT" * 10}))
    assert chromosome_list(["all"], g) == ["chrII", "chrI", "chrM"]  # the genome's order
    assert chromosome_list(["all"], g, heldout_chroms={"chrI", "chrII"}) == ["chrII", "chrI"]
    assert chromosome_list(["chrM,chrI", "chrII"], g) == ["chrM", "chrI", "chrII"]  # the given order
    for names, needle in ((["all", "chrI"], "cannot be combined"), (["chrI,chrI"], "listed twice"),
                          (["chrI", "chr1"], "not a sequence of")):
        with pytest.raises(InputError, match=needle):
            chromosome_list(names, g)


_HOLDER = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, _temp_dir=sys.argv[1])
print("ADDRESS", ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # until the test closes stdin
ray.shutdown()
"""

# Test cluster on this machine only: every Ray address is 127.0.0.1 (Ray otherwise advertises the machine's
# interface address), no auth token written to ~/.ray, no usage report.
_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture
def ray_cluster(monkeypatch):
    """A local Ray cluster of 2 CPUs (2 workers), started by a separate driver process that holds it; yields its
    address. Skips, with Ray's own output, only when Ray cannot start on this machine."""
    for k, v in _RAY_ENV.items():
        monkeypatch.setenv(k, v)
    tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must stay under 107 bytes
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, tmp], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy(), start_new_session=True)
    line = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(180)
    try:
        if not line or not line[0].startswith("ADDRESS "):
            proc.kill()
            err = proc.communicate(timeout=30)[1]
            pytest.skip(f"ray cannot start a local cluster here: {err.strip()[-1500:] or 'no address in 180 s'}")
        yield line[0].split()[1]
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stop_process_group(proc)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def test_a_two_worker_ray_cluster_writes_what_one_process_writes(trained, ray_cluster, capsys):
    root, _ = trained
    assert ray_cluster.startswith("127.0.0.1:")
    capsys.readouterr()
    _cli(root, "--chrom", "all", "--model", "heldout", "--ray-address", ray_cluster, "--out", str(root / "ray.tsv"))
    assert f"3 chromosome(s) on the Ray cluster at {ray_cluster} (2 CPUs" in capsys.readouterr().err
    assert (root / "ray.tsv").read_bytes() == (root / "one.tsv").read_bytes()


def test_stages_log_the_device_when_they_load_tensorflow_only():
    script = """
import sys
from seq2acc.pipeline import run_stage

params = sys.argv.pop(1)  # run_stage reads the stage's own arguments from sys.argv: none here

def no_tf(p):
    assert "tensorflow" not in sys.modules
    print("NO-TF-STAGE-DONE", file=sys.stderr, flush=True)

def with_tf(p):
    import keras  # noqa: F401 - imports TensorFlow, as the model stages do

run_stage(no_tf, params_path=params)
run_stage(with_tf, params_path=params)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-c", script, str(ROOT / "params.yaml")], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    before, _, after = r.stderr.partition("NO-TF-STAGE-DONE")
    assert "stage -c: pid" in before and "device:" not in before  # the machine, and no TensorFlow loaded
    line = next(x for x in after.splitlines() if "seq2acc.model.device" in x)
    import tensorflow as tf

    assert f"TensorFlow {tf.__version__}" in line
    assert ("GPU:0" in line) == bool(tf.config.list_physical_devices("GPU"))
    assert ("CPU-only build" in line) != tf.test.is_built_with_cuda()
