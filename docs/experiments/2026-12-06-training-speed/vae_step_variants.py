"""One VAE training step of the shipped recipe (width 64, batch 32 of 64x64 frames, 8 pre-drawn batches in turn, so
the data's drawing is left out), ms a step over 20 steps after 3 warm-up ones, in variants by environment variable:
  AC=1  the encoder/decoder forward under bf16 autocast (the loss, backward and AdamW in fp32): vae_bf16_forward
  CL=1  the VAE and its input in channels-last memory format
  CO=1  the encoder and decoder through torch.compile: compile_training
Run from the repository root:  AC=1 CO=1 .venv/bin/python docs/experiments/2026-12-06-training-speed/vae_step_variants.py
"""
import os
import time

import numpy as np
import torch

from gf_runtime.world.train import WorldTrainConfig, _draw_vae_batch, _to_pixels
from gf_runtime.world.vae import TinyVae

torch.set_num_threads(2)
config = WorldTrainConfig()
autocast, channels_last, compiled = (bool(os.environ.get(k)) for k in ("AC", "CL", "CO"))
vae = TinyVae(config.model_config.in_channels, config.vae_width)
if channels_last:
    vae = vae.to(memory_format=torch.channels_last)
opt = torch.optim.AdamW(vae.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
batches = [_draw_vae_batch(rng, config) for _ in range(8)]
encode = torch.compile(vae.encode_raw) if compiled else vae.encode_raw
decode = torch.compile(vae.decode_raw) if compiled else vae.decode_raw


def step(i: int) -> None:
    frames_nhw3, subject_nhw = batches[i % len(batches)]
    pixels = _to_pixels(frames_nhw3)
    if channels_last:
        pixels = pixels.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        z = encode(pixels)
        recon = decode(z + config.vae_latent_noise * z.detach().std() * torch.randn(z.shape))
    recon, z = recon.float(), z.float()
    weight = 1.0 + (config.vae_subject_loss_weight - 1.0) * subject_nhw.float()[:, None]
    error = recon - pixels
    loss = ((error.abs() + error.pow(2)) * weight).sum() / (weight.sum() * 3) + 1e-4 * z.pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


start = time.perf_counter()
for i in range(3):
    step(i)
warm_s = time.perf_counter() - start
start = time.perf_counter()
for i in range(20):
    step(i)
print(dict(AC=autocast, CL=channels_last, CO=compiled), "warm-up s", round(warm_s, 1),
      "ms a step", round((time.perf_counter() - start) / 20 * 1000))
