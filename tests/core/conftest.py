"""Fixtures of the engine's tests: a real tiny CAM model, trained once per session."""
from __future__ import annotations

import pytest
import torch

from tests import helpers

# Two threads: the CI machine has two cores; more threads only add contention.
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return helpers.tiny_model_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from core.model.io import load_model

    return load_model(tiny_model_dir)
