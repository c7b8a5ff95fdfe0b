"""Seconds a DiT step of the shipped recipe takes in `train_world` with the two speed fields on (the VAE's forward in
bf16, both stages compiled) and each drawn batch used USES times (`dit_batch_uses`): 150 VAE and STEPS DiT steps
(default 350) from a fresh model, the mean over DiT steps 50-STEPS (compiling and warm-up left out), and the final
logged loss.

EAGER=1 leaves torch.compile off; SEEDED=1 draws step-seeded batches (`step_seeded_data`) and WORKERS=N has N worker
processes render them ahead (on 2 cores a worker takes a core from the training threads while it renders: BENCHMARKS.md,
"Rendering ahead in a worker process"). Run from the repository root, one setting a run (the compile cache of the first
run serves the later ones):
  python docs/experiments/2026-12-06-batch-reuse/step_time.py USES OUT_DIR [STEPS]
"""
import json
import os
import sys
from pathlib import Path

import torch

from gf_runtime.world.train import WorldTrainConfig, train_world

uses, out = int(sys.argv[1]), Path(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 350
torch.set_num_threads(2)
config = WorldTrainConfig(seed=0, bf16_autocast=True, vae_bf16_forward=True, compile_training=not os.environ.get("EAGER"),
                          vae_steps=150, dit_steps=steps, dit_batch_uses=uses, step_seeded_data=bool(os.environ.get("SEEDED")),
                          log_every=25)
report = train_world(config, out, progress=False, data_workers=int(os.environ.get("WORKERS", "0")))
seconds_at = {r["step"]: r["seconds"] for r in json.loads((out / "train_log.json").read_text())["dit"]}
print(f"dit_batch_uses={uses} step_seeded_data={config.step_seeded_data}: DiT {(seconds_at[steps] - seconds_at[50]) / (steps - 50):.3f} s a step over steps 50-{steps}; "
      f"VAE stage {report['vae_seconds']} s for 150 steps (compiling included); final loss {report['final_dit_loss']:.4f}")
