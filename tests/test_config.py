"""Validation and derived values of the frozen configuration dataclasses (gf_runtime/config.py)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from gf_runtime.config import (
    MODEL_PRESETS,
    PIPELINE_PRESETS,
    POLICY_NAMES,
    LatentGeometry,
    MemoryConfig,
    ModelConfig,
    PipelineSpec,
    SamplerConfig,
)


# ----------------------------------------------------------------------------------------------- MemoryConfig
def test_grounded_defaults_are_six_local_frames_and_three_anchors_with_every_mechanism_on() -> None:
    memory = MemoryConfig.for_policy("grounded")

    assert (memory.local_frames, memory.anchor_slots, memory.sink_frames) == (6, 3, 0)
    assert memory.dual_memory and memory.dr_rope and memory.apr
    assert memory.anchor_position == 0
    assert memory.apr_alpha_max == 0.8
    assert memory.apr_scale == 6.0  # D defaults to local_frames
    assert memory.uses_anchors
    assert memory.max_memory_frames == 9


@pytest.mark.parametrize("horizon, chunk", [(21, 3), (12, 3), (8, 2)])
def test_self_forcing_window_is_horizon_minus_chunk(horizon: int, chunk: int) -> None:
    memory = MemoryConfig.for_policy("self_forcing", horizon_frames=horizon, chunk_frames=chunk)

    assert memory.local_frames == horizon - chunk
    assert (memory.anchor_slots, memory.sink_frames) == (0, 0)
    assert not (memory.dr_rope or memory.dual_memory or memory.apr or memory.uses_anchors)
    assert memory.max_memory_frames == horizon - chunk


@pytest.mark.parametrize("horizon, chunk", [(21, 3), (12, 3)])
def test_longlive_keeps_first_chunk_as_sink_and_recaches_on_switch(horizon: int, chunk: int) -> None:
    memory = MemoryConfig.for_policy("longlive", horizon_frames=horizon, chunk_frames=chunk)

    assert memory.sink_frames == chunk
    assert memory.local_frames == horizon - 2 * chunk
    assert memory.recache_on_switch
    assert not (memory.dr_rope or memory.apr or memory.uses_anchors)
    assert memory.max_memory_frames == horizon - chunk


def test_full_policy_is_unbounded() -> None:
    memory = MemoryConfig.for_policy("full")

    assert not memory.bounded
    assert memory.max_memory_frames is None


@pytest.mark.parametrize("policy", [p for p in POLICY_NAMES if p != "full"])
@pytest.mark.parametrize("horizon, chunk", [(21, 3), (12, 3)])
def test_bounded_policies_attend_to_at_most_the_horizon(policy: str, horizon: int, chunk: int) -> None:
    memory = MemoryConfig.for_policy(policy, horizon_frames=horizon, chunk_frames=chunk)

    assert memory.bounded
    assert memory.max_memory_frames + chunk <= horizon


def test_grounded_without_dual_memory_holds_no_anchors() -> None:
    memory = MemoryConfig.for_policy("grounded", dual_memory=False)

    assert not memory.uses_anchors
    assert memory.max_memory_frames == memory.local_frames


def test_for_policy_applies_overrides_over_defaults() -> None:
    memory = MemoryConfig.for_policy("grounded", local_frames=4, apr_distance_scale=math.inf)

    assert memory.local_frames == 4
    assert memory.anchor_slots == 3
    assert memory.apr_scale == math.inf


@pytest.mark.parametrize("build", [lambda: MemoryConfig.for_policy("rolling"), lambda: MemoryConfig(policy="rolling")])
def test_unknown_policy_is_rejected_naming_the_choices(build) -> None:
    with pytest.raises(ValueError, match="rolling") as excinfo:
        build()

    for name in POLICY_NAMES:
        assert name in str(excinfo.value)


def test_dr_rope_rejects_local_plus_chunk_frames_beyond_horizon() -> None:
    with pytest.raises(ValueError, match="local_frames") as excinfo:
        MemoryConfig.for_policy("grounded", horizon_frames=8, chunk_frames=3)  # 6 local + 3 > 8

    message = str(excinfo.value)
    assert "9" in message and "horizon_frames=8" in message


def test_dr_rope_accepts_local_plus_chunk_frames_equal_to_horizon() -> None:
    memory = MemoryConfig.for_policy("grounded", horizon_frames=9, chunk_frames=3)

    assert memory.local_frames + memory.chunk_frames == memory.horizon_frames


def test_absolute_positions_allow_local_window_beyond_horizon() -> None:
    memory = MemoryConfig.for_policy("grounded", horizon_frames=8, chunk_frames=3, dr_rope=False)

    assert memory.local_frames == 6


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(horizon_frames=2, chunk_frames=3), "horizon_frames=2"),
        (dict(chunk_frames=0), "chunk_frames=0"),
        (dict(local_frames=-1), "local_frames"),
        (dict(anchor_slots=-1), "anchor_slots"),
        (dict(apr_alpha_max=1.5), "apr_alpha_max=1.5"),
        (dict(apr_distance_scale=0.0), "apr_distance_scale=0.0"),
        (dict(anchor_position=21), "anchor_position=21"),
    ],
)
def test_invalid_memory_values_are_rejected_naming_the_field(overrides: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        MemoryConfig(**overrides)


def test_memory_config_is_frozen_and_overrides_are_revalidated() -> None:
    memory = MemoryConfig.for_policy("grounded")

    with pytest.raises(dataclasses.FrozenInstanceError):
        memory.local_frames = 3  # type: ignore[misc]
    assert memory.with_overrides(local_frames=3).local_frames == 3
    with pytest.raises(ValueError, match="apr_alpha_max"):
        memory.with_overrides(apr_alpha_max=-0.1)


# ----------------------------------------------------------------------------------------------- SamplerConfig
def test_shift_five_warps_self_forcing_steps_to_published_timesteps() -> None:
    sampler = SamplerConfig(denoising_steps=(1000, 750, 500, 250), shift=5.0)

    assert sampler.timesteps == pytest.approx([1000.0, 937.5, 2500.0 / 3.0, 625.0])
    assert sampler.sigmas == pytest.approx([1.0, 0.9375, 2.5 / 3.0, 0.625])


def test_unwarped_timesteps_are_the_denoising_steps() -> None:
    sampler = SamplerConfig(denoising_steps=(1000, 500), warp=False)

    assert sampler.timesteps == (1000.0, 500.0)


def test_opening_steps_are_warped_like_the_chunk_steps_and_default_to_them() -> None:
    plain = SamplerConfig(denoising_steps=(1000, 750, 500, 250), shift=5.0)
    longer = SamplerConfig(denoising_steps=(1000, 750, 500, 250), shift=5.0,
                           opening_denoising_steps=(1000, 875, 750, 625, 500, 375, 250, 125))

    assert plain.opening_sigmas == plain.sigmas
    assert longer.sigmas == plain.sigmas
    assert longer.opening_sigmas[::2] == pytest.approx(plain.sigmas)
    assert longer.opening_sigmas[-1] == pytest.approx(5 * 0.125 / (1 + 4 * 0.125))


def test_denoising_steps_are_stored_as_a_tuple_of_floats() -> None:
    sampler = SamplerConfig(denoising_steps=[1000, 500])  # type: ignore[arg-type]

    assert sampler.denoising_steps == (1000.0, 500.0)
    assert all(isinstance(step, float) for step in sampler.denoising_steps)


@pytest.mark.parametrize("steps", [(1000, 1000, 500), (250, 500, 750, 1000), (1000, 500, 600)])
def test_non_decreasing_steps_are_rejected(steps: tuple) -> None:
    with pytest.raises(ValueError, match="strictly decreasing"):
        SamplerConfig(denoising_steps=steps)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(denoising_steps=()), "empty"),
        (dict(denoising_steps=(1001.0, 500.0)), r"\(0, 1000\]"),
        (dict(denoising_steps=(500.0, 0.0)), r"\(0, 1000\]"),
        (dict(chunk_frames=0), "chunk_frames=0"),
        (dict(shift=0.0), "shift=0.0"),
        (dict(opening_denoising_steps=(500.0, 1000.0)), "opening_denoising_steps .* strictly decreasing"),
        (dict(opening_denoising_steps=(1000.0, 0.0)), r"opening_denoising_steps .* \(0, 1000\]"),
        (dict(opening_solver="heun"), "opening_solver='heun'.*renoise.*euler"),
    ],
)
def test_invalid_sampler_values_are_rejected(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        SamplerConfig(**kwargs)


# ----------------------------------------------------------------------------------------------- ModelConfig
def test_wan_head_dim_128_splits_into_22_21_21_rope_pairs() -> None:
    config = MODEL_PRESETS["wan2.1-t2v-1.3b"]

    assert config.head_dim == 128
    assert config.rope_pairs == (22, 21, 21)
    assert config.patch_channels == 64


@pytest.mark.parametrize("name", sorted(MODEL_PRESETS))
def test_rope_pairs_cover_the_whole_head_dim(name: str) -> None:
    config = MODEL_PRESETS[name]

    assert sum(config.rope_pairs) * 2 == config.head_dim


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(dim=64, num_heads=3), "num_heads=3"),
        (dict(dim=66, num_heads=2), "head_dim=33"),
        (dict(patch_size=(2, 2, 2)), "temporal patch 2"),
        (dict(dim=8, num_heads=2, ffn_dim=16), "too small"),
        (dict(freq_dim=255), "freq_dim=255"),
    ],
)
def test_invalid_model_shapes_are_rejected(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ModelConfig(**kwargs)


def test_model_config_from_dict_rejects_unknown_fields() -> None:
    data = MODEL_PRESETS["micro"].to_dict() | {"hidden": 3}

    with pytest.raises(ValueError, match="hidden"):
        ModelConfig.from_dict(data)


# ------------------------------------------------------------------------------------- LatentGeometry / PipelineSpec
def test_wan_latent_frame_at_832x480_is_30_by_52_tokens() -> None:
    latent = LatentGeometry(height=60, width=104)

    assert latent.tokens_per_frame(MODEL_PRESETS["wan2.1-t2v-1.3b"]) == 30 * 52
    assert latent.pixel_size == (480, 832)


@pytest.mark.parametrize("name", sorted(PIPELINE_PRESETS))
def test_pipeline_spec_survives_dict_and_json_round_trip(name: str) -> None:
    spec = PIPELINE_PRESETS[name]

    assert PipelineSpec.from_dict(spec.to_dict()) == spec
    assert PipelineSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec  # lists come back as tuples


def test_custom_pipeline_spec_round_trips() -> None:
    spec = PipelineSpec(
        model=MODEL_PRESETS["micro"],
        sampler=SamplerConfig(chunk_frames=2, denoising_steps=(1000, 600, 300), shift=3.0, warp=False,
                              opening_denoising_steps=(1000, 800, 600, 400, 200), opening_solver="euler"),
        latent=LatentGeometry(height=6, width=10, vae_scale=4),
        horizon_frames=10,
        fps=24.0,
    )

    assert PipelineSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_a_spec_written_before_opening_steps_existed_loads_with_the_chunk_steps_for_openings() -> None:
    data = json.loads(json.dumps(PIPELINE_PRESETS["micro-random"].to_dict()))
    del data["sampler"]["opening_denoising_steps"], data["sampler"]["opening_solver"]

    sampler = PipelineSpec.from_dict(data).sampler

    assert sampler.opening_timesteps == sampler.timesteps and sampler.opening_solver == "renoise"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(horizon_frames=2), "horizon_frames=2"),
        (dict(fps=0.0), "fps=0.0"),
        (dict(fps=float("nan")), "fps=nan"),
        (dict(latent=LatentGeometry(height=7, width=8)), "7x8"),
    ],
)
def test_invalid_pipeline_spec_is_rejected(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        PipelineSpec(**{"model": MODEL_PRESETS["micro"], "latent": LatentGeometry(height=8, width=8)} | kwargs)


def test_spec_memory_uses_the_spec_horizon_and_chunk() -> None:
    spec = PIPELINE_PRESETS["micro-random"]

    memory = spec.memory("self_forcing")

    assert memory.horizon_frames == spec.horizon_frames
    assert memory.chunk_frames == spec.sampler.chunk_frames
    assert memory.local_frames == spec.horizon_frames - spec.sampler.chunk_frames
