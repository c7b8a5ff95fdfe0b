"""The VAE stage of `--recipe reuse-2026-12-06` (width 64, half the frames bouncing, its forward in bf16, compiled),
trained on CROP-pixel crops holding the subject (`WorldTrainConfig.vae_crop`; 0 = whole frames) for STEPS steps:
its time, the round-trip error `train_world` reports (64 random whole frames, grey levels) and the subject's shape
read after the round trip (`docs/experiments/2026-12-04-gpu-large/vae_round_trip.py`).

Run from the repository root on an idle machine (the time is a figure):
  python docs/experiments/2026-12-07-vae-crops/vae_crop.py OUT_DIR CROP STEPS [SEED]
"""
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gf_runtime.world.train import WORLD_RECIPES, _vae_batch, train_vae

out, crop, steps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
out.mkdir(parents=True, exist_ok=True)
config = dataclasses.replace(WORLD_RECIPES["reuse-2026-12-06"], vae_crop=crop, vae_steps=steps, seed=seed,
                             bf16_autocast=True)
torch.set_num_threads(config.threads)
start = time.perf_counter()
vae, losses = train_vae(config)
seconds = time.perf_counter() - start
vae.save(out / "vae.safetensors")
with torch.no_grad():  # the check train_world makes
    check = _vae_batch(np.random.default_rng(config.seed + 99), 64)[0]
    recon = vae.decode(vae.encode(check[:, None]))[:, 0]
mae = float(np.abs(recon.astype(np.float32) - check.astype(np.float32)).mean())
record = {"vae_crop": crop, "vae_steps": steps, "seed": seed, "vae_seconds": round(seconds, 1),
          "final_loss": float(np.mean(losses[-50:])), "vae_mean_abs_error_grey_levels": round(mae, 2)}
(out / "report.json").write_text(json.dumps(record, indent=1))
print(record)
