"""Fine-tune the shipped default DiT with its anchor-layout clips' anchors at another temporal position; write a
loadable model folder.

Run from the repository root: python finetune.py OUT_DIR STEPS POSITION (POSITION 0: the control, the shipped
layout). The anchor-distance sweep (../2026-12-03-anchor-distance/) found that anchors moved to distances no
training clip had are read more and score higher, erratically; this asks whether *training* a far anchor position
makes it work. Contiguous clips are unchanged (positions 0..H-1, 70% of batches); the anchor-layout clips (30%) put
their first chunk at POSITION instead of 0 and the rest at C..H-1, as DR-RoPE would at inference with
``anchor_position = POSITION``. Positions below 0 are outside what `MemoryConfig` accepts; the option is not in
`WorldTrainConfig`, so this script sets it by wrapping ``clip_positions`` as `train_dit` sees it. Fine-tune settings
as in the earlier experiments: bf16, lr 2e-4 after 50 warm-up steps, EMA 0.998, data seed 7.
"""
import functools, json, shutil, sys, time
from pathlib import Path
import torch
import gf_runtime.world.train as world_train
from gf_runtime.model.checkpoint import read_tensors, load_weights, save_checkpoint
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.world.clips import clip_positions
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae

torch.set_num_threads(2)
src = Path("gf_runtime/assets/default")
out, steps, position = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
world_train.clip_positions = functools.partial(clip_positions, anchor_position=position)
cfg = world_train.WorldTrainConfig(seed=7, dit_steps=steps, warmup_steps=50, dit_lr=2e-4, bf16_autocast=True)
spec = cfg.spec()
dit = CausalWanDiT(spec.model)
load_weights(dit, read_tensors(src / MODEL_FILE))
enc, vae = WorldTextEncoder.load(src / TEXT_FILE), TinyVae.load(src / VAE_FILE)
start = time.perf_counter()
model, encoder, log = world_train.train_dit(cfg, vae, progress=True, start_from=(dit, enc))
seconds = time.perf_counter() - start
print("seconds", seconds, "loss", log[-1])
out.mkdir(parents=True, exist_ok=True)
save_checkpoint(out / MODEL_FILE, model, spec)
encoder.save(out / TEXT_FILE)
shutil.copy(src / VAE_FILE, out / VAE_FILE)
(out / "log.json").write_text(json.dumps({"seconds": seconds, "anchor_position": position, "log": log}))
