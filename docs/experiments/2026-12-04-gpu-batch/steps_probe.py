"""Within the horizon, bouncing subjects: shape right against the number of denoising steps (the shipped sampler: 4).

Run from the repository root: python docs/experiments/2026-12-04-gpu-batch/steps_probe.py MODEL 4,8,16
Steps evenly spaced from 1000 down (then warped by the sampler's shift, as the shipped four are); prompts, seeds
(0-5), chunks (4) and policy (`grounded`) as `docs/experiments/2026-12-04-gpu-large/shape_within_horizon.py`.
"""
import dataclasses, sys
import numpy as np, torch
from gf_runtime import load_pipeline
from gf_runtime.sampling.sampler import ChunkSampler
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.prompt import SHAPES
torch.set_num_threads(2)
judge = load_classifier()
SUBJECTS = ("blue cube", "yellow star", "green triangle", "red ball")
model = sys.argv[1]
for n_steps in [int(x) for x in sys.argv[2].split(",")]:
    pipe = load_pipeline(model, policy="grounded")
    steps = tuple(float(t) for t in np.linspace(1000, 1000 / n_steps, n_steps))
    sampler_cfg = dataclasses.replace(pipe.spec.sampler, denoising_steps=steps)
    pipe.spec = dataclasses.replace(pipe.spec, sampler=sampler_cfg)
    pipe.sampler = ChunkSampler(pipe.chunk_model, sampler_cfg, pipe.sampler.shape)
    cells = []
    for subject in SUBJECTS:
        right = []
        for seed in range(6):
            with pipe.session(prompt=f"a {subject} bouncing in the grassland by day with a static camera", seed=seed) as s:
                frames = np.concatenate([s.next_chunk().frames for _ in range(4)])
            right.append(np.mean(judge.predict(frames).shape == SHAPES.index(subject.split()[1])))
        cells.append(f"{np.mean(right):.2f}")
    print(f"| {model} | {n_steps} | " + " | ".join(cells) + " |", flush=True)
