#!/usr/bin/env bash
# Set up a fresh machine and start JupyterLab on the tutorials in notebooks/.
# nbcluster uses Docker when a daemon answers, else local processes, else simulation
# (NBCLUSTER_RUNTIME=docker|process|simulated forces a choice).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[lab]'
args=(--notebook-dir=notebooks)
if [ "$(id -u)" = 0 ]; then args+=(--allow-root); fi
exec .venv/bin/jupyter lab "${args[@]}" "$@"
