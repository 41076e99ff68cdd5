"""`train.distribute`: MirroredStrategy over two logical CPU devices gives the single-device loss curve (issue 8).

The training runs in a subprocess: logical devices can only be configured before TensorFlow initialises,
which other tests in this process have already done.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import shipped_params
from seq2acc.errors import ArgumentError, ParamsError
from seq2acc.config import Params

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from seq2acc.model import distribute
    devices = distribute.logical_cpus(2)            # before TensorFlow touches a device
    sys.path.insert(0, sys.argv[2])
    from test_training import make_toy_project
    from seq2acc.io.fasta import Genome
    from seq2acc.config import Params
    from seq2acc.data.loader import fold_data
    from seq2acc.model.fit import build_and_fit
    from seq2acc.pipeline.train import validate_params

    base = make_toy_project(Path(sys.argv[1]), epochs=3, genomewide_negatives=1.0, rc_augment=True)
    base.data["model"]["dropout"] = 0.0             # per-replica dropout masks would differ
    out = {"devices": devices}
    for name in ("one_device", "mirrored"):
        p = Params({**base.data, "train": {**base.data["train"], "distribute": name}}, base.path)
        tc, mc, context = validate_params(p)
        genome = Genome(p.get("genome.fasta_out", str))
        data = fold_data(genome, p.get("dataset.out_dir", str), p.get("folds.out", str), 0, tc, context)
        with distribute.scope(name) as strategy:
            model, h = build_and_fit(genome, data, tc, mc, context)
        out[name] = {"loss": h["loss"], "val_loss": h["val_loss"], "replicas": strategy.num_replicas_in_sync,
                     "describe": distribute.describe(strategy)}
    print("RESULT " + json.dumps(out))
""")


def test_mirrored_two_logical_cpus_same_loss_curve(tmp_path):
    tests = Path(__file__).resolve().parent
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "proj"), str(tests)], env=env, text=True,
                          capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-4000:]
    res = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))[7:])
    assert len(res["devices"]) == 2
    one, mir = res["one_device"], res["mirrored"]
    assert one["replicas"] == 1 and mir["replicas"] == 2
    assert mir["describe"]["strategy"] == "MirroredStrategy" and len(mir["describe"]["devices"]) == 2
    # same curve: same length, same ups and downs, same values up to float reduction order
    for key in ("loss", "val_loss"):
        a, b = np.array(one[key]), np.array(mir[key])
        assert a.shape == b.shape == (3,)
        assert np.array_equal(np.sign(np.diff(a)), np.sign(np.diff(b)))
        np.testing.assert_allclose(a, b, rtol=0.02)  # float reduction order differs across replicas
    assert one["loss"][-1] < one["loss"][0]  # it learned something


def test_strategy_param_checks(monkeypatch):
    from seq2acc.model import distribute

    from seq2acc.pipeline.train import train_fold

    assert shipped_params()["train"]["distribute"] == "one_device"  # the shipped default
    with pytest.raises(ParamsError, match="train.distribute"):  # checked before any data is read
        train_fold(Params(shipped_params({"train": {"distribute": "horovod"}})), 0)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ArgumentError, match=r"argument 'name': multi_worker needs the TF_CONFIG"):
        distribute.make_strategy("multi_worker")
    assert distribute.is_chief()
    cluster = {"worker": ["a:1", "b:1"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert not distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {**cluster, "chief": ["c:1"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert not distribute.is_chief()
