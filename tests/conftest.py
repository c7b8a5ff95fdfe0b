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
