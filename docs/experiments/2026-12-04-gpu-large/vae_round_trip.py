"""Round trip (encode, decode, classify) of bouncing and still subjects through two VAEs, the shape read right.

Run from the repository root: python docs/experiments/2026-12-04-gpu-large/vae_round_trip.py VAE_FILE [VAE_FILE ...]
The frames: "a {colour} {shape} {motion} in the grassland by day with a static camera", stream seeds 0-5 and
100-105, 24 rendered frames each (the frames EVAL.md's "Two tests of why" used).
"""
import sys

import numpy as np

from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.prompt import SHAPES
from gf_runtime.world.render import WorldSim
from gf_runtime.world.vae import TinyVae

SUBJECTS = ("blue cube", "yellow star", "green triangle", "red ball")
judge = load_classifier()
for path in sys.argv[1:]:
    vae = TinyVae.load(path)
    for seeds in (range(6), range(100, 106)):
        row = []
        for motion in ("bouncing", "still"):
            for subject in SUBJECTS:
                frames = np.concatenate([WorldSim(f"a {subject} {motion} in the grassland by day with a static camera",
                                                  seed=s).clip(24)[0] for s in seeds])
                recon = vae.decode(vae.encode(frames[None]))[0]
                row.append(float(np.mean(judge.predict(recon).shape == SHAPES.index(subject.split()[1]))))
        print(path, f"seeds {seeds.start}-{seeds.stop - 1}", "bouncing", [f"{v:.2f}" for v in row[:4]],
              "still", [f"{v:.2f}" for v in row[4:]])
