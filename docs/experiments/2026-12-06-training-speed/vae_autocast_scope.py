"""Does the VAE learn under bf16 autocast when only its forward (encode, decode) runs under it, the loss, backward
and AdamW step in fp32? 150 steps of the shipped VAE's shape (width 64, batch 32, L1 + L2 loss, constant lr 5e-4),
the same data and initial weights for both precisions; prints the mean loss of each 25 steps.

Run from the repository root: python docs/experiments/2026-12-06-training-speed/vae_autocast_scope.py fp32|bf16
"""
import sys

import numpy as np
import torch

from gf_runtime.world.train import WorldTrainConfig, _draw_vae_batch, _to_pixels
from gf_runtime.world.vae import TinyVae

precision = sys.argv[1]
torch.set_num_threads(2)
torch.manual_seed(0)
config = WorldTrainConfig()
rng = np.random.default_rng(0)
vae = TinyVae(16, config.vae_width)
opt = torch.optim.AdamW(vae.parameters(), lr=5e-4, weight_decay=0.0)
losses = []
for step in range(150):
    frames_nhw3, _ = _draw_vae_batch(rng, config)
    pixels = _to_pixels(frames_nhw3)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        recon = vae.decode_raw(vae.encode_raw(pixels))
    error = recon.float() - pixels
    loss = (error.abs() + error.pow(2)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(precision, "mean loss of each 25 steps", [round(float(np.mean(losses[i:i + 25])), 3) for i in range(0, 150, 25)])
