"""Checkpoint loading: Wan / Self Forcing / LongLive files, gf's own safetensors files, and LoRA merging.

Everything runs on the 2-layer, dim-64 ``micro`` model except the one test that builds the real
Wan2.1-T2V-1.3B shape on the meta device (no memory, no weights) to check its state-dict names and shapes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import gf_runtime
from gf_runtime import CheckpointError, PipelineSpec, SamplerConfig
from gf_runtime.config import MODEL_PRESETS, PIPELINE_PRESETS
from gf_runtime.model.checkpoint import (
    FORMAT_VERSION,
    METADATA_FORMAT_KEY,
    METADATA_SPEC_KEY,
    extract_generator_state,
    load_weights,
    merge_lora,
    read_checkpoint_spec,
    save_checkpoint,
)
from gf_runtime.model.dit import CausalWanDiT

MICRO_SPEC = PIPELINE_PRESETS["micro-random"]


# ----------------------------------------------------------------------------------------------- helpers
def random_wan_state(seed: int) -> dict[str, torch.Tensor]:
    """A random state dict with exactly the micro model's Wan names and shapes."""
    gen = torch.Generator().manual_seed(seed)
    template = CausalWanDiT(MICRO_SPEC.model).state_dict()
    return {key: torch.randn(value.shape, generator=gen) for key, value in template.items()}


def with_prefix(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + key: value for key, value in state.items()}


def fsdp_wrapped(key: str) -> str:
    """A key as FSDP + activation checkpointing write it: model._fsdp_wrapped_module.blocks.0._fsdp_wrapped_…"""
    key = re.sub(r"^blocks\.(\d+)\.", r"blocks.\1._fsdp_wrapped_module._checkpoint_wrapped_module.", key)
    return "model._fsdp_wrapped_module." + key


def assert_state_equal(actual: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), f"{key} differs"


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


# ------------------------------------------------------------------------------------- Self Forcing / LongLive files
def test_self_forcing_ema_checkpoint_loads_into_pipeline(tmp_path: Path) -> None:
    state = random_wan_state(seed=1)
    path = tmp_path / "self_forcing.pt"
    torch.save({"generator_ema": with_prefix(state, "model.")}, path)

    pipe = gf_runtime.load_pipeline(path, spec=MICRO_SPEC)

    assert pipe.spec == MICRO_SPEC
    assert_state_equal(pipe.model.state_dict(), state)


def test_fsdp_wrapper_fragments_are_stripped_from_keys(tmp_path: Path) -> None:
    state = random_wan_state(seed=2)
    wrapped = {fsdp_wrapped(key): value for key, value in state.items()}
    assert any("_fsdp_wrapped_module." in key for key in wrapped)
    path = tmp_path / "longlive_base.pt"
    torch.save({"generator_ema": wrapped}, path)

    pipe = gf_runtime.load_pipeline(path, spec=MICRO_SPEC)

    assert_state_equal(pipe.model.state_dict(), state)


def test_ema_weights_are_preferred_and_prefer_ema_false_picks_generator(tmp_path: Path) -> None:
    ema, online = random_wan_state(seed=3), random_wan_state(seed=4)
    path = tmp_path / "both.pt"
    torch.save({"generator": with_prefix(online, "model."), "generator_ema": with_prefix(ema, "model.")}, path)

    assert_state_equal(gf_runtime.load_pipeline(path, spec=MICRO_SPEC).model.state_dict(), ema)
    assert_state_equal(gf_runtime.load_pipeline(path, spec=MICRO_SPEC, prefer_ema=False).model.state_dict(), online)


def test_plain_safetensors_state_dict_without_spec_loads_into_given_spec(tmp_path: Path) -> None:
    state = random_wan_state(seed=5)
    path = tmp_path / "wan.safetensors"
    save_file(state, str(path))

    assert read_checkpoint_spec(path) is None
    assert_state_equal(gf_runtime.load_pipeline(path, spec="micro-random").model.state_dict(), state)


def test_extract_generator_state_rejects_non_tensor_entries() -> None:
    with pytest.raises(CheckpointError, match="step"):
        extract_generator_state({"generator_ema": {"model.step": 3}})


# ----------------------------------------------------------------------------------------------- all-or-nothing loading
def test_misshaped_key_is_named_and_nothing_is_loaded() -> None:
    model = CausalWanDiT(MICRO_SPEC.model)
    before = snapshot(model)
    state = random_wan_state(seed=6)
    state["blocks.1.ffn.0.weight"] = torch.zeros(3, 5)

    with pytest.raises(CheckpointError, match=re.escape("blocks.1.ffn.0.weight")) as excinfo:
        load_weights(model, state)

    assert "mis-shaped" in str(excinfo.value)
    assert "(3, 5)" in str(excinfo.value)  # the checkpoint's shape is reported next to the model's
    assert_state_equal(model.state_dict(), before)


def test_missing_and_unexpected_keys_are_named_in_one_error_and_nothing_is_loaded() -> None:
    model = CausalWanDiT(MICRO_SPEC.model)
    before = snapshot(model)
    state = random_wan_state(seed=7)
    del state["head.modulation"]
    state["blocks.0.adapter.weight"] = torch.zeros(4)

    with pytest.raises(CheckpointError) as excinfo:
        load_weights(model, state, source="bad.pt")

    message = str(excinfo.value)
    assert "bad.pt" in message
    assert "missing: head.modulation" in message
    assert "unexpected: blocks.0.adapter.weight" in message
    assert_state_equal(model.state_dict(), before)


def test_load_pipeline_rejects_checkpoint_of_another_model_shape(tmp_path: Path) -> None:
    tiny = CausalWanDiT(MODEL_PRESETS["tiny"]).state_dict()
    path = tmp_path / "tiny.pt"
    torch.save({"generator_ema": with_prefix(tiny, "model.")}, path)

    with pytest.raises(CheckpointError) as excinfo:
        gf_runtime.load_pipeline(path, spec=MICRO_SPEC)

    message = str(excinfo.value)
    assert "unexpected: blocks.2." in message  # tiny has 6 blocks, micro 2
    assert "mis-shaped: blocks.0." in message
    assert "more)" in message  # long lists are cut short with a count
    assert "model preset" in message  # and the error says how to fix it


# ----------------------------------------------------------------------------------------------- gf's own checkpoints
def test_gf_checkpoint_round_trip_restores_spec_and_weights(tmp_path: Path) -> None:
    spec = dataclasses.replace(
        MICRO_SPEC, horizon_frames=9, fps=24.0, sampler=SamplerConfig(chunk_frames=3, denoising_steps=(1000, 500))
    )
    source = CausalWanDiT(spec.model)
    load_weights(source, random_wan_state(seed=8))
    path = tmp_path / "world.safetensors"
    save_checkpoint(path, source, spec)

    assert read_checkpoint_spec(path) == spec
    pipe = gf_runtime.load_pipeline(path)

    assert pipe.spec == spec
    assert_state_equal(pipe.model.state_dict(), source.state_dict())


def test_gf_checkpoint_with_other_format_version_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "future.safetensors"
    metadata = {METADATA_FORMAT_KEY: str(FORMAT_VERSION + 1), METADATA_SPEC_KEY: json.dumps(MICRO_SPEC.to_dict())}
    save_file(random_wan_state(seed=9), str(path), metadata=metadata)

    with pytest.raises(CheckpointError, match=f"version {FORMAT_VERSION + 1}"):
        read_checkpoint_spec(path)
    with pytest.raises(CheckpointError, match=f"version {FORMAT_VERSION + 1}"):
        gf_runtime.load_pipeline(path)


# ----------------------------------------------------------------------------------------------- LoRA
def test_peft_lora_merges_as_weight_plus_scaled_b_times_a() -> None:
    gen = torch.Generator().manual_seed(10)
    out_dim, in_dim, rank, alpha = 6, 5, 2, 8.0
    w = torch.randn(out_dim, in_dim, generator=gen)
    a = torch.randn(rank, in_dim, generator=gen)
    b = torch.randn(out_dim, rank, generator=gen)
    bias = torch.randn(out_dim, generator=gen)
    state = {"blocks.0.self_attn.q.weight": w, "blocks.0.self_attn.q.bias": bias}
    lora = {
        "base_model.model.blocks.0.self_attn.q.lora_A.weight": a,
        "base_model.model.blocks.0.self_attn.q.lora_B.weight": b,
    }

    merged = merge_lora(state, lora, alpha=alpha)

    torch.testing.assert_close(merged["blocks.0.self_attn.q.weight"], w + (alpha / rank) * b @ a)
    assert torch.equal(merged["blocks.0.self_attn.q.bias"], bias)
    assert torch.equal(state["blocks.0.self_attn.q.weight"], w)  # the input state dict is not modified


def test_lora_scale_multiplies_the_delta() -> None:
    w, a, b = torch.zeros(3, 4), torch.ones(2, 4), torch.ones(3, 2)
    lora = {"blocks.0.ffn.0.lora_A.weight": a, "blocks.0.ffn.0.lora_B.weight": b}

    merged = merge_lora({"blocks.0.ffn.0.weight": w}, lora, alpha=2.0, scale=0.5)

    torch.testing.assert_close(merged["blocks.0.ffn.0.weight"], 0.5 * (2.0 / 2) * b @ a)


def test_lora_pair_missing_its_b_half_is_rejected() -> None:
    state = {"blocks.0.self_attn.q.weight": torch.zeros(4, 4)}
    lora = {"base_model.model.blocks.0.self_attn.q.lora_A.weight": torch.zeros(2, 4)}

    with pytest.raises(CheckpointError, match=r"blocks\.0\.self_attn\.q.*lora_A"):
        merge_lora(state, lora, alpha=2.0)


def test_lora_targeting_unknown_weight_is_rejected() -> None:
    lora = {
        "blocks.0.self_attn.z.lora_A.weight": torch.zeros(2, 4),
        "blocks.0.self_attn.z.lora_B.weight": torch.zeros(4, 2),
    }

    with pytest.raises(CheckpointError, match=re.escape("blocks.0.self_attn.z.weight")):
        merge_lora({"blocks.0.self_attn.q.weight": torch.zeros(4, 4)}, lora, alpha=2.0)


def test_load_pipeline_merges_longlive_lora_file(tmp_path: Path) -> None:
    state = random_wan_state(seed=11)
    base_path = tmp_path / "longlive_base.pt"
    torch.save({"generator_ema": with_prefix(state, "model.")}, base_path)
    gen = torch.Generator().manual_seed(12)
    rank, dim, ffn_dim = 4, MICRO_SPEC.model.dim, MICRO_SPEC.model.ffn_dim
    shapes = {"blocks.0.self_attn.q": (dim, dim), "blocks.1.cross_attn.v": (dim, dim), "blocks.1.ffn.0": (ffn_dim, dim)}
    lora: dict[str, torch.Tensor] = {}
    for target, (out_dim, in_dim) in shapes.items():
        lora[f"base_model.model.{target}.lora_A.weight"] = torch.randn(rank, in_dim, generator=gen)
        lora[f"base_model.model.{target}.lora_B.weight"] = torch.randn(out_dim, rank, generator=gen)
    lora_path = tmp_path / "lora.pt"
    torch.save({"generator_lora": lora}, lora_path)

    loaded = gf_runtime.load_pipeline(base_path, spec=MICRO_SPEC, lora=lora_path).model.state_dict()

    for key, value in state.items():
        target = key.removesuffix(".weight")
        if target in shapes:  # alpha defaults to the rank (LongLive: rank 256, alpha 256), so the scale is 1
            a = lora[f"base_model.model.{target}.lora_A.weight"]
            b = lora[f"base_model.model.{target}.lora_B.weight"]
            torch.testing.assert_close(loaded[key], value + b @ a)
        else:
            assert torch.equal(loaded[key], value), f"{key} changed although no LoRA targets it"


# ----------------------------------------------------------------------------------------------- the real Wan shape
@pytest.fixture(scope="module")
def wan_meta_state() -> dict[str, torch.Tensor]:
    """The Wan2.1-T2V-1.3B model's state dict on the meta device: names and shapes, no memory.

    Built once per module: the first meta-device ``arange`` imports torch._dynamo (most of a second, once).
    """
    with torch.device("meta"):
        model = CausalWanDiT(MODEL_PRESETS["wan2.1-t2v-1.3b"])
    assert len(model.blocks) == 30
    return model.state_dict()


@pytest.mark.parametrize(
    "key, shape",
    [
        ("patch_embedding.weight", (1536, 16, 1, 2, 2)),
        ("patch_embedding.bias", (1536,)),
        ("text_embedding.0.weight", (1536, 4096)),
        ("text_embedding.2.weight", (1536, 1536)),
        ("time_embedding.0.weight", (1536, 256)),
        ("time_embedding.2.weight", (1536, 1536)),
        ("time_projection.1.weight", (9216, 1536)),
        ("blocks.0.modulation", (1, 6, 1536)),
        ("blocks.0.self_attn.q.weight", (1536, 1536)),
        ("blocks.0.self_attn.norm_q.weight", (1536,)),
        ("blocks.0.cross_attn.norm_k.weight", (1536,)),
        ("blocks.0.norm3.weight", (1536,)),
        ("blocks.0.ffn.0.weight", (8960, 1536)),
        ("blocks.29.ffn.2.weight", (1536, 8960)),
        ("head.head.weight", (64, 1536)),
        ("head.modulation", (1, 2, 1536)),
    ],
)
def test_wan_1_3b_config_has_wans_state_dict_name_and_shape(
    wan_meta_state: dict[str, torch.Tensor], key: str, shape: tuple[int, ...]
) -> None:
    assert wan_meta_state[key].device.type == "meta"
    assert tuple(wan_meta_state[key].shape) == shape


def test_wan_1_3b_config_has_30_blocks(wan_meta_state: dict[str, torch.Tensor]) -> None:
    assert {int(key.split(".")[1]) for key in wan_meta_state if key.startswith("blocks.")} == set(range(30))


def test_wan_1_3b_state_dict_has_no_rope_tables_and_no_parameter_free_norms(
    wan_meta_state: dict[str, torch.Tensor],
) -> None:
    assert not [key for key in wan_meta_state if "rope" in key or "freq" in key]  # RoPE is not in Wan's state dict
    assert not [key for key in wan_meta_state if ".norm1." in key or ".norm2." in key or key.startswith("head.norm")]
    assert "blocks.0.self_attn.norm_q.bias" not in wan_meta_state  # q/k norms are weight-only
    per_block = {key.split(".", 2)[2] for key in wan_meta_state if key.startswith("blocks.0.")}
    # two attentions × (q, k, v, o weight + bias, norm_q, norm_k), norm3 weight + bias, ffn.{0,2}, modulation
    assert len(per_block) == 2 * (4 * 2 + 2) + 2 + 2 * 2 + 1


def test_lora_keys_under_nested_wrapper_prefixes_merge() -> None:
    w, a, b = torch.zeros(3, 4), torch.ones(2, 4), torch.ones(3, 2)
    lora = {
        "model.base_model.model.blocks.0.ffn.0.lora_A.weight": a,
        "model.base_model.model.blocks.0.ffn.0.lora_B.weight": b,
    }
    merged = merge_lora({"blocks.0.ffn.0.weight": w}, lora, alpha=2.0)
    torch.testing.assert_close(merged["blocks.0.ffn.0.weight"], b @ a)


def test_checkpoint_that_is_not_a_state_dict_is_a_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointError, match="expected a state dict"):
        gf_runtime.load_pipeline(path, spec=MICRO_SPEC)


def test_gf_checkpoint_spec_conflicting_with_passed_spec_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "gf.safetensors"
    save_checkpoint(path, CausalWanDiT(MICRO_SPEC.model), MICRO_SPEC)
    with pytest.raises(ValueError, match="carries its own pipeline spec"):
        gf_runtime.load_pipeline(path, spec=PIPELINE_PRESETS["tiny-random"])


def test_unknown_dtype_names_the_choices() -> None:
    with pytest.raises(ValueError, match="fp32, bf16, fp16"):
        gf_runtime.load_pipeline("micro-random", dtype="fp64")
