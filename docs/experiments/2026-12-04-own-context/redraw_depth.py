"""How much of the subject survives the model redrawing its own context k times (`own_context` iterated).

Run from the repository root:
    python docs/experiments/2026-12-04-own-context/redraw_depth.py MODEL_DIR [MODEL_DIR ...]
For 48 contiguous training clips (their first three chunks as context), redraw the rendered context from sampler
step s (2: σ 0.833, 3: σ 0.625), then redraw the redraw, up to 8 times, and report how often the frame
classifier reads the same shape and colour as on the rendered frames, and the pixel error against them.
A stream's context is the model's output conditioned on its own earlier output, many chunks deep; this shows how
quickly one chunk's own redraw loses the subject when it is repeated.
"""
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

from gf_runtime.model.checkpoint import load_weights, read_tensors
from gf_runtime.model.dit import CausalWanDiT
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.clips import sample_clip
from gf_runtime.world.files import MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WORLD_RECIPES, _text_batch, own_context
from gf_runtime.world.vae import TinyVae

torch.set_num_threads(2)
DEPTHS = (1, 2, 4, 8)
cfg = WORLD_RECIPES["default-2026-11-25"]
sampler = cfg.spec().sampler
judge = load_classifier()
rng = np.random.default_rng(11)
clips = [sample_clip(rng, 12, 3, anchor_layout=False, switch_prob=0.5) for _ in range(48)]
rendered = np.stack([c.frames[:9] for c in clips])  # (B, 9, H, W, 3)
truth = judge.predict(rendered.reshape(-1, *rendered.shape[2:]))
print("model | start step | depth | shape agrees | colour agrees | pixel MAE")
for model_dir in map(Path, sys.argv[1:]):
    dit = CausalWanDiT(cfg.spec().model)
    load_weights(dit, read_tensors(model_dir / MODEL_FILE))
    dit.eval()
    encoder, vae = WorldTextEncoder.load(model_dir / TEXT_FILE), TinyVae.load(model_dir / VAE_FILE)
    text = _text_batch(encoder, clips)[:, :3]
    x0 = vae.encode(rendered).float()
    for start in (2, 3):
        gen = torch.Generator().manual_seed(0)
        drawn = x0
        for depth in range(1, max(DEPTHS) + 1):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                drawn = own_context(dit, drawn, text, torch.arange(9), 3, sampler, start, gen).float()
            if depth in DEPTHS:
                frames = vae.decode(drawn)
                seen = judge.predict(frames.reshape(-1, *frames.shape[2:]))
                mae = float(np.abs(frames.astype(np.float32) - rendered).mean())
                print(f"{model_dir.name} | {start} | {depth} | {np.mean(seen.shape == truth.shape):.3f} | "
                      f"{np.mean(seen.color == truth.color):.3f} | {mae:.1f}", flush=True)
