"""The session API: chunk contents, events between chunks, determinism by seed."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import numpy as np
import pytest
import torch

from gf_runtime import load_pipeline
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.sampling.chunk_model import TorchChunkModel


def _run(pipe: Pipeline, seed: int, chunks: int = 6, switch_at: int | None = 3, cut_at: int | None = 4) -> np.ndarray:
    frames = []
    with pipe.session(prompt="a red ball bouncing in a desert", seed=seed) as s:
        for i in range(chunks):
            if i == switch_at:
                s.set_prompt("snow falls")
            if i == cut_at:
                s.scene_cut()
            frames.append(s.next_chunk().frames)
    return np.concatenate(frames)


def test_chunk_carries_uint8_frames_index_prompt_and_timings(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="a red ball", seed=0) as s:
        chunk = s.next_chunk()
    height, width = micro_pipe.spec.latent.pixel_size
    assert chunk.frames.dtype == np.uint8 and chunk.frames.shape == (3, height, width, 3)
    assert chunk.latents.shape == (3, 16, 8, 8)
    assert chunk.index == 0 and chunk.first_frame == 0 and chunk.prompt_id == 0 and chunk.prompt == "a red ball"
    assert chunk.timings.total_ms >= chunk.timings.denoise_ms > 0
    assert chunk.frames.std() > 0  # not a constant image


def test_same_seed_prompts_and_events_give_identical_frames(micro_pipe: Pipeline) -> None:
    assert np.array_equal(_run(micro_pipe, seed=7), _run(micro_pipe, seed=7))


def test_different_seed_gives_different_frames(micro_pipe: Pipeline) -> None:
    assert not np.array_equal(_run(micro_pipe, seed=7), _run(micro_pipe, seed=8))


def test_a_fresh_pipeline_reproduces_the_same_frames() -> None:
    a = _run(load_pipeline("micro-random"), seed=1, chunks=3)
    b = _run(load_pipeline("micro-random"), seed=1, chunks=3)
    assert np.array_equal(a, b)


def test_prompt_event_applies_at_next_chunk(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="a red ball", seed=0) as s:
        first = s.next_chunk()
        seq = s.set_prompt("snow falls")
        assert s.prompt == "a red ball"  # queued, not applied mid-chunk
        second = s.next_chunk()
        third = s.next_chunk()
    assert first.prompt_id == 0
    assert second.prompt_id == 1 and second.prompt == "snow falls" and second.applied_events == (seq,)
    assert third.applied_events == ()
    assert second.timings.events_ms > 0


def test_prompt_switch_changes_the_next_chunk(micro_pipe: Pipeline) -> None:
    def chunk_after(switch: bool) -> np.ndarray:
        with micro_pipe.session(prompt="a red ball", seed=0) as s:
            s.next_chunk()
            s.next_chunk()
            if switch:
                s.set_prompt("a blue cube in the snow")
            return s.next_chunk().frames

    assert not np.array_equal(chunk_after(True), chunk_after(False))


def test_consecutive_prompts_coalesce_to_the_last(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="a", seed=0) as s:
        s.next_chunk()
        s.set_prompt("b")
        s.set_prompt("c")
        chunk = s.next_chunk()
    assert chunk.prompt == "c" and chunk.prompt_id == 1 and len(chunk.applied_events) == 2


def test_closed_session_refuses_to_generate_and_frees_memory(micro_pipe: Pipeline) -> None:
    s = micro_pipe.session(prompt="a", seed=0)
    s.next_chunk()
    assert s.memory.nbytes > 0
    s.close()
    assert s.memory.nbytes == 0
    with pytest.raises(RuntimeError, match="closed"):
        s.next_chunk()


def test_unknown_policy_is_rejected_with_the_choices(micro_pipe: Pipeline) -> None:
    with pytest.raises(ValueError, match="grounded"):
        micro_pipe.session(prompt="a", policy="rolling")


class _RecordingChunkModel(TorchChunkModel):
    """The real torch chunk model, recording the timestep of every forward pass."""

    def __init__(self, pipe: Pipeline) -> None:
        super().__init__(pipe.model, pipe.sampler.shape.grid_h, pipe.sampler.shape.grid_w)
        self.timesteps: list[float] = []

    def forward_chunk(self, x_bfchw, t_bf, text, frame_pos_f, memory):  # type: ignore[no-untyped-def]
        self.timesteps.append(float(t_bf[0, 0]))
        return super().forward_chunk(x_bfchw, t_bf, text, frame_pos_f, memory)


def _with_opening(pipe: Pipeline, steps: tuple[float, ...], solver: str) -> Pipeline:
    sampler = dataclasses.replace(pipe.spec.sampler, opening_denoising_steps=steps, opening_solver=solver)
    return dataclasses.replace(pipe, spec=dataclasses.replace(pipe.spec, sampler=sampler), _text_cache=OrderedDict())


def test_only_the_chunk_with_nothing_in_memory_takes_the_opening_steps(micro_pipe: Pipeline) -> None:
    pipe = _with_opening(micro_pipe, (1000, 875, 750, 625, 500, 375, 250, 125), "renoise")
    recording = _RecordingChunkModel(pipe)
    pipe = dataclasses.replace(pipe, chunk_model=recording)
    sampler = pipe.spec.sampler

    with pipe.session(prompt="a red ball", seed=0) as session:
        session.next_chunk()
        opening = list(recording.timesteps)
        recording.timesteps.clear()
        session.next_chunk()

    assert opening == pytest.approx([*sampler.opening_timesteps, 0.0]) and len(opening) == 9  # 8 steps, commit
    assert recording.timesteps == pytest.approx([*sampler.timesteps, 0.0]) and len(recording.timesteps) == 5


def test_the_euler_opening_draws_one_noise_and_the_renoised_one_draws_one_per_step(micro_pipe: Pipeline) -> None:
    def generator_state_after_opening(steps: tuple[float, ...], solver: str) -> torch.Tensor:
        with _with_opening(micro_pipe, steps, solver).session(prompt="a red ball", seed=3) as session:
            session.next_chunk()
            return session.generator.get_state()

    eight, sixteen = tuple(1000.0 - 125 * i for i in range(8)), tuple(1000.0 - 62.5 * i for i in range(16))
    assert torch.equal(generator_state_after_opening(eight, "euler"), generator_state_after_opening(sixteen, "euler"))
    assert not torch.equal(generator_state_after_opening(eight, "renoise"),
                           generator_state_after_opening(sixteen, "renoise"))
