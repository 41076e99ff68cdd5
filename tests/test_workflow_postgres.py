"""MLflow on a real PostgreSQL backend store (issue 8, "tracking for a team").

The fixture starts a throw-away PostgreSQL server on 127.0.0.1 (Debian's postgresql: initdb + pg_ctl, as
the 'postgres' system user when the tests run as root); seq2acc's tracking then runs against it through
MLFLOW_TRACKING_URI exactly as a team would: schema created on first use, fold runs logged from two
processes at once, a model version registered, runs found again sorted by AUPRC.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import free_port


def _pg_bin() -> Path | None:
    hits = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if hits:
        return Path(hits[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


PG_BIN = _pg_bin()
AS_ROOT = os.geteuid() == 0
try:
    import pwd

    PG_USER = pwd.getpwnam("postgres") if AS_ROOT else None
except KeyError:
    PG_USER = None

pytestmark = [
    pytest.mark.skipif(PG_BIN is None, reason="no PostgreSQL server binaries (Debian package 'postgresql' is not "
                       "installed and could not be installed; `make test` installs it when apt-get is available)"),
    pytest.mark.skipif(AS_ROOT and PG_USER is None, reason="running as root and there is no 'postgres' system user "
                       "to run the server as (PostgreSQL refuses to run as root)"),
]


def _as_pg(args, **kw):
    """Run a PostgreSQL binary as the 'postgres' user when we are root (the server refuses root)."""
    if AS_ROOT:
        args = ["runuser", "-u", "postgres", "--", *args] if shutil.which("runuser") else \
            ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(str, args))]
    return subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


@pytest.fixture(scope="module")
def postgres():
    base = Path(tempfile.mkdtemp(prefix="seq2acc-pg-", dir="/tmp"))  # traversable by the postgres user
    data = base / "data"
    if AS_ROOT:
        os.chown(base, PG_USER.pw_uid, PG_USER.pw_gid)
    port = free_port()
    res = _as_pg([PG_BIN / "initdb", "-D", data, "-U", "mlflow", "--auth=trust", "-E", "UTF8", "--no-sync"], timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off"
    res = _as_pg([PG_BIN / "pg_ctl", "-D", data, "-o", opts, "-l", base / "server.log", "-w", "-t", "120", "start"],
                 timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr + (base / "server.log").read_text()
    try:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="mlflow", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE mlflow")
        con.close()
        from seq2acc.mlops.store import postgres_uri

        yield postgres_uri("mlflow", "127.0.0.1", port, "mlflow")
    finally:
        _as_pg([PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], timeout=120)
        shutil.rmtree(base, ignore_errors=True)


WORKER = textwrap.dedent("""
    import sys, mlflow
    from seq2acc.mlops import tracking
    exp = tracking.setup("seq2acc/team/Reb1")
    fold, auprc = int(sys.argv[1]), float(sys.argv[2])
    with mlflow.start_run(experiment_id=exp, run_name=f"fold{fold}", tags={"fold": str(fold)}):
        mlflow.log_params({f"train.p{i}": i for i in range(40)})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("genomewide.auprc", auprc)
    print("ok", fold)
""")


def test_two_processes_log_fold_runs_to_postgres(postgres, tmp_path, monkeypatch):
    import mlflow
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", postgres)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "worker.py").write_text(WORKER)
    env = dict(os.environ, MLFLOW_TRACKING_URI=postgres)
    # both start on an empty database: the schema is created once, neither fails
    procs = [subprocess.Popen([sys.executable, "worker.py", str(k), str(a)], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for k, a in ((0, 0.61), (1, 0.47))]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-3000:]

    exp = tracking.setup("seq2acc/team/Reb1")
    assert tracking.tracking_uri() == postgres and mlflow.get_tracking_uri().startswith("postgresql")
    client = MlflowClient()
    runs = client.search_runs([exp], order_by=["metrics.`genomewide.auprc` DESC"])
    assert [r.info.run_name for r in runs] == ["fold0", "fold1"]
    assert [r.data.metrics["genomewide.auprc"] for r in runs] == [0.61, 0.47]
    assert len(client.get_metric_history(runs[0].info.run_id, "loss")) == 5
    # the registry lives in the same PostgreSQL database
    client.create_registered_model("team-Reb1")
    mv = client.create_model_version("team-Reb1", f"runs:/{runs[0].info.run_id}/model", runs[0].info.run_id)
    client.set_registered_model_alias("team-Reb1", "champion", mv.version)
    assert client.get_model_version_by_alias("team-Reb1", "champion").run_id == runs[0].info.run_id


def test_postgres_uri_and_password_redaction():
    from seq2acc.mlops.store import describe, postgres_uri

    uri = postgres_uri("ml flow", "db.lab", 5433, "mlflow", password="p@ss:word")
    assert uri == "postgresql+psycopg2://ml%20flow:p%40ss%3Aword@db.lab:5433/mlflow"
    assert "p%40ss" not in describe(uri) and "***" in describe(uri)
