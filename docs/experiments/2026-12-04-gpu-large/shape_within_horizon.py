"""Within the horizon: the share of generated frames whose subject shape the classifier reads as prompted.

Run from the repository root: python docs/experiments/2026-12-04-gpu-large/shape_within_horizon.py MODEL [MODEL ...]
The prompts of EVAL.md's "Why: the model cannot draw a bouncing non-ball shape": "a {subject} {motion} in the
grassland by day with a static camera", stream seeds 0-5, the first 4 chunks (12 frames), policy `grounded`.
"""
import sys

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.prompt import SHAPES

SUBJECTS = ("blue cube", "yellow star", "green triangle", "red ball")
MOTIONS = ("bouncing", "still", "moving left")
judge = load_classifier()
for model in sys.argv[1:]:
    pipe = load_pipeline(model, policy="grounded")
    print(f"| {model} | " + " | ".join(f"{s} {m}" for m in MOTIONS for s in SUBJECTS) + " |")
    cells = []
    for motion in MOTIONS:
        for subject in SUBJECTS:
            right = []
            for seed in range(6):
                with pipe.session(prompt=f"a {subject} {motion} in the grassland by day with a static camera", seed=seed) as s:
                    frames = np.concatenate([s.next_chunk().frames for _ in range(4)])
                right.append(np.mean(judge.predict(frames).shape == SHAPES.index(subject.split()[1])))
            cells.append(f"{np.mean(right):.2f}")
    print("| shape right | " + " | ".join(cells) + " |")
