"""Where in a stream a second subject appears: per stream seed and policy, one digit per chunk, how many of the
chunk's frames show two or more subjects of the prompted colour (`count_subjects`, as `gf eval long`'s
extra_subject counts them; '-' where the biome hides the subject's colour). A second subject from the first chunk on
is the model's opening; one that appears later and stays is carried by the cache.

Run from the repository root:
  python docs/experiments/2026-12-07-fourteenth/second_subject_onset.py MODEL SEEDS [POLICIES] [SCHEDULE]
"""
import sys

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.engine.events import load_schedule
from gf_runtime.world.evaluate import UNCOUNTABLE_SUBJECTS, count_subjects, policy_stream, schedule_targets, stream_chunks

model, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
policies = sys.argv[3].split(",") if len(sys.argv) > 3 else ["grounded", "self_forcing"]
schedule = load_schedule(sys.argv[4] if len(sys.argv) > 4 else "examples/eval_schedule.json")
pipe = load_pipeline(model)
chunk_frames = pipe.spec.sampler.chunk_frames
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, chunk_frames)
targets = schedule_targets(schedule, n_chunks)
print(f"{n_chunks} chunks of {chunk_frames} frames; switches at chunks {targets.switch_chunks}")
for seed in seeds:
    for policy in policies:
        stream = policy_stream(pipe, schedule, policy, n_chunks, seed=seed)  # (N, H, W, 3)
        digits = ""
        for chunk_index, frames in enumerate(np.split(stream, n_chunks)):  # frames: (F, H, W, 3)
            p = targets.prompts[chunk_index]
            if (p.biome, p.color) in UNCOUNTABLE_SUBJECTS:
                digits += "-"
                continue
            doubled = sum(count_subjects(f, str(p.color), bool(p.night), str(p.biome)) >= 2 for f in frames)
            digits += str(doubled)
        print(f"seed {seed:2d} {policy:24s} {digits}", flush=True)
