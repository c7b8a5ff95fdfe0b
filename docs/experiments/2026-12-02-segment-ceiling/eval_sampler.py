"""`gf eval long` on the standard schedule with another sampler in place of the checkpoint's own.

Run from the repository root: python eval_sampler.py MODEL_DIR STEPS SHIFT SEEDS POLICIES OUT_JSON
(STEPS: comma-separated timesteps before warping, e.g. 1000,875,750,625,500,375,250,125).
"""
import dataclasses
import json
import sys
import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.sampling.sampler import ChunkSampler
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import evaluate_long_seeds, markdown_table

torch.set_num_threads(2)
model_dir, steps, shift, seeds, policies, out = sys.argv[1:7]
pipe = load_pipeline(model_dir)
config = dataclasses.replace(pipe.spec.sampler, denoising_steps=tuple(float(s) for s in steps.split(",")), shift=float(shift))
pipe.spec = dataclasses.replace(pipe.spec, sampler=config)  # what the stream reports matches what it runs
pipe.sampler = ChunkSampler(pipe.chunk_model, config, pipe.sampler.shape)
report = evaluate_long_seeds(pipe, load_classifier(), load_schedule("examples/eval_schedule.json"), policies.split(","),
                             [int(s) for s in seeds.split(",")], progress=False)
print(markdown_table(report))
json.dump({"model": model_dir, "schedule": "examples/eval_schedule.json", "sampler": {"denoising_steps": config.denoising_steps, "shift": config.shift},
           **{k: v for k, v in report.items() if not k.startswith("_")}}, open(out, "w"), indent=2)
