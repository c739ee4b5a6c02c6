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
# Two worker processes (pytest-xdist: one per core of the CI machine; none on a single core), each
# module's tests in one worker (module fixtures such as trained models are built once); the 30
# slowest tests are listed at the end. Later arguments win: ./test.sh -n 0 runs in one process.
workers=$(( $(nproc) >= 2 ? 2 : 0 ))
exec .venv/bin/python -m pytest -n "$workers" --dist loadscope --durations=30 "$@"
