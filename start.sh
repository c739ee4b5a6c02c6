#!/usr/bin/env bash
# Sets everything up (virtual environment, packages) and starts the inspection station.
# Extra arguments go to main.py, e.g. ./start.sh --data-dir /srv/station
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/scripts/bootstrap.sh" station
exec "$here/.venv/bin/python" "$here/main.py" "$@"
