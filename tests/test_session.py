"""The session API: chunk contents, events between chunks, determinism by seed."""

from __future__ import annotations

import numpy as np
import pytest

from gf_runtime import load_pipeline
from gf_runtime.engine.pipeline import Pipeline


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
