"""The MLflow UI, checked in a real headless Chromium (issue 8).

`seq2acc ui` (the README's command) is started on a free localhost port over a temporary store holding two
fold runs with a genome-wide AUPRC; Chromium opens the printed experiment link and the rendered page must
list both runs with their AUPRC, best first. A screenshot is saved (and copied to $SEQ2ACC_UI_SCREENSHOT
if set). Chromium is Debian's `chromium` package: `make test` installs it when missing and apt-get exists.
"""

import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, stop_process_group, wait_http

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no headless browser: Debian package 'chromium' is not installed and could not be "
    "installed here (`make test` runs `apt-get install chromium` when apt-get is available)")

AUPRC = {"fold0": 0.6123, "fold1": 0.4877}


def chromium(url: str, shot: Path, profile: Path) -> str:
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=1400,900", "--virtual-time-budget=20000",
            f"--screenshot={shot}", "--dump-dom", url]
    # own session + no stdin: Chromium inheriting the test runner's stdin/process group can hang after the page
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
                          start_new_session=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def page_text(dom: str) -> str:
    t = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", t))


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    from seq2acc.mlops import tracking

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    exp = tracking.setup("seq2acc/demo/Reb1")
    for name, auprc in AUPRC.items():
        with mlflow.start_run(experiment_id=exp, run_name=name):
            mlflow.log_param("fold", name[-1])
            mlflow.log_metrics({"genomewide.auprc": auprc, "genomewide.auroc": 0.9, "best_val_loss": 0.3})
    return uri, exp


def test_experiment_page_lists_fold_runs_with_auprc(store, tmp_path):
    uri, exp = store
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = tmp_path / "ui.log"  # a file, not a pipe: an unread pipe would block the server's request log
    with open(log, "w") as fh:
        server = subprocess.Popen([str(Path(sys.executable).with_name("seq2acc")), "ui", "--port", str(port)],
                                  cwd=tmp_path, env=env, stdout=fh, stderr=subprocess.STDOUT, text=True,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        t0 = time.time()
        while True:
            lines = log.read_text().splitlines()
            if any("viewStateShareKey" in ln for ln in lines):
                break
            assert server.poll() is None and time.time() - t0 < 120, "seq2acc ui printed no link:\n" + "\n".join(lines)
            time.sleep(0.5)
        lines = [ln for ln in lines if "http://" in ln]
        link = next(ln for ln in lines if "viewStateShareKey" in ln)
        url = re.search(r"(http://127\.0\.0\.1:\d+/\S+)", link).group(1)
        assert f"#/experiments/{exp}/runs" in url and "seq2acc/demo/Reb1" in link
        # bound to localhost only
        assert any(f"http://127.0.0.1:{port}/" in ln for ln in lines)
        wait_http(f"http://127.0.0.1:{port}/health", server)
        shot = tmp_path / "mlflow_experiment.png"
        text = page_text(chromium(url, shot, tmp_path / "chrome-profile"))
    finally:
        stop_process_group(server)
    assert "seq2acc/demo/Reb1" in text
    # both fold runs listed with their AUPRC, best first (the view sorts by AUPRC, descending)
    for name, auprc in AUPRC.items():
        assert name in text and f"{auprc:.4f}" in text, text[:3000]
    assert "genomewide.auprc" in text
    assert text.index("fold0") < text.index("fold1")
    assert text.index(f"{AUPRC['fold0']:.4f}") < text.index(f"{AUPRC['fold1']:.4f}")
    # a real screenshot of the window
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1400, 900)
    if os.environ.get("SEQ2ACC_UI_SCREENSHOT"):
        shutil.copy(shot, os.environ["SEQ2ACC_UI_SCREENSHOT"])


def test_ui_command_binds_localhost_and_uses_project_store(tmp_path, monkeypatch):
    from seq2acc.mlops.ui import ui_command, view_columns

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / ".dvc").mkdir()
    monkeypatch.chdir(tmp_path)
    cmd = ui_command()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert cmd[cmd.index("--default-artifact-root") + 1] == (tmp_path.resolve() / "mlartifacts").as_uri()
    cols = view_columns(["loss", "genomewide.auprc", "sampled.auprc", "val_loss", "train_seconds", "genomewide.auroc"])
    assert cols == ["genomewide.auprc", "genomewide.auroc"]
    # what train@K + evaluate@K log: the model's genome-wide AUPRC first; baselines and breakdowns are left out
    cols = view_columns(["eval.per_chromosome.chr4.auprc", "eval.baselines.pwm.genomewide.auprc", "best_val_loss",
                         "eval.genomewide.auroc", "eval.genomewide.auprc", "eval.by_negative_type.flank.auprc",
                         "val_auprc", "lr", "eval.sampled.auprc", "auprc", "loss", "mean_genomewide_auprc"])
    assert cols == ["eval.genomewide.auprc", "eval.genomewide.auroc", "best_val_loss", "mean_genomewide_auprc"]
