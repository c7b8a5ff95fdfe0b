"""One DiT training step of the shipped recipe (batch 16 x 12 frames, bf16 autocast unless FP32=1, a fresh model, fresh batches),
timed by part over N steps after three warm-up ones: drawing the batch, the VAE's encoding, the prompt lookup, the
forward, the backward, and clipping + AdamW + EMA. Variants by environment variable:
  PAD=1       prompts padded to the model's 16 text tokens (what train_dit does since 2026-12-06; the same arithmetic)
  COMPILE=1   the DiT's forward through torch.compile (under it and autocast the cross-attention takes attend_text's bf16 matmuls)
  (every attention as bf16 matmuls: dit_step_variants.py's `allman`)
  BF16_SDPA=1   every attention as SDPA on bf16 inputs, instead of fp32 SDPA
  FP32=1      no autocast: the whole step in fp32 (what `gf train world` runs on a CPU without native bf16)
Run from the repository root:  PAD=1 COMPILE=1 .venv/bin/python docs/experiments/2026-12-06-training-speed/dit_step_parts.py 40
"""
import os
import sys
import time

import numpy as np
import torch

import gf_runtime.model.attention as attention
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.model.layers import init_random_weights
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WorldTrainConfig, _autocast, _draw_dit_batch, _prompt_batch
from gf_runtime.world.vae import TinyVae


def bf16_sdpa_attend(q_bshd, k_bshd, v_bshd, mask_qk=None):
    dtype = torch.get_autocast_dtype("cpu")
    with torch.autocast("cpu", enabled=False):
        out_bhsd = torch.nn.functional.scaled_dot_product_attention(
            *(t.transpose(1, 2).to(dtype) for t in (q_bshd, k_bshd, v_bshd)), attn_mask=mask_qk)
    return out_bhsd.transpose(1, 2)


if os.environ.get("BF16_SDPA"):
    attention.attend = bf16_sdpa_attend
torch.set_num_threads(2)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
config = WorldTrainConfig(bf16_autocast=not os.environ.get("FP32"), dit_batch=16)
spec = config.spec()
cpu = torch.device("cpu")
vae = TinyVae(latent_channels=config.model_config.in_channels, width=config.vae_width).eval().requires_grad_(False)
model = CausalWanDiT(spec.model)
init_random_weights(model, 0)
encoder = WorldTextEncoder(spec.model.text_dim)
forward = torch.compile(model) if os.environ.get("COMPILE") else model
pad_to = spec.model.text_len if os.environ.get("PAD") else 1
params = list(model.parameters()) + list(encoder.parameters())
opt = torch.optim.AdamW(params, lr=1e-4)
ema = [p.detach().clone() for p in params]
rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(0)
parts = dict.fromkeys(["draw", "vae", "text", "forward", "backward", "optimizer"], 0.0)
start = time.perf_counter()
for step in range(steps + 3):
    if step == 3:
        print("warm-up (compiling included) s", round(time.perf_counter() - start, 1), flush=True)
        parts = dict.fromkeys(parts, 0.0)
    t = time.perf_counter()
    batch = _draw_dit_batch(rng, config, spec.sampler, spec.latent.vae_scale)
    parts["draw"] += time.perf_counter() - t
    t = time.perf_counter()
    with torch.no_grad(), _autocast(config, cpu):
        x0 = vae.encode(batch.frames_bfhw3.numpy()).float()
    parts["vae"] += time.perf_counter() - t
    t = time.perf_counter()
    text = _prompt_batch(encoder, list(batch.chunk_prompts), pad_to=pad_to)
    parts["text"] += time.perf_counter() - t
    t = time.perf_counter()
    t_bf = batch.t_bn.repeat_interleave(config.chunk_frames, dim=1)
    sigma = (t_bf / 1000)[..., None, None, None]
    noise = torch.randn(x0.shape, generator=gen)
    with _autocast(config, cpu):
        flow = forward((1 - sigma) * x0 + sigma * noise, t_bf, text, chunk_frames=config.chunk_frames,
                       frame_pos_f=batch.positions_f).float()
    loss = ((flow - (noise - x0)) ** 2).mean()
    parts["forward"] += time.perf_counter() - t
    t = time.perf_counter()
    opt.zero_grad()
    loss.backward()
    parts["backward"] += time.perf_counter() - t
    t = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    with torch.no_grad():
        torch._foreach_lerp_(ema, params, 0.002)
    parts["optimizer"] += time.perf_counter() - t
print({k: round(v / steps * 1000, 1) for k, v in parts.items()}, "ms; total", round(sum(parts.values()) / steps * 1000), "ms a step")
