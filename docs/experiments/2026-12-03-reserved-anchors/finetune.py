"""Fine-tune the shipped default DiT with or without reserved anchor positions, and optionally with the anchor-layout
clips' anchors at another temporal position; write a loadable model folder.

Run from the repository root: python finetune.py OUT_DIR STEPS RESERVE [POSITION] (RESERVE 1: contiguous clips at
positions 3..11 only, ``WorldTrainConfig.reserve_anchor_positions``; 0: the control, the shipped layout). Everything
else is the shipped recipe's data mix (anchor layout in 30% of batches) with the fine-tune settings of the earlier
experiments (bf16, lr 2e-4 after 50 warm-up steps, EMA 0.998, data seed 7). The EVAL.md runs: 800 steps each, from
the third training (the default until 2026-12-03; `git show 6874096:gf_runtime/assets/default/...`).

POSITION (default 0, the shipped layout) puts the anchor-layout clips' first chunk at that temporal position instead
of 0, the rest at C..H-1, as DR-RoPE would at inference with ``anchor_position = POSITION``; contiguous clips are
unchanged. Positions below 0 are outside what `MemoryConfig` accepts and the option is not in `WorldTrainConfig`,
so this wraps ``clip_positions`` as `train_dit` sees it. The "Training a far anchor position" runs of EVAL.md:
``OUT 800 0 -9`` and ``OUT 800 0 0``, from the seventh training (`../2026-12-03-trained-anchor-distance/`).
"""
import dataclasses
import functools, json, shutil, sys, time
from pathlib import Path
import torch
from gf_runtime.model.checkpoint import read_tensors, load_weights, save_checkpoint
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.world import train as world_train
from gf_runtime.world.clips import clip_positions
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae
from gf_runtime.world.train import WORLD_RECIPES, train_dit

torch.set_num_threads(2)
src = Path("gf_runtime/assets/default")
out, steps, reserve = Path(sys.argv[1]), int(sys.argv[2]), bool(int(sys.argv[3]))
position = int(sys.argv[4]) if len(sys.argv) > 4 else 0
if position != 0:
    world_train.clip_positions = functools.partial(clip_positions, anchor_position=position)
cfg = dataclasses.replace(WORLD_RECIPES["default-2026-11-25"], seed=7, dit_steps=steps, warmup_steps=50, dit_lr=2e-4, bf16_autocast=True,
                       reserve_anchor_positions=reserve)
spec = cfg.spec()
dit = CausalWanDiT(spec.model)
load_weights(dit, read_tensors(src / MODEL_FILE))
enc, vae = WorldTextEncoder.load(src / TEXT_FILE), TinyVae.load(src / VAE_FILE)
start = time.perf_counter()
model, encoder, log = train_dit(cfg, vae, progress=True, start_from=(dit, enc))
seconds = time.perf_counter() - start
print("seconds", seconds, "loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, spec)
encoder.save(out / TEXT_FILE)
shutil.copy(src / VAE_FILE, out / VAE_FILE)
(out / "log.json").write_text(json.dumps({"seconds": seconds, "reserve_anchor_positions": reserve,
                                          "anchor_position": position, "log": log}))
