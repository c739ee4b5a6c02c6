"""benchmarks/faults_engine.py: its attack loops run, count every outcome, and see a hang and a crash."""
from __future__ import annotations

import os
import time

import pytest

from benchmarks import faults_engine
from benchmarks.isolated import Isolated

KEYS = {"tried", "clean_errors", "accepted", "wrong_types", "hangs", "crashes", "memory", "undetected"}


def _sleep_or_die(payload):
    if payload == "hang":
        time.sleep(60)
    if payload == "crash":
        os._exit(3)
    if payload == "raise":
        raise KeyError("x")
    return payload


@pytest.mark.slow
def test_the_isolated_runner_tells_hangs_crashes_and_errors_apart():
    with Isolated(_sleep_or_die, timeout_s=2.0) as runner:
        assert runner.run("fine").kind == "ok"
        assert runner.run("hang").kind == "hang"
        assert runner.run("crash").kind == "crash"
        out = runner.run("raise")
        assert out.kind == "raised" and out.error_type == "builtins.KeyError"
        assert runner.run("again").kind == "ok"  # a fresh worker after the hang and the crash


@pytest.mark.slow
def test_small_attack_loops_count_every_case_and_find_nothing_wrong():
    images = faults_engine.image_attacks(60, seed=1)
    models = faults_engine.model_attacks(12, seed=1)
    for counters, n in ((images, 60), (models, 12)):
        assert KEYS <= set(counters) and counters["tried"] == n
        assert counters["clean_errors"] + counters["accepted"] + sum(
            counters[k] for k in ("wrong_types", "hangs", "crashes", "memory")) == n
        assert counters["wrong_types"] == counters["hangs"] == counters["crashes"] == counters["memory"] == 0
        assert counters["undetected"] == 0 and counters["clean_errors"] > n // 3
    assert any(label.startswith("special:") for label in images["by_mutation"])
    assert any(label.startswith("data:") for label in models["by_mutation"])
