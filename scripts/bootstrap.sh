#!/usr/bin/env bash
# Creates or refreshes the project's virtual environment (.venv) and the system packages the
# station needs. Run by start.sh and test.sh; safe to run again (it only installs what changed).
#   bootstrap.sh [station|test]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
purpose="${1:-station}"
venv="${STATION_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "bootstrap: need root to run: $*" >&2; return 1; fi
}
apt_updated=0
apt_install() {  # apt_install PKG...  (Debian/Ubuntu); no-op elsewhere
    command -v apt-get >/dev/null || { echo "bootstrap: please install $* with your package manager" >&2; return 1; }
    if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

# Shared libraries Qt's wheel needs (present on desktops, often missing on servers).
need=()
have_lib libGL.so.1 || need+=(libgl1)
have_lib libEGL.so.1 || need+=(libegl1)
have_lib libfontconfig.so.1 || need+=(libfontconfig1)
have_lib libxkbcommon.so.0 || need+=(libxkbcommon0)
have_lib libdbus-1.so.3 || need+=(libdbus-1-3)
# Qt's X11 plugin (the list gui/platform_check.py checks): on a desktop, and for the tests, one of
# which starts the station in Xvfb.
if [ "$purpose" = test ] || { [ "$purpose" = station ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; }; then
    for pair in libxcb-icccm.so.4:libxcb-icccm4 libxcb-image.so.0:libxcb-image0 \
                libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-randr.so.0:libxcb-randr0 \
                libxcb-render-util.so.0:libxcb-render-util0 libxcb-render.so.0:libxcb-render0 \
                libxcb-xinerama.so.0:libxcb-xinerama0 libxcb-xkb.so.1:libxcb-xkb1 \
                libxkbcommon-x11.so.0:libxkbcommon-x11-0 libxcb-shape.so.0:libxcb-shape0 \
                libxcb-shm.so.0:libxcb-shm0 libxcb-sync.so.1:libxcb-sync1 \
                libxcb-util.so.1:libxcb-util1 libxcb-xfixes.so.0:libxcb-xfixes0 \
                libX11-xcb.so.1:libx11-xcb1 libfreetype.so.6:libfreetype6; do
        have_lib "${pair%%:*}" || need+=("${pair##*:}")
    done
fi
if [ "$purpose" = test ]; then
    # The tests start their own throw-away PostgreSQL cluster and render screens under Xvfb.
    if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        need+=(postgresql)
    fi
    command -v xvfb-run >/dev/null || need+=(xvfb xauth)
fi
if [ "${#need[@]}" -gt 0 ]; then
    echo "bootstrap: installing system packages: ${need[*]}"
    apt_install "${need[@]}"
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating $venv"
    "$python" -m venv "$venv"
fi
stamp="$venv/.station-deps"
want="$(cat "$here/setup.cfg" "$here/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing Python packages into $venv (first time: a few minutes)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    # torch and torchvision are left unpinned on purpose: pip resolves a matching pair.
    "$venv/bin/python" -m pip install -q -e "$here[dev]"
    echo "$want" > "$stamp"
fi
