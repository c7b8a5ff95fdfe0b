"""One DiT training step of the shipped recipe on a fixed batch (16 clips of 12 frames, bf16 autocast, a fresh
model), ms a step after three warm-up steps, in variants: as shipped (`base`), the prompt cross-attention as two bf16
matmuls with an fp32 softmax instead of fp32 SDPA (`crossman`), every attention that way (`allman`), and the model's
forward through torch.compile (`compile`, combinable: `compile_crossman`). The batch is fixed, so its prompt length
never changes; in the training loop it does (BENCHMARKS.md, "What did not make the training step faster").

Run from the repository root, one variant a run:
  python docs/experiments/2026-12-06-training-speed/dit_step_variants.py VARIANT
"""
import sys
import time

import numpy as np
import torch

import gf_runtime.model.attention as attention
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.model.layers import init_random_weights
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WorldTrainConfig, _autocast, _draw_dit_batch, _prompt_batch

variant = sys.argv[1]
sdpa_attend = attention.attend


def matmul_attend(q_bshd, k_bshd, v_bshd, mask_qk=None):
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else q_bshd.dtype
    q, k, v = (t.transpose(1, 2).to(dtype) for t in (q_bshd, k_bshd, v_bshd))
    scores = torch.matmul(q, k.transpose(-1, -2)).float() * q.shape[-1] ** -0.5
    if mask_qk is not None:
        scores = scores.masked_fill(~mask_qk, float("-inf"))
    return torch.matmul(scores.softmax(-1).to(dtype), v).transpose(1, 2)


def cross_matmul_attend(q_bshd, k_bshd, v_bshd, mask_qk=None):
    if mask_qk is None:
        return matmul_attend(q_bshd, k_bshd, v_bshd)
    return sdpa_attend(q_bshd, k_bshd, v_bshd, mask_qk)


if "crossman" in variant:
    attention.attend = cross_matmul_attend
if "allman" in variant:
    attention.attend = matmul_attend
torch.set_num_threads(2)
config = WorldTrainConfig(bf16_autocast=True)
spec = config.spec()
model = CausalWanDiT(spec.model)
init_random_weights(model, 0)
encoder = WorldTextEncoder(spec.model.text_dim)
opt = torch.optim.AdamW(list(model.parameters()) + list(encoder.parameters()), lr=1e-4)
batch = _draw_dit_batch(np.random.default_rng(0), config, spec.sampler, spec.latent.vae_scale)
x_bfchw = torch.randn(config.dit_batch, config.horizon_frames, spec.model.in_channels, 8, 8)
forward = torch.compile(model) if "compile" in variant else model


def step() -> None:
    text = _prompt_batch(encoder, list(batch.chunk_prompts))
    t_bf = batch.t_bn.repeat_interleave(config.chunk_frames, dim=1)
    with _autocast(config, torch.device("cpu")):
        flow = forward(x_bfchw, t_bf, text, chunk_frames=config.chunk_frames, frame_pos_f=batch.positions_f).float()
    opt.zero_grad()
    (flow ** 2).mean().backward()
    opt.step()


start = time.perf_counter()
for _ in range(3):
    step()
warm_s = time.perf_counter() - start
start = time.perf_counter()
for _ in range(15):
    step()
print(variant, "warm-up s", round(warm_s, 1), "ms/step", round((time.perf_counter() - start) / 15 * 1000))
