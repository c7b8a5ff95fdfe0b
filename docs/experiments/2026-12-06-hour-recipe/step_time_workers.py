"""Seconds a DiT step of the reuse recipe (`reuse-2026-12-06`: the VAE's forward in bf16, both stages compiled)
takes in `train_world` with each drawn batch used USES times, the clips drawn step-seeded (SEEDED=1) or from the one
stream in turn (0), by WORKERS worker processes (0: in the training process itself, between steps). 150 VAE steps
and STEPS DiT steps (default 350) from a fresh model; the mean over DiT steps 50-STEPS, the VAE stage's seconds and
the final logged loss.

A worker process renders the next batches while the two training threads compute: on a 2-core CPU it takes a core
from them while it renders, so what it saves is measured, not assumed. Run from the repository root:
  python docs/experiments/2026-12-06-hour-recipe/step_time_workers.py USES SEEDED WORKERS OUT_DIR [STEPS]
"""
import json
import sys
from pathlib import Path

import torch

from gf_runtime.world.train import WORLD_RECIPES, train_world
import dataclasses

uses, seeded, workers, out = int(sys.argv[1]), bool(int(sys.argv[2])), int(sys.argv[3]), Path(sys.argv[4])
steps = int(sys.argv[5]) if len(sys.argv) > 5 else 350
torch.set_num_threads(2)
config = dataclasses.replace(WORLD_RECIPES["reuse-2026-12-06"], seed=0, bf16_autocast=True, vae_steps=150,
                             dit_steps=steps, dit_batch_uses=uses, step_seeded_data=seeded, log_every=25)
report = train_world(config, out, progress=False, data_workers=workers)
seconds_at = {r["step"]: r["seconds"] for r in json.loads((out / "train_log.json").read_text())["dit"]}
print(f"uses={uses} step_seeded={seeded} workers={workers}: DiT {(seconds_at[steps] - seconds_at[50]) / (steps - 50):.3f} "
      f"s a step over steps 50-{steps}; VAE stage {report['vae_seconds']} s for 150 steps (compiling included); "
      f"final loss {report['final_dit_loss']:.4f}")
