#!/usr/bin/env bash
# CI retraining (called by .github/workflows/retrain.yml; runs the same locally):
#   dvc pull -> dvc repro -> dvc push -> markdown report of `dvc metrics diff BASE` (reports/ci/retrain.md).
# Usage: scripts/ci_retrain.sh [--base REV] [--report PATH] [--no-push] [dvc repro targets...]
# Env:   SEQ2ACC_DVC_REMOTE_URL  use this url for the default DVC remote (e.g. s3://bucket/seq2acc)
#        SEQ2ACC_CI_BASE         base revision (default main / origin/main)
#        VENV                    virtual environment to use (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/seq2acc" ]; then
  echo "ci_retrain: $VENV/bin/seq2acc not found; run 'make venv' first (or set VENV=...)" >&2
  exit 2
fi
export PATH="$VENV/bin:$PATH"   # DVC stage commands run `python stages/...` from this venv
exec "$VENV/bin/seq2acc" ci-retrain "$@"
