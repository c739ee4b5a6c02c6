#!/usr/bin/env python3
"""A can's views (decode + can locator + crop, the work every runtime shares) on threads or on
processes (issue 12, step 4 of the ``speed`` work): is the GIL what keeps the sides from sharing
the cores?

Each way runs the same task per side: decode the JPEG, ``prepare_side`` with the default model's
regions, and hand back the decoded photo and its view (what ``Model.decoded_views`` returns):

- ``serial``: the seven sides one after the other on the calling thread;
- ``threads``: the model's way, a pool of two threads (``Model._map``);
- ``threads, cv 1``: the same with OpenCV's own thread pool off (``cv2.setNumThreads(1)`` around
  the row): two sides at once already fill two cores, OpenCV's threads only add hand-offs;
- ``processes``: a pool of two spawned worker processes (numpy/OpenCV/core imported once at
  start, OpenCV single-threaded in them), the photo sent as JPEG bytes, the decoded photo and the
  view pickled back.

Rows are interleaved (each repeat runs every row once). Printed: median and p90 ms per can, and
the memory: this process's peak RSS and the workers' (each spawned worker holds its own numpy,
OpenCV and core modules).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_views.py [--repeats 30] [--images A.jpg ...]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CANS = ROOT.parent / "shared" / "datasets" / "cans"
CANS = CANS if CANS.is_dir() else Path("/work/shared/datasets/cans")

_SETTINGS: dict = {}


def _warm(preprocessing: dict, size: int, cv_threads: int = 0) -> None:
    """Worker initialiser: the imports and the settings, once per process."""
    import cv2

    from core.regions.settings import RegionSettings

    if cv_threads:
        cv2.setNumThreads(cv_threads)
    _SETTINGS["settings"] = RegionSettings.from_dict(preprocessing)
    _SETTINGS["size"] = size


def side(job: tuple[bytes, str]) -> tuple[np.ndarray, object]:
    """One side: decoded and prepared (runs in a thread or in a worker process)."""
    from core.images import load_image
    from core.regions.apply import prepare_side

    data, label = job
    image = load_image(data, name=label)
    return image, prepare_side(image, None, _SETTINGS["settings"], _SETTINGS["size"])


def _peak_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--images", nargs="*", help="photos (default: the first seven defect photos)")
    args = parser.parse_args()
    from core.evaluation.benchmarking import photos
    from core.model.spec import read_spec

    spec = read_spec(ROOT / "resources" / "models" / "default")
    paths = args.images or [str(p) for p in sorted((CANS / "defect").glob("*.jpg"))[:7]]
    jobs = [(data, f"side {i}") for i, data in enumerate(photos(paths, 7, 640))]
    _warm(spec.preprocessing or {}, spec.input_size)
    threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sides")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    processes = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_warm, initargs=(spec.preprocessing or {}, spec.input_size, 1))
    list(processes.map(side, jobs))      # start both workers and import everything there

    import cv2

    cv_threads = cv2.getNumThreads()

    def single_cv() -> list:
        cv2.setNumThreads(1)
        try:
            return list(threads.map(side, jobs))
        finally:
            cv2.setNumThreads(cv_threads)

    ways = {"serial": lambda: [side(j) for j in jobs],
            "threads": lambda: list(threads.map(side, jobs)),
            "threads, cv 1": single_cv,
            "processes": lambda: list(processes.map(side, jobs))}
    reference = ways["serial"]()
    for name, way in ways.items():       # warm up, and the same answers every way
        got = way()
        assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1].pixels, b[1].pixels)
                   for a, b in zip(got, reference)), name
    times: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, way in ways.items():
            t0, c0 = time.perf_counter(), time.process_time()
            way()
            times[name].append((time.perf_counter() - t0) * 1000.0)
            cpu[name].append((time.process_time() - c0) * 1000.0)
    workers = [p.pid for p in processes._processes.values()]   # (a private field: measuring only)
    worker_peaks = [_peak_kb(pid) / 1024.0 for pid in workers]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {args.repeats} repeats, "
          f"7 sides of 640x640, CPUs {os.cpu_count()}, OpenCV threads {cv_threads}")
    for name, values in times.items():
        print(f"  {name:14s} median {np.median(values):6.1f} ms   p90 {np.quantile(values, 0.9):6.1f} ms"
              f"   this process's CPU {np.median(cpu[name]):6.1f} ms")
    print(f"  peak RSS: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.0f} MB "
          f"(before the workers: {rss_before / 1024.0:.0f} MB); each worker "
          + ", ".join(f"{p:.0f} MB" for p in worker_peaks))
    processes.shutdown()
    threads.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
