"""Fine-tune the shipped default DiT with drifted-context anchor clips; write a loadable model folder.

Run from the repository root: python finetune.py OUT_DIR STEPS DRIFTED_CONTEXT_PROB ANCHOR_LAYOUT_PROB
(the EVAL.md run: OUT_DIR 800 0.6 0.5, from the third training, the default until 2026-12-03:
`git show 6874096:gf_runtime/assets/default/...`; run today, it fine-tunes whatever is shipped now).
"""
import dataclasses
import json, shutil, sys, time
from pathlib import Path
import torch
from gf_runtime.model.checkpoint import read_tensors, load_weights, save_checkpoint
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae
from gf_runtime.world.train import WORLD_RECIPES, train_dit
torch.set_num_threads(2)
src = Path("gf_runtime/assets/default")
out = Path(sys.argv[1]); steps = int(sys.argv[2]); drift = float(sys.argv[3]); layout = float(sys.argv[4])
cfg = dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], seed=7, dit_steps=steps, warmup_steps=50, dit_lr=2e-4, bf16_autocast=True,
                       anchor_layout_prob=layout, drifted_context_prob=drift)
spec = cfg.spec()
dit = CausalWanDiT(spec.model); load_weights(dit, read_tensors(src / MODEL_FILE))
enc = WorldTextEncoder.load(src / TEXT_FILE); vae = TinyVae.load(src / VAE_FILE)
t = time.perf_counter()
model, encoder, log = train_dit(cfg, vae, progress=True, start_from=(dit, enc))
print("seconds", time.perf_counter() - t, "loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, spec); encoder.save(out / TEXT_FILE); shutil.copy(src / VAE_FILE, out / VAE_FILE)
(out / "log.json").write_text(json.dumps(log))
