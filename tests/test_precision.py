"""Reduced precision runs the same code path; the fp32 path is the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gf_runtime import load_pipeline


def _frames(device: str, dtype: str) -> np.ndarray:
    pipe = load_pipeline("micro-random", device=device, dtype=dtype)
    with pipe.session(prompt="a red ball", seed=0) as s:
        frames = [s.next_chunk().frames for _ in range(3)]
        s.set_prompt("snow")
        frames.append(s.next_chunk().frames)
    return np.concatenate(frames).astype(np.int16)


def test_bf16_pipeline_tracks_the_fp32_reference_on_cpu() -> None:
    fp32, bf16 = _frames("cpu", "fp32"), _frames("cpu", "bf16")
    assert bf16.shape == fp32.shape
    assert np.abs(bf16 - fp32).mean() < 8.0  # grey levels; random weights amplify rounding, so a loose bound


@pytest.mark.gpu
def test_cuda_bf16_pipeline_tracks_the_cpu_reference() -> None:
    cpu, cuda = _frames("cpu", "fp32"), _frames("cuda", "bf16")
    assert np.abs(cuda - cpu).mean() < 8.0
