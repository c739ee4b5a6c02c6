#!/usr/bin/env bash
# Sets everything up (virtual environment, PostgreSQL, Xvfb) and runs the whole test suite,
# after the import-layer contracts, ruff and mypy. Extra arguments go to pytest
# (./test.sh -m "not slow" is the fast tier: no test that trains a model).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/scripts/bootstrap.sh" test
cd "$here"
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports --config setup.cfg
.venv/bin/ruff check .          # lint only: ruff.toml
.venv/bin/mypy                  # core, db, app, common, line: setup.cfg [mypy]
exec .venv/bin/python -m pytest "$@"
