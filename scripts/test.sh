#!/usr/bin/env bash
# Set up a fresh machine and run nbcluster's checks: lint, layer contracts, tests.
# As root it also installs and starts Docker and Chromium for the real-daemon and
# real-browser tests (scripts/setup-system.sh).
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
echo "== system (Docker engine, test images, Chromium)"
bash scripts/setup-system.sh
echo "== ruff"
.venv/bin/ruff check nbcluster tests benchmarks
echo "== import contracts"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
