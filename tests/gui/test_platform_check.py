"""Starting the window where Qt's X11 libraries are missing (issue 11 item 11): a message naming
the packages, not Qt's abort."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.platform_check import XCB_LIBRARIES, missing_packages, problem, uses_xcb

ROOT = Path(__file__).resolve().parents[2]


def test_the_packages_of_the_libraries_the_loader_refuses_are_named() -> None:
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}

    def load(name: str) -> None:
        if name in absent:
            raise OSError(f"{name}: cannot open shared object file")
    assert missing_packages(load) == ["libxcb-icccm4", "libxcb-keysyms1"]
    text = problem({"DISPLAY": ":0"}, load, "linux")
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in text
    assert problem({"DISPLAY": ":0"}, lambda name: None, "linux") is None
    assert "no display" in problem({}, lambda name: None, "linux")


def test_other_platforms_are_not_checked() -> None:
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({}, "win32")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert problem({"QT_QPA_PLATFORM": "offscreen"}, lambda name: 1 / 0) is None


def test_main_says_what_to_install_on_this_machine(tmp_path: Path) -> None:
    """A real start of main.py with the xcb platform and no display: whatever this machine
    lacks is named, and the process ends with 2 instead of Qt's abort."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    env["PYTHONPATH"] = str(ROOT)
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir",
                          str(tmp_path / "data")], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2, run.stderr
    missing = missing_packages()
    if missing:
        assert f"sudo apt-get install {' '.join(missing)}" in run.stderr
    else:
        assert "no display" in run.stderr
    assert "Aborted" not in run.stderr and "could not load the Qt platform" not in run.stderr
    assert len(XCB_LIBRARIES) == len({s for s, _ in XCB_LIBRARIES})
