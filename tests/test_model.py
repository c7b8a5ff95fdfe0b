"""The causal DiT: the cached chunk path reproduces the full block-causal pass; RoPE and embeddings are Wan's."""

from __future__ import annotations

import math

import pytest
import torch

from gf_runtime.config import MODEL_PRESETS, MemoryConfig
from gf_runtime.memory import StreamMemory
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.model.layers import init_random_weights, sinusoidal_embedding
from gf_runtime.model.rope import Rope3D, apply_rope

CHUNK = 3
N_CHUNKS = 4
HORIZON = CHUNK * N_CHUNKS


def _micro_model(seed: int = 0) -> CausalWanDiT:
    model = CausalWanDiT(MODEL_PRESETS["micro"]).eval()
    init_random_weights(model, seed)
    return model


def _inputs(model: CausalWanDiT, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    cfg = model.config
    x_bfchw = torch.randn((1, HORIZON, cfg.in_channels, 8, 8), generator=gen)
    t_chunk = torch.rand((N_CHUNKS,), generator=gen) * 1000
    t_bf = t_chunk.repeat_interleave(CHUNK)[None]  # per-frame timesteps, constant within a chunk
    text_bld = torch.randn((1, 5, cfg.text_dim), generator=gen)
    return x_bfchw, t_bf, text_bld


def _cached_pass(model: CausalWanDiT, memory_config: MemoryConfig, x_bfchw, t_bf, text_bld) -> torch.Tensor:
    memory = StreamMemory(memory_config)
    text = model.embed_text(text_bld)
    outputs = []
    for c in range(N_CHUNKS):
        frames = slice(c * CHUNK, (c + 1) * CHUNK)
        plan = memory.plan_context(CHUNK)
        gathered = memory.gather(plan.slots)
        memory_ctx = None
        if gathered is not None:
            memory_ctx = model.rotate_memory(*gathered, torch.tensor(plan.slot_pos), 4, 4)
        flow, kv = model.forward_chunk(x_bfchw[:, frames], t_bf[:, frames], text, torch.tensor(plan.chunk_pos), memory_ctx)
        memory.commit(kv.k_lbshd, kv.v_lbshd, x_bfchw[:, frames])
        outputs.append(flow)
    return torch.cat(outputs, dim=1)


@pytest.mark.parametrize(
    "memory_config",
    [
        MemoryConfig.for_policy("full", horizon_frames=HORIZON, chunk_frames=CHUNK),
        MemoryConfig.for_policy("self_forcing", horizon_frames=HORIZON, chunk_frames=CHUNK),
        MemoryConfig.for_policy("longlive", horizon_frames=HORIZON, chunk_frames=CHUNK),
        MemoryConfig.for_policy(
            "grounded", horizon_frames=HORIZON, chunk_frames=CHUNK, local_frames=9, dual_memory=False, dr_rope=False
        ),
    ],
    ids=["full", "self_forcing", "longlive", "grounded-window"],
)
@torch.no_grad()
def test_chunked_generation_matches_full_causal_pass(memory_config: MemoryConfig) -> None:
    model = _micro_model()
    x_bfchw, t_bf, text_bld = _inputs(model)
    reference = model(x_bfchw, t_bf, text_bld, chunk_frames=CHUNK)
    cached = _cached_pass(model, memory_config, x_bfchw, t_bf, text_bld)
    assert cached.shape == reference.shape == x_bfchw.shape
    assert (cached - reference).abs().max().item() < 1e-4


@torch.no_grad()
def test_cached_pass_with_a_short_window_differs_from_full_pass() -> None:
    """Guards the test above: dropping context must change the result."""
    model = _micro_model()
    x_bfchw, t_bf, text_bld = _inputs(model)
    reference = model(x_bfchw, t_bf, text_bld, chunk_frames=CHUNK)
    short = MemoryConfig.for_policy("self_forcing", horizon_frames=HORIZON, chunk_frames=CHUNK, local_frames=3)
    cached = _cached_pass(model, short, x_bfchw, t_bf, text_bld)
    assert torch.allclose(cached[:, : 2 * CHUNK], reference[:, : 2 * CHUNK], atol=1e-4)
    assert (cached[:, 2 * CHUNK :] - reference[:, 2 * CHUNK :]).abs().max().item() > 1e-3


@torch.no_grad()
def test_full_pass_is_causal_across_chunks() -> None:
    model = _micro_model()
    x_bfchw, t_bf, text_bld = _inputs(model)
    out = model(x_bfchw, t_bf, text_bld, chunk_frames=CHUNK)
    changed = x_bfchw.clone()
    changed[:, -CHUNK:] += 1.0
    out_changed = model(changed, t_bf, text_bld, chunk_frames=CHUNK)
    assert torch.equal(out[:, :-CHUNK], out_changed[:, :-CHUNK])
    assert not torch.allclose(out[:, -CHUNK:], out_changed[:, -CHUNK:])


def test_rope_matches_complex_adjacent_pair_reference() -> None:
    """Wan rotates adjacent channel pairs (view_as_complex), axis split 22/21/21 for head_dim 128, float64."""
    cfg = MODEL_PRESETS["wan2.1-t2v-1.3b"]
    rope = Rope3D(cfg)
    frames, grid_h, grid_w = torch.tensor([0, 5, 20]), 3, 4
    cos, sin = rope.cos_sin(frames, grid_h, grid_w)
    x = torch.randn(1, 3 * grid_h * grid_w, 2, cfg.head_dim)
    rotated = apply_rope(x, cos, sin)

    d = cfg.head_dim
    dims = (d - 4 * (d // 6), 2 * (d // 6), 2 * (d // 6))
    assert dims == (44, 42, 42)
    freqs = [1.0 / torch.pow(10000.0, torch.arange(0, n, 2, dtype=torch.float64) / n) for n in dims]
    f_idx, h_idx, w_idx = torch.meshgrid(frames.double(), torch.arange(grid_h).double(), torch.arange(grid_w).double(), indexing="ij")
    angles = torch.cat(
        [f_idx.reshape(-1, 1) * freqs[0], h_idx.reshape(-1, 1) * freqs[1], w_idx.reshape(-1, 1) * freqs[2]], dim=1
    )
    x_complex = torch.view_as_complex(x.double().reshape(*x.shape[:-1], -1, 2))
    expected = torch.view_as_real(x_complex * torch.polar(torch.ones_like(angles), angles)[:, None, :]).flatten(-2)
    assert (rotated.double() - expected).abs().max().item() < 1e-4


def test_timestep_embedding_is_cos_then_sin_of_raw_timestep() -> None:
    t = torch.tensor([[937.5, 0.0]])
    emb = sinusoidal_embedding(t, 256)
    assert emb.shape == (1, 2, 256)
    k = 5
    angle = 937.5 * 10000.0 ** (-k / 128)
    assert emb[0, 0, k].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert emb[0, 0, 128 + k].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert torch.equal(emb[0, 1, :128], torch.ones(128)) and torch.equal(emb[0, 1, 128:], torch.zeros(128))


@torch.no_grad()
def test_forward_chunk_rejects_mismatched_timesteps_and_positions() -> None:
    model = _micro_model()
    x_bfchw, t_bf, text_bld = _inputs(model)
    text = model.embed_text(text_bld)
    with pytest.raises(ValueError, match="expected \\(B, F\\)"):
        model.forward_chunk(x_bfchw[:, :3], t_bf[:, :2], text, torch.arange(3), None)
    with pytest.raises(ValueError, match="frame_pos"):
        model.forward_chunk(x_bfchw[:, :3], t_bf[:, :3], text, torch.arange(4), None)
    with pytest.raises(ValueError, match="text_len"):
        model.embed_text(torch.randn(1, model.config.text_len + 1, model.config.text_dim))


@torch.no_grad()
def test_prompt_per_chunk_matches_cached_chunks_with_their_own_prompts() -> None:
    """Training conditions each chunk on its own prompt; the cached path does the same chunk by chunk."""
    model = _micro_model()
    x_bfchw, t_bf, _ = _inputs(model)
    gen = torch.Generator().manual_seed(5)
    texts_bnld = torch.randn((1, N_CHUNKS, 4, model.config.text_dim), generator=gen)
    reference = model(x_bfchw, t_bf, texts_bnld, chunk_frames=CHUNK)

    memory = StreamMemory(MemoryConfig.for_policy("full", horizon_frames=HORIZON, chunk_frames=CHUNK))
    outputs = []
    for c in range(N_CHUNKS):
        frames = slice(c * CHUNK, (c + 1) * CHUNK)
        plan = memory.plan_context(CHUNK)
        gathered = memory.gather(plan.slots)
        memory_ctx = None if gathered is None else model.rotate_memory(*gathered, torch.tensor(plan.slot_pos), 4, 4)
        text = model.embed_text(texts_bnld[:, c])
        flow, kv = model.forward_chunk(x_bfchw[:, frames], t_bf[:, frames], text, torch.tensor(plan.chunk_pos), memory_ctx)
        memory.commit(kv.k_lbshd, kv.v_lbshd, x_bfchw[:, frames])
        outputs.append(flow)
    assert (torch.cat(outputs, dim=1) - reference).abs().max().item() < 1e-4

    same = model(x_bfchw, t_bf, texts_bnld[:, :1].expand(-1, N_CHUNKS, -1, -1), chunk_frames=CHUNK)
    single = model(x_bfchw, t_bf, texts_bnld[:, 0], chunk_frames=CHUNK)
    assert (same - single).abs().max().item() < 1e-5


def test_full_pass_rejects_a_prompt_count_that_does_not_match_the_chunks() -> None:
    model = _micro_model()
    x_bfchw, t_bf, _ = _inputs(model)
    with pytest.raises(ValueError, match="one per chunk"):
        model(x_bfchw, t_bf, torch.randn(1, 3, 4, model.config.text_dim), chunk_frames=CHUNK)


def test_cpu_attention_under_bf16_autocast_is_computed_in_fp32() -> None:
    """Under autocast q and k come out of RMSNorm in fp32 and v out of a Linear in bf16; ``attend`` must not let
    SDPA cast them all to bf16 (slower on a CPU, and less exact): its result is the fp32 attention rounded once."""
    import torch.nn.functional as F

    from gf_runtime.model.attention import attend

    gen = torch.Generator().manual_seed(0)
    q_bshd, k_bshd = (torch.randn((2, 48, 4, 16), generator=gen) for _ in range(2))
    v_bshd = torch.randn((2, 48, 4, 16), generator=gen).bfloat16()
    mask_qk = torch.ones((48, 48), dtype=torch.bool).tril()
    reference = F.scaled_dot_product_attention(
        *(t.float().transpose(1, 2) for t in (q_bshd, k_bshd, v_bshd)), attn_mask=mask_qk
    ).transpose(1, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_bshd = attend(q_bshd, k_bshd, v_bshd, mask_qk)
        all_bf16 = F.scaled_dot_product_attention(
            *(t.transpose(1, 2) for t in (q_bshd, k_bshd, v_bshd)), attn_mask=mask_qk
        ).transpose(1, 2)
    assert out_bshd.dtype == torch.bfloat16
    torch.testing.assert_close(out_bshd, reference.bfloat16(), rtol=0, atol=0)
    assert (all_bf16.float() - reference).abs().mean() > (out_bshd.float() - reference).abs().mean()
    # without autocast, fp32 inputs take SDPA's own path unchanged
    fp32_out = attend(q_bshd, k_bshd, v_bshd.float(), mask_qk)
    assert fp32_out.dtype == torch.float32
    torch.testing.assert_close(fp32_out, reference)
