"""The eighth training's recipe (EVAL.md, "An eighth training"): the shipped recipe with the `large` recipe's VAE
stage at the CPU batch (width 64, half the frames bouncing, 4,000 steps) and 30% of the DiT's clips opening on a
bouncing subject, trained by `train_world` on this CPU in bf16. Extra `field=value` arguments override or add
`WorldTrainConfig` fields (the ninth training: `anchor_layout_prob=0.4 drifted_context_prob=0.5`).

Run from the repository root:
  python docs/experiments/2026-12-05-cpu-vae/train_candidate.py OUT_DIR SEED [field=value ...]
"""
import ast
import sys
from pathlib import Path

import torch

from gf_runtime.world.train import WorldTrainConfig, train_world

# pinned field by field: the shipped defaults changed to the ninth training's recipe afterwards
CANDIDATE = dict(vae_width=64, vae_bounce_fraction=0.5, vae_steps=4000, dit_bounce_fraction=0.3,
                 anchor_layout_prob=0.3, drifted_context_prob=0.0, dit_steps=6000)
overrides = {name: ast.literal_eval(value) for name, value in (arg.split("=", 1) for arg in sys.argv[3:])}
torch.set_num_threads(2)
print(train_world(WorldTrainConfig(seed=int(sys.argv[2]), bf16_autocast=True, **{**CANDIDATE, **overrides}),
                  Path(sys.argv[1])))
