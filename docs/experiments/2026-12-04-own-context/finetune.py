"""Fine-tune a world model's DiT with its own output as context (`WorldTrainConfig.own_context_prob`).

Run from the repository root:
    python docs/experiments/2026-12-04-own-context/finetune.py SRC_MODEL_DIR OUT_DIR STEPS OWN_CONTEXT_PROB [keep]
A fifth argument `keep` sets `own_context_keep_subject` (redraws that lose the subject are not used).
OWN_CONTEXT_PROB 0 is the control: the same steps, learning rate and data seed with rendered context only.
Writes a model folder that `gf eval long --model OUT_DIR` loads (the VAE is copied from SRC_MODEL_DIR).
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
src, out = Path(sys.argv[1]), Path(sys.argv[2])
steps, own = int(sys.argv[3]), float(sys.argv[4])
keep = sys.argv[5:] == ["keep"]
cfg = dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], seed=7, dit_steps=steps, warmup_steps=50, dit_lr=2e-4, bf16_autocast=True,
                       own_context_prob=own, own_context_keep_subject=keep)
spec = cfg.spec()
dit = CausalWanDiT(spec.model)
load_weights(dit, read_tensors(src / MODEL_FILE))
encoder = WorldTextEncoder.load(src / TEXT_FILE)
vae = TinyVae.load(src / VAE_FILE)
start = time.perf_counter()
model, encoder, log = train_dit(cfg, vae, progress=True, start_from=(dit, encoder))
seconds = time.perf_counter() - start
print("seconds", round(seconds, 1), "last loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, spec)
encoder.save(out / TEXT_FILE)
shutil.copy(src / VAE_FILE, out / VAE_FILE)
(out / "finetune.json").write_text(json.dumps({"source": str(src), "steps": steps, "own_context_prob": own, "own_context_keep_subject": keep,
                                               "seconds": round(seconds, 1), "log": log}))
