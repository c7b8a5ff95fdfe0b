"""The VAE stage of `--recipe reuse-2026-12-06` (width 64, half the frames bouncing, its forward in bf16, compiled)
cut to STEPS steps, and with CROP=N trained on N-pixel crops holding the subject (`WorldTrainConfig.vae_crop`;
docs/experiments/2026-12-07-vae-crops): its time and the round-trip error `train_world` reports (64 random whole
frames, grey levels), to see how far the stage can shrink before the VAE gets worse. Then read the shapes after the
round trip with
  python docs/experiments/2026-12-04-gpu-large/vae_round_trip.py OUT_DIR/vae.safetensors

Run from the repository root on an idle machine (the time is a figure):
  [CROP=N] python docs/experiments/2026-12-06-batch-reuse/vae_steps.py OUT_DIR STEPS [SEED]
"""
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch

from gf_runtime.world.train import WORLD_RECIPES, train_vae, vae_round_trip_error

out, steps = Path(sys.argv[1]), int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
crop = int(os.environ.get("CROP", "0"))
out.mkdir(parents=True, exist_ok=True)
config = dataclasses.replace(WORLD_RECIPES["reuse-2026-12-06"], vae_steps=steps, seed=seed, bf16_autocast=True,
                             vae_crop=crop)
torch.set_num_threads(config.threads)
start = time.perf_counter()
vae, losses = train_vae(config)
seconds = time.perf_counter() - start
vae.save(out / "vae.safetensors")
mae = vae_round_trip_error(vae, config.seed)  # the check train_world makes
record = {"vae_steps": steps, "seed": seed, "vae_seconds": round(seconds, 1), "final_loss": losses[-1],
          "vae_mean_abs_error_grey_levels": round(mae, 2)}
if crop:
    record.update(vae_crop=crop, mean_loss_last_50=sum(losses[-50:]) / len(losses[-50:]))
(out / "report.json").write_text(json.dumps(record, indent=1))
print(record)
