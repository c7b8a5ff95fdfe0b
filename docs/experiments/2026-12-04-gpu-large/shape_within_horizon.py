"""Within the horizon: the share of generated frames whose subject shape the classifier reads as prompted.

Run from the repository root: python docs/experiments/2026-12-04-gpu-large/shape_within_horizon.py MODEL [MODEL ...]
The prompts of EVAL.md's "Why: the model cannot draw a bouncing non-ball shape": "a {subject} {motion} in the
grassland by day with a static camera", stream seeds 0-5, the first 4 chunks (12 frames), policy `grounded`.
With `--steps 4,8,16` (the 2026-12-04 sampler probe, `docs/experiments/2026-12-04-gpu-batch/steps_probe.txt`): only
the bouncing subjects, once per number of denoising steps, spaced evenly from 1000 down (then warped by the
sampler's shift, as the shipped four are).
"""
import dataclasses
import sys

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.sampling.sampler import ChunkSampler
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.prompt import SHAPES

SUBJECTS = ("blue cube", "yellow star", "green triangle", "red ball")
MOTIONS = ("bouncing", "still", "moving left")
judge = load_classifier()
args = sys.argv[1:]
step_counts = None
if "--steps" in args:
    at = args.index("--steps")
    step_counts = [int(n) for n in args[at + 1].split(",")]
    del args[at:at + 2]


def with_steps(pipe, n_steps):
    """The pipeline sampling with ``n_steps`` denoising steps instead of its own."""
    steps = tuple(float(t) for t in np.linspace(1000, 1000 / n_steps, n_steps))
    sampler = dataclasses.replace(pipe.spec.sampler, denoising_steps=steps)
    pipe.spec = dataclasses.replace(pipe.spec, sampler=sampler)
    pipe.sampler = ChunkSampler(pipe.chunk_model, sampler, pipe.sampler.shape)
    return pipe


def shape_right(pipe, subject, motion):
    right = []
    for seed in range(6):
        with pipe.session(prompt=f"a {subject} {motion} in the grassland by day with a static camera", seed=seed) as s:
            frames = np.concatenate([s.next_chunk().frames for _ in range(4)])
        right.append(np.mean(judge.predict(frames).shape == SHAPES.index(subject.split()[1])))
    return f"{np.mean(right):.2f}"


for model in args:
    if step_counts is None:
        pipe = load_pipeline(model, policy="grounded")
        print(f"| {model} | " + " | ".join(f"{s} {m}" for m in MOTIONS for s in SUBJECTS) + " |")
        print("| shape right | " + " | ".join(shape_right(pipe, s, m) for m in MOTIONS for s in SUBJECTS) + " |")
        continue
    print(f"| model | denoising steps | " + " | ".join(f"{s} bouncing" for s in SUBJECTS) + " |")
    for n_steps in step_counts:
        pipe = with_steps(load_pipeline(model, policy="grounded"), n_steps)
        print(f"| {model} | {n_steps} | " + " | ".join(shape_right(pipe, s, "bouncing") for s in SUBJECTS) + " |")
