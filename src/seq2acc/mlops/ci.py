"""CI retraining: ``dvc pull`` -> ``dvc repro`` -> ``dvc push`` -> markdown report of ``dvc metrics diff``.

This is the real work behind ``scripts/ci_retrain.sh`` and ``.github/workflows/retrain.yml``; run it
locally the same way (``seq2acc ci-retrain --base main``). It drives the DVC command line (the stable,
documented interface) so a CI log reads like the commands a user would type.

What the report says:
- which stages ``dvc repro`` re-ran (none = "nothing to retrain": data, params and code match dvc.lock),
  which it restored from DVC's run-cache instead of re-running;
- ``dvc metrics diff BASE`` and ``dvc params diff BASE`` as markdown tables;
- what ``dvc pull`` could not find on the remote (rebuilt by ``dvc repro``) and whether ``dvc push`` ran.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seq2acc.io.atomic import write_json, write_text
from seq2acc.errors import Seq2AccError

log = logging.getLogger(__name__)

REMOTE_URL_ENV = "SEQ2ACC_DVC_REMOTE_URL"  # overrides the default remote's url for this clone (config.local)

_RUNNING = re.compile(r"^Running stage '([^']+)'", re.M)
_RUNCACHE = re.compile(r"^Stage '([^']+)' is cached - skipping run", re.M)


class CIError(Seq2AccError):
    """A CI step (dvc pull/repro/push/diff) failed; the message names the command and its last output."""


@dataclass
class RetrainResult:
    base: str
    base_commit: str | None
    head_commit: str | None
    stages_run: list[str] = field(default_factory=list)
    stages_restored: list[str] = field(default_factory=list)
    pull_ok: bool | None = None
    pull_note: str = ""
    pushed: bool | None = None
    metrics_diff: dict = field(default_factory=dict)
    params_diff: dict = field(default_factory=dict)
    repro_ok: bool = True
    repro_error: str = ""
    seconds: dict = field(default_factory=dict)
    report: str = ""

    @property
    def retrained(self) -> bool:
        return bool(self.stages_run)


def _tool(name: str) -> str:
    """The executable next to this interpreter (the project's venv) if there is one, else from PATH."""
    cand = Path(sys.executable).with_name(name)
    return str(cand) if cand.exists() else name


def _env() -> dict:
    env = dict(os.environ)
    # Stage commands say `python stages/...`: make that the interpreter seq2acc runs in.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def _run(args: list[str], cwd: Path, check: bool = True, what: str | None = None) -> subprocess.CompletedProcess:
    log.info("$ %s", shlex.join(args))
    proc = subprocess.run(args, cwd=cwd, env=_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in proc.stdout.splitlines():
        log.info("  %s", line)
    if check and proc.returncode != 0:
        raise CIError(f"`{shlex.join(args)}` failed (exit {proc.returncode}) in {cwd}:\n{_tail(proc.stdout)}\n"
                      f"    fix: {what or 'see the output above'}")
    return proc


def _tail(text: str, n: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def _git(root: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", *args], cwd=root, text=True, capture_output=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def resolve_base(root: Path, base: str) -> tuple[str, str | None]:
    """``base`` as given if git knows it, else ``origin/<base>`` (a CI clone has no local ``main``)."""
    for rev in (base, f"origin/{base}"):
        sha = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if sha:
            return rev, sha
    raise CIError(f"git does not know the base revision {base!r} in {root}\n"
                  f"    fix: fetch it (`git fetch origin {base}`; in GitHub Actions use actions/checkout with "
                  f"fetch-depth: 0) or pass --base REV")


def default_remote(root: Path) -> tuple[str | None, str | None]:
    """(name, url) of the project's default DVC remote, read in-process from the merged DVC config."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        conf = repo.config
        name = conf["core"].get("remote")
        url = conf["remote"].get(name, {}).get("url") if name else None
    return name, url


def configure_remote(root: Path, url: str) -> str:
    """Point this clone's default remote at ``url`` (written to .dvc/config.local, never committed)."""
    name, _ = default_remote(root)
    if name is None:
        _run([_tool("dvc"), "remote", "add", "--local", "-d", "storage", url], root)
        return "storage"
    _run([_tool("dvc"), "remote", "modify", "--local", name, "url", url], root)
    return name


def retrain(root=".", base: str = "main", report="reports/ci/retrain.md", *, pull: bool = True, push: bool = True,
            targets: list[str] | tuple[str, ...] = (), remote_url: str | None = None) -> RetrainResult:
    """Pull data, reproduce the pipeline, push what it made, and write the markdown report (+ ``.json``).

    Raises :class:`CIError` (after writing the report) if ``dvc repro`` fails.
    """
    root = Path(root).resolve()
    if not (root / "dvc.yaml").exists():
        raise CIError(f"{root}: no dvc.yaml here\n    fix: run from the project root (or pass --root)")
    dvc = _tool("dvc")
    base_rev, base_sha = resolve_base(root, base)
    res = RetrainResult(base=base_rev, base_commit=base_sha, head_commit=_git(root, "rev-parse", "HEAD"))
    remote_url = remote_url or os.environ.get(REMOTE_URL_ENV) or None
    if remote_url:
        configure_remote(root, remote_url)

    t0 = time.perf_counter()
    if pull:
        # --allow-missing: outputs the remote lacks (never pushed, or a new clone of a new remote) are not an
        # error; `dvc repro` rebuilds them.
        proc = _run([dvc, "pull", "--allow-missing"], root, check=False)
        res.pull_ok = proc.returncode == 0
        missing = [ln.strip() for ln in proc.stdout.splitlines() if "missing" in ln.lower() or "not found" in ln.lower()]
        res.pull_note = _tail("\n".join(missing), 10) if missing else ("" if res.pull_ok else _tail(proc.stdout, 10))
    res.seconds["pull"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    proc = _run([dvc, "repro", *targets], root, check=False)
    res.seconds["repro"] = round(time.perf_counter() - t0, 2)
    res.stages_run = _RUNNING.findall(proc.stdout)
    res.stages_restored = _RUNCACHE.findall(proc.stdout)
    if proc.returncode != 0:
        res.repro_ok, res.repro_error = False, _tail(proc.stdout, 40)

    if res.repro_ok and push:
        t0 = time.perf_counter()
        res.pushed = _run([dvc, "push"], root, check=False).returncode == 0
        res.seconds["push"] = round(time.perf_counter() - t0, 2)

    res.metrics_diff = _json_cmd([dvc, "metrics", "diff", base_rev, "--json"], root)
    res.params_diff = _json_cmd([dvc, "params", "diff", base_rev, "--json"], root)
    res.report = str(report)
    name, url = default_remote(root)
    text = render_report(res, remote=f"{name} -> {url}" if name else "(no default remote)")
    report = Path(report) if Path(report).is_absolute() else root / report
    write_text(report, text)
    write_json(report.with_suffix(".json"), {**asdict(res), "retrained": res.retrained})
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as fh:
            fh.write(text + "\n")
    log.info("report written to %s", report)
    if not res.repro_ok:
        raise CIError(f"`dvc repro` failed; report with the error: {report}\n{res.repro_error}\n"
                      "    fix: run `dvc repro` locally to reproduce, then push the fix")
    if push and res.pushed is False:
        raise CIError("`dvc push` failed (see the log above)\n    fix: check the remote's url and credentials "
                      f"(`dvc remote list`; set {REMOTE_URL_ENV} or `dvc remote modify --local`)")
    return res


def _json_cmd(args, root) -> dict:
    """Run a ``--json`` dvc command; its stdout parsed (warnings go to stderr and into the log)."""
    log.info("$ %s", shlex.join(args))
    proc = subprocess.run(args, cwd=root, env=_env(), text=True, capture_output=True)
    for line in proc.stderr.splitlines():
        log.info("  %s", line)
    out = proc.stdout.strip()
    start = out.find("{")
    if proc.returncode != 0 or start < 0:
        return {}
    try:
        return json.JSONDecoder().raw_decode(out[start:])[0]
    except json.JSONDecodeError:
        return {}


def diff_table(diff: dict, base: str, kind: str = "Metric") -> str:
    """``dvc metrics/params diff --json`` -> markdown table (path, name, base, workspace, change)."""
    rows = []
    for path, entries in sorted(diff.items()):
        for name, d in sorted(_flatten(entries).items()):
            old, new = d.get("old"), d.get("new")
            change = d.get("diff")
            if change is None and isinstance(old, (int, float)) and isinstance(new, (int, float)) \
                    and not isinstance(old, bool) and not isinstance(new, bool):
                change = new - old
            rows.append(f"| {path} | {name} | {_fmt(old)} | {_fmt(new)} | {_fmt(change, signed=True)} |")
    if not rows:
        return ""
    head = [f"| Path | {kind} | {base} | workspace | Change |", "|---|---|---|---|---|"]
    return "\n".join(head + rows)


def _flatten(entries: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in entries.items():
        if isinstance(v, dict) and ("old" in v or "new" in v):
            out[prefix + k] = v
        elif isinstance(v, dict):
            out.update(_flatten(v, prefix + k + "."))
    return out


def _fmt(v, signed: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:+.4g}" if signed else f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool) and signed:
        return f"{v:+d}"
    return str(v).replace("|", "\\|")


def render_report(res: RetrainResult, remote: str = "") -> str:
    short = lambda s: (s or "?")[:10]  # noqa: E731
    lines = ["# seq2acc retraining report", "",
             f"- commit `{short(res.head_commit)}` compared with `{res.base}` (`{short(res.base_commit)}`)",
             f"- DVC remote: `{remote}`"]
    if res.pull_ok is not None:
        lines.append(f"- `dvc pull`: {'ok' if res.pull_ok else 'FAILED'}" +
                     (" (rebuilt by `dvc repro` where missing)" if res.pull_note else ""))
    if not res.repro_ok:
        lines += ["", "## `dvc repro` FAILED", "", "```", res.repro_error, "```"]
    elif res.stages_run:
        lines += ["", f"## Retrained: {len(res.stages_run)} stage(s) re-ran", ""]
        lines += [f"- `{s}`" for s in res.stages_run]
    else:
        lines += ["", "## Nothing to retrain", "",
                  "Every stage is up to date: data, params and code match `dvc.lock`."]
    if res.stages_restored:
        lines += ["", "Restored from DVC's run-cache (not re-run): " + ", ".join(f"`{s}`" for s in res.stages_restored)]
    if res.pushed is not None:
        lines += ["", f"`dvc push`: {'ok' if res.pushed else 'FAILED'}"]
    lines += ["", f"## Metrics (`dvc metrics diff {res.base}`)", ""]
    lines.append(diff_table(res.metrics_diff, res.base) or "No metric changed.")
    lines += ["", f"## Params (`dvc params diff {res.base}`)", ""]
    lines.append(diff_table(res.params_diff, res.base, "Param") or "No param changed.")
    if res.pull_note:
        lines += ["", "<details><summary>dvc pull notes</summary>", "", "```", res.pull_note, "```", "", "</details>"]
    lines += ["", f"Timings (s): {json.dumps(res.seconds)}", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    """``seq2acc ci-retrain`` entry point (also used by scripts/ci_retrain.sh)."""
    import argparse

    ap = argparse.ArgumentParser(prog="seq2acc ci-retrain", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    return run_args(ap.parse_args(argv))


def add_arguments(ap) -> None:
    ap.add_argument("targets", nargs="*", help="dvc repro targets (default: the whole pipeline)")
    ap.add_argument("--root", default=".", help="project root (default: .)")
    ap.add_argument("--base", default=os.environ.get("SEQ2ACC_CI_BASE", "main"),
                    help="git revision to diff metrics/params against (default: main, or origin/main)")
    ap.add_argument("--report", default="reports/ci/retrain.md", help="markdown report path (+ .json beside it)")
    ap.add_argument("--no-pull", action="store_true", help="skip dvc pull")
    ap.add_argument("--no-push", action="store_true", help="skip dvc push")
    ap.add_argument("--remote-url", default=None, help=f"override the default remote's url (or env {REMOTE_URL_ENV})")


def run_args(args) -> int:
    res = retrain(args.root, args.base, args.report, pull=not args.no_pull, push=not args.no_push,
                  targets=args.targets, remote_url=args.remote_url)
    print(f"{'retrained ' + str(len(res.stages_run)) + ' stage(s)' if res.retrained else 'nothing to retrain'}; "
          f"report: {res.report}")
    return 0
