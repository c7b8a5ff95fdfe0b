"""Train the DiT and text encoder from scratch by the shipped recipe with one or more WorldTrainConfig fields
changed, on the shipped VAE (the recipe's own VAE stage is skipped: it saves its 12 minutes and keeps the VAE
out of the comparison); write a loadable model folder.

Run from the repository root: python docs/experiments/2026-12-03-reserved-full/train.py OUT_DIR [vae_file=PATH] FIELD=VALUE ...
(the EVAL.md run: OUT_DIR reserve_anchor_positions=True, on the third training's VAE, the shipped one until
2026-12-03: `git show 6874096:gf_runtime/assets/default/vae.safetensors`; the 2026-12-04 run: OUT_DIR
vae_file=the VAE of `gf train world --recipe large --device cuda`, no field changed).
"""
import ast, dataclasses, json, shutil, sys, time
from pathlib import Path
import torch
from gf_runtime.model.checkpoint import save_checkpoint
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.vae import TinyVae
from gf_runtime.world.train import WORLD_RECIPES, train_dit
from gf_runtime.machine import machine_description

torch.set_num_threads(2)
src = Path("gf_runtime/assets/default")
out = Path(sys.argv[1])
args = dict(arg.split("=", 1) for arg in sys.argv[2:])
vae_file = Path(args.pop("vae_file", src / VAE_FILE))
changes = {k: ast.literal_eval(v) for k, v in args.items()}
cfg = dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], **{"seed": 0, "bf16_autocast": True, **changes})
vae = TinyVae.load(vae_file)
t = time.perf_counter()
model, encoder, log = train_dit(cfg, vae, progress=True)
seconds = time.perf_counter() - t
print("seconds", seconds, "loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, cfg.spec()); encoder.save(out / TEXT_FILE)
shutil.copy(vae_file, out / VAE_FILE)
(out / "log.json").write_text(json.dumps({"config": dataclasses.asdict(cfg), "changes": changes, "vae": str(vae_file), "dit_seconds": seconds,
                                          "machine": machine_description(torch.device("cpu")), "dit": log}))
