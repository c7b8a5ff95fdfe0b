"""Train the DiT and text encoder from scratch by the shipped recipe plus drifted-context anchor clips, on the
shipped VAE (the recipe's own VAE stage, skipped to save its 10 minutes); write a loadable model folder.

Run from the repository root: python docs/experiments/2026-12-02-drifted-full/train.py OUT_DIR
DRIFTED_CONTEXT_PROB ANCHOR_LAYOUT_PROB (the EVAL.md run: OUT_DIR 0.5 0.4, on the third training's VAE, the
shipped one until 2026-12-03: `git show 6874096:gf_runtime/assets/default/vae.safetensors`; run today, it uses
whatever VAE is shipped now).
"""
import dataclasses, json, shutil, sys, time
from pathlib import Path
import torch
from gf_runtime.model.checkpoint import save_checkpoint
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.vae import TinyVae
from gf_runtime.world.train import WORLD_RECIPES, train_dit
torch.set_num_threads(2)
src = Path("gf_runtime/assets/default")
out = Path(sys.argv[1]); drift = float(sys.argv[2]); layout = float(sys.argv[3])
cfg = dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], seed=0, bf16_autocast=True, anchor_layout_prob=layout, drifted_context_prob=drift)
vae = TinyVae.load(src / VAE_FILE)
t = time.perf_counter()
model, encoder, log = train_dit(cfg, vae, progress=True)
seconds = time.perf_counter() - t
print("seconds", seconds, "loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, cfg.spec()); encoder.save(out / TEXT_FILE)
shutil.copy(src / VAE_FILE, out / VAE_FILE)
(out / "log.json").write_text(json.dumps({"config": dataclasses.asdict(cfg), "dit_seconds": seconds, "dit": log}))
