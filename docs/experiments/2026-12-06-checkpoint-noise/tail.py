"""A few hundred more DiT steps on the shipped default (the ninth training) at the learning rate its schedule ends
on, to see how far `gf eval long` moves between nearby checkpoints of one training. Writes a loadable model folder.

The shipped recipe (`WORLD_RECIPES["default"]`) with DATA_SEED for the data, timesteps and noise, bf16 autocast, the
learning rate starting at 8e-5 (where the shipped schedule's cosine ends: 0.1 x 8e-4) with no warm-up and decaying
by the same cosine to 8e-6; the EMA (decay 0.998) starts from the shipped weights, so after 400 steps it holds 45% of
them, as the shipped EMA holds the last few hundred steps of its own training. Fresh AdamW state.

Run from the repository root:
  python docs/experiments/2026-12-06-checkpoint-noise/tail.py OUT_DIR STEPS DATA_SEED
"""
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import torch

from gf_runtime.model.checkpoint import load_weights, read_tensors, save_checkpoint
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WORLD_RECIPES, train_dit
from gf_runtime.world.vae import TinyVae

torch.set_num_threads(2)
shipped = Path("gf_runtime/assets/default")
out, steps, data_seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
config = dataclasses.replace(WORLD_RECIPES["default"], seed=data_seed, dit_steps=steps, warmup_steps=0,
                             dit_lr=0.1 * WORLD_RECIPES["default"].dit_lr, bf16_autocast=True)
spec = config.spec()
dit = CausalWanDiT(spec.model)
load_weights(dit, read_tensors(shipped / MODEL_FILE))
encoder = WorldTextEncoder.load(shipped / TEXT_FILE)
vae = TinyVae.load(shipped / VAE_FILE)
start = time.perf_counter()
model, encoder, log = train_dit(config, vae, progress=False, start_from=(dit, encoder))
print(f"{steps} steps in {time.perf_counter() - start:.0f} s, last logged loss {log[-1]['loss']:.4f}")
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, spec)
encoder.save(out / TEXT_FILE)
shutil.copy(shipped / VAE_FILE, out / VAE_FILE)
(out / "log.json").write_text(json.dumps(log))
