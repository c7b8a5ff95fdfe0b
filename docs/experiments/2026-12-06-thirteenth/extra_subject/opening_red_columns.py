"""Streams that open with two red subjects: per seed, the share of the first N_CHUNKS chunks' frames (grounded, the
standard schedule unless given) with two or more runs of red columns, against the renderer's frames. A rough count
(it does not read around the frame's edge); `gf eval long`'s extra_subject is the metric.

Run from the repository root: python docs/experiments/2026-12-06-thirteenth/extra_subject/opening_red_columns.py MODEL [SCHEDULE] [N_CHUNKS]
"""
import sys
import numpy as np
from gf_runtime import load_pipeline
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.evaluate import EVAL_POLICIES, render_truth
schedule = load_schedule(sys.argv[2] if len(sys.argv) > 2 else "examples/eval_schedule.json")
N_CHUNKS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
settings = dict(EVAL_POLICIES["grounded"])
pipe = load_pipeline(sys.argv[1], policy=str(settings["policy"]))
def blobs(frames):
    f = frames.astype(int)
    red = (f[..., 0] > 150) & (f[..., 1] < 90) & (f[..., 2] < 90)
    out = []
    for m in red:
        cols = np.concatenate([[0], (m.sum(axis=0) >= 2).astype(int), [0]])
        edges = np.flatnonzero(np.diff(cols))
        runs = edges[1::2] - edges[0::2]
        out.append(int(np.sum(runs >= 4)))
    return np.array(out)
two = []
for seed in range(32):
    kept = []
    run_stream(pipe, None, N_CHUNKS, seed=seed, schedule=schedule, memory=pipe.memory_config(**settings),
               on_chunk=lambda c: kept.append(c.frames), progress=False)
    gen = blobs(np.concatenate(kept)); truth = blobs(render_truth(schedule, N_CHUNKS, pipe.spec.sampler.chunk_frames, seed))
    two.append(np.mean(gen >= 2))
    print(seed, "generated >=2 blobs", f"{np.mean(gen >= 2):.2f}", "truth >=2", f"{np.mean(truth >= 2):.2f}", flush=True)
print("seeds with any frame of two or more:", sum(t > 0 for t in two), "of", len(two), "mean share", f"{np.mean(two):.3f}")
