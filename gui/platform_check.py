"""Before any Qt import: can the window open here? If not, say which packages to install.

Qt's X11 plugin (xcb) aborts the whole program with "Could not load the Qt platform plugin xcb"
when one of the system libraries it links is missing, which tells a person nothing about what
to do. ``problem()`` loads each of those libraries first (the same dynamic loader Qt uses) and
returns a message naming the Debian/Ubuntu packages to install, or None when all is well.

Importing this module imports no Qt (``main.py`` calls it before ``gui.app``).
Threading: plain functions; call them on the main thread before the GUI starts.
"""
from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Mapping

# The shared libraries PyQt5's Qt 5.15 xcb platform plugin and Qt's GUI module link (``ldd`` of
# plugins/platforms/libqxcb.so and lib/libQt5XcbQpa.so.5), with the package that ships each.
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"), ("libX11.so.6", "libx11-6"), ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"), ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"), ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"), ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"), ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"), ("libxcb-xinerama.so.0", "libxcb-xinerama0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"), ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"), ("libGL.so.1", "libgl1"),
    ("libEGL.so.1", "libegl1"), ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"), ("libdbus-1.so.3", "libdbus-1-3"),
)


def _load(name: str) -> None:
    ctypes.CDLL(name)


def missing_packages(load: Callable[[str], None] = _load,
                     libraries: tuple[tuple[str, str], ...] = XCB_LIBRARIES) -> list[str]:
    """The packages whose library the dynamic loader cannot load (``load`` raises OSError)."""
    missing = []
    for soname, package in libraries:
        try:
            load(soname)
        except OSError:
            missing.append(package)
    return missing


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick its X11 plugin: on Linux, unless another platform is asked for."""
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return platform.startswith("linux") and not environ.get("WAYLAND_DISPLAY")


def problem(environ: Mapping[str, str], load: Callable[[str], None] = _load,
            platform: str = sys.platform) -> str | None:
    """A message for a person when the window cannot open, else None."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_packages(load)
    if missing:
        return ("The station's window cannot open: the X11 libraries that Qt needs are missing "
                f"({', '.join(missing)}).\nInstall them with:\n\n    sudo apt-get install "
                f"{' '.join(missing)}\n\n(./start.sh installs them itself when it runs on a "
                "desktop.) Command-line jobs (main.py --help) work without them.")
    if not environ.get("DISPLAY"):
        return ("The station's window cannot open: there is no display (DISPLAY is not set). "
                "Start it from the desktop of the station PC, or under xvfb-run for a test.")
    return None
