"""Fixtures of the engine's tests: a real tiny CAM model, trained once per session."""
from __future__ import annotations

import os

import pytest
import torch

from tests import helpers

# Two threads: the CI machine has two cores; more threads only add contention. Under pytest-xdist
# (./test.sh runs two workers) each worker has a core of its own: one thread each.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
torch.set_num_threads(1 if _WORKERS > 1 else min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return helpers.tiny_model_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from core.model.io import load_model

    return load_model(tiny_model_dir)
