"""Memory policies: bounded Dual Memory, DR-RoPE positions, anchor rule, APR, scene cut, baselines."""

from __future__ import annotations

import math

import pytest
import torch

from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.memory import AnchorAction, SlotRole, apr_alphas, decide_anchor_update


def _unit(*values: float) -> torch.Tensor:
    v = torch.tensor(values, dtype=torch.float32)
    return v / v.norm()


# ----------------------------------------------------------------------------- grounded over a long stream
def test_grounded_memory_stays_bounded_and_inside_horizon_for_200_chunks(micro_pipe: Pipeline) -> None:
    memory_config = micro_pipe.memory_config("grounded")
    horizon = memory_config.horizon_frames
    bound = memory_config.max_memory_frames
    assert bound == 3 + 6
    with micro_pipe.session(prompt="a red ball in the desert", seed=0) as s:
        storage_bytes = None
        for index in range(200):
            plan = s.memory.plan_context(memory_config.chunk_frames)
            anchors_shown = [p for slot, p in zip(plan.slots, plan.slot_pos) if s.memory.record(slot).role is SlotRole.ANCHOR]
            assert all(p == memory_config.anchor_position for p in anchors_shown)
            chunk = s.next_chunk()
            assert chunk.max_temporal_position < horizon
            assert chunk.memory_frames <= bound
            assert s.memory.frames_held <= bound
            if index == 10:
                storage_bytes = s.memory.nbytes
            if index > 10:
                assert s.memory.nbytes == storage_bytes  # no growth
        assert s.memory.frames_seen == 200 * memory_config.chunk_frames
        late_plan = s.memory.plan_context(memory_config.chunk_frames)
        assert late_plan.chunk_pos == tuple(range(horizon - 3, horizon))
        local_pos = [p for slot, p in zip(late_plan.slots, late_plan.slot_pos) if s.memory.record(slot).role is SlotRole.LOCAL]
        assert local_pos == list(range(horizon - 3 - 6, horizon - 3))  # just below the chunk
        anchors = [slot for slot in late_plan.slots if s.memory.record(slot).role is SlotRole.ANCHOR]
        assert len(anchors) == 3


def test_without_dr_rope_positions_run_past_the_horizon(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0, policy="grounded", dr_rope=False) as s:
        positions = [s.next_chunk().max_temporal_position for _ in range(8)]
    assert positions[-1] == 8 * 3 - 1 > micro_pipe.spec.horizon_frames


def test_self_forcing_window_is_bounded_at_absolute_positions(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0, policy="self_forcing") as s:
        chunks = [s.next_chunk() for _ in range(10)]
        window = micro_pipe.spec.horizon_frames - 3
        assert max(c.memory_frames for c in chunks) == window
        assert s.memory.local_frame_indices() == list(range(30 - window, 30))
    assert chunks[-1].max_temporal_position == 29


def test_full_policy_keeps_every_frame(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0, policy="full") as s:
        chunks = [s.next_chunk() for _ in range(12)]
    assert [c.memory_frames for c in chunks] == [3 * i for i in range(12)]


# ----------------------------------------------------------------------------- anchor update rule
def test_anchor_rule_admits_into_a_free_slot() -> None:
    anchors = torch.stack([_unit(1, 0, 0), _unit(0, 1, 0)])
    decision = decide_anchor_update(anchors, _unit(1, 0, 0), capacity=3)
    assert decision.action is AnchorAction.ADMIT and decision.slot == 2


def test_anchor_rule_replaces_the_most_redundant_anchor_with_a_novel_frame() -> None:
    # anchors 0 and 1 nearly coincide; anchor 1 is slightly more redundant with 0 than 0 is with 2.
    anchors = torch.stack([_unit(1, 0.05, 0), _unit(1, 0, 0), _unit(0, 1, 0)])
    novel = _unit(0, 0, 1)
    decision = decide_anchor_update(anchors, novel, capacity=3)
    assert decision.action is AnchorAction.REPLACE
    assert decision.slot in (0, 1)
    assert decision.novelty == pytest.approx(1.0, abs=1e-6)
    assert decision.redundancy == pytest.approx(float(anchors[0] @ anchors[1]), abs=1e-6)


def test_anchor_rule_keeps_anchors_when_the_frame_is_not_novel_enough() -> None:
    anchors = torch.stack([_unit(1, 0.05, 0), _unit(1, 0, 0), _unit(0, 1, 0)])
    familiar = _unit(1, 0.02, 0)
    decision = decide_anchor_update(anchors, familiar, capacity=3)
    assert decision.action is AnchorAction.KEEP and decision.slot is None
    assert decision.novelty < decision.redundancy


def test_anchor_candidates_are_each_chunks_newest_frame_after_the_first_chunk(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0) as s:
        s.next_chunk()
        assert s.memory.anchor_frame_indices() == []  # the first chunk (no context) never becomes an anchor
        for _ in range(3):
            s.next_chunk()
        assert s.memory.anchor_frame_indices() == [5, 8, 11]  # one candidate per chunk: its newest frame
        assert [d.action for d in s.memory.stats.anchor_decisions] == [AnchorAction.ADMIT] * 3
        for _ in range(20):
            s.next_chunk()
        decided = s.memory.stats.anchor_decisions
        assert len(decided) == 23  # chunks 1..23, one decision each
        assert all(i % 3 == 2 for i in s.memory.anchor_frame_indices())


def test_every_frame_as_candidate_fills_the_gcm_with_the_first_chunk(micro_pipe: Pipeline) -> None:
    """METHOD.md read literally: every frame is a candidate from the start, so the first chunk fills the GCM."""
    with micro_pipe.session(prompt="ball", seed=0, anchor_every_frame=True, anchor_skip_chunks=0) as s:
        s.next_chunk()
        assert s.memory.anchor_frame_indices() == [0, 1, 2]
        assert [d.action for d in s.memory.stats.anchor_decisions] == [AnchorAction.ADMIT] * 3


# ----------------------------------------------------------------------------- scene cut and baselines
def test_scene_cut_flushes_local_memory_and_keeps_anchors(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0) as s:
        for _ in range(6):
            s.next_chunk()
        anchors = s.memory.anchor_frame_indices()
        s.scene_cut()
        s.apply_pending_events()
        assert s.memory.anchor_frame_indices() == anchors and len(anchors) == 3
        assert s.memory.local_frame_indices() == []
        chunk = s.next_chunk()
        assert chunk.memory_frames == 3  # only the anchors were visible
        assert s.memory.local_frame_indices() == [18, 19, 20]
        assert chunk.first_frame == 18


def test_longlive_keeps_its_sink_and_hard_recaches_the_window(micro_pipe: Pipeline) -> None:
    with micro_pipe.session(prompt="ball", seed=0, policy="longlive") as s:
        for _ in range(6):
            s.next_chunk()
        sink = list(s.memory.sink_slots)
        assert [s.memory.record(slot).frame_index for slot in sink] == [0, 1, 2]
        sink_k = s.memory.k_lbnthd[:, :, sink].clone()
        local = list(s.memory.local_order)
        local_k = s.memory.k_lbnthd[:, :, local].clone()
        plan = s.memory.plan_recache()
        assert plan is not None and set(plan.alphas) == {1.0} and plan.context_slots == tuple(sink)
        s.set_prompt("snow falls")
        s.apply_pending_events()
        assert torch.equal(s.memory.k_lbnthd[:, :, sink], sink_k)
        assert not torch.allclose(s.memory.k_lbnthd[:, :, local], local_k)
