#!/usr/bin/env python3
"""Peak resident memory and time of inspecting one can: ``main.py inspect`` and the GUI's
inference worker, each in a fresh process, this checkout against another (``--root``).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_memory.py [--runs 3] [--root OLD_CHECKOUT]
        [--model resources/models/default] [--images 7 photos]

``inspect``: the command on seven photos (the model's export cached beforehand: the first
inspection of a model exports it, in torch). ``gui``: a QApplication (offscreen) with the station's
``InferenceService``, started as the station starts it (engine modules preloaded), then one can
inspected; measured: seconds to ready-to-inspect (service built), seconds to the first result,
and the process's peak RSS after it. Runs alternate between the checkouts.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GUI_CHILD = r"""
import time
t0 = time.perf_counter()
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from PyQt5.QtWidgets import QApplication
app = QApplication([])
from gui.inference import InferenceService
svc = InferenceService(2)
ready = time.perf_counter() - t0
out = {}
def done(rid, result):
    out["first_result_s"] = time.perf_counter() - t0
    out["verdict"] = str(result.verdict)
    app.quit()
def failed(rid, exc):
    out["error"] = repr(exc)
    app.quit()
svc.inspected.connect(done)
svc.failed.connect(failed)
images = json.loads(sys.argv[3])
svc.inspect(1, sys.argv[2], images, ["s%d" % i for i in range(len(images))])
app.exec_()
svc.shutdown()
out["ready_s"] = ready
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["torch_loaded"] = "torch" in sys.modules
print("RESULT " + json.dumps(out))
"""


def _run(cmd: list[str], root: Path) -> tuple[int, float, str]:
    env = dict(os.environ, PYTHONPATH=str(root), QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return proc.returncode, usage.ru_maxrss / 1024, out.read()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--root", help="another checkout to compare (e.g. the code before)")
    p.add_argument("--model", default=str(ROOT / "resources" / "models" / "default"))
    p.add_argument("--images", nargs="+",
                   default=sorted(glob.glob(str(ROOT.parent / "shared/datasets/cans/defect/*.jpg")))[:7]
                   or sorted(glob.glob("/work/shared/datasets/cans/defect/*.jpg"))[:7])
    args = p.parse_args()
    roots = [("now", ROOT)] + ([("before", Path(args.root))] if args.root else [])
    data = tempfile.mkdtemp(prefix="bench_memory_")
    python = sys.executable
    # The export is made once, beforehand (what a station does at its first inspection).
    _run([python, "main.py", "--data-dir", data, "inspect", "--model", args.model, *args.images], ROOT)
    figures: dict[str, dict[str, list[float]]] = {name: {} for name, _ in roots}
    for _ in range(args.runs):
        for name, root in roots:
            code, rss, text = _run([python, "main.py", "--data-dir", data, "inspect", "--threads", "2",
                                    "--model", args.model, *args.images], root)
            if code != 0:
                print(text[-2000:])
                return 1
            figures[name].setdefault("inspect peak RSS MB", []).append(rss)
            code, rss, text = _run([python, "-c", GUI_CHILD, str(root), args.model,
                                    json.dumps(args.images)], root)
            line = next((x for x in text.splitlines() if x.startswith("RESULT ")), None)
            if code != 0 or line is None:
                print(text[-2000:])
                return 1
            result = json.loads(line[7:])
            for key in ("ready_s", "first_result_s", "peak_rss_mb"):
                figures[name].setdefault(f"gui {key}", []).append(result[key])
            figures[name].setdefault("gui torch loaded", []).append(float(result["torch_loaded"]))
    print(f"load average {os.getloadavg()[0]:.1f} / {os.cpu_count()} CPUs; {args.runs} runs each, "
          "alternating; values listed in run order, then the median")
    for name, values in figures.items():
        for key, vals in values.items():
            print(f"{name:<7} {key:<26} " + " / ".join(f"{v:.1f}" for v in vals)
                  + f"   median {statistics.median(vals):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
