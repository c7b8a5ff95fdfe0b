"""The shipped recipe's VAE stage (4,000 steps, width 64, half the frames bouncing) with its forward and backward
under bf16 autocast, against the shipped VAE trained in fp32: is the faster VAE step free?

The whole stage runs inside the autocast context, so the end-of-stage latent statistics are measured in bf16 too.
Run from the repository root on an idle machine (the time is a figure):
  python docs/experiments/2026-12-06-training-speed/train_vae_bf16.py OUT_DIR [SEED]
then compare round trips:
  python docs/experiments/2026-12-04-gpu-large/vae_round_trip.py OUT_DIR/vae.safetensors
"""
import json
import sys
import time
from pathlib import Path

import torch

from gf_runtime.world.train import WorldTrainConfig, train_vae

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
config = WorldTrainConfig(seed=int(sys.argv[2]) if len(sys.argv) > 2 else 0)
torch.set_num_threads(config.threads)
start = time.perf_counter()
with torch.autocast("cpu", dtype=torch.bfloat16):
    vae, losses = train_vae(config)
seconds = time.perf_counter() - start
vae.float().save(out / "vae.safetensors")
record = {"vae_seconds": round(seconds, 1), "steps": config.vae_steps, "final_loss": losses[-1],
          "mean_loss_last_100": sum(losses[-100:]) / 100}
(out / "report.json").write_text(json.dumps(record, indent=1))
print(json.dumps(record))
