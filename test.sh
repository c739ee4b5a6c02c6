#!/usr/bin/env bash
# Sets everything up (virtual environment, PostgreSQL, Xvfb) and runs the whole test suite,
# including the import-layer contracts. Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/scripts/bootstrap.sh" test
cd "$here"
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports --config setup.cfg
exec .venv/bin/python -m pytest "$@"
