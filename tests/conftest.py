"""Shared fixtures: tiny deterministic pipelines (2 layers, dim 64) on the CPU."""

from __future__ import annotations

import pytest
import torch

from gf_runtime import load_pipeline
from gf_runtime.engine.pipeline import Pipeline


@pytest.fixture(autouse=True)
def _deterministic_threads() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def micro_pipe() -> Pipeline:
    return load_pipeline("micro-random", device="cpu", policy="grounded")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
