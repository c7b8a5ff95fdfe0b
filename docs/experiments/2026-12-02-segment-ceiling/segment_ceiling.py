"""Where the long streams lose the subject, against what the model can draw at all.

Run from the repository root: python segment_ceiling.py MODEL_DIR SEEDS [POLICIES [SCHEDULE]] (POLICIES
comma-separated, "-" for none; SCHEDULE defaults to examples/eval_schedule.json).
For each segment of the schedule (between two switches), prints:
- per policy, the long stream's consistency and identity (shape and colour) in that segment, and its shape and
  colour accuracy separately;
- the ceiling: a fresh `self_forcing` stream opened with the segment's merged prompt written out in full (every
  attribute named, so no memory is needed), scored over its first 4 chunks (one training horizon).
A segment where every policy is near the ceiling is limited by the model; one far below it, by memory.
"""
import math
import sys
import numpy as np
import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import EVAL_POLICIES, schedule_targets, stream_chunks
from gf_runtime.world.prompt import BIOMES, COLORS, SHAPES

torch.set_num_threads(2)
model_dir, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
policies = sys.argv[3].split(",") if len(sys.argv) > 3 else ["self_forcing", "grounded"]
policies = [] if policies == ["-"] else policies
schedule_file = sys.argv[4] if len(sys.argv) > 4 else "examples/eval_schedule.json"
pipe = load_pipeline(model_dir)
classifier = load_classifier()
schedule = load_schedule(schedule_file)
C = pipe.spec.sampler.chunk_frames
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, C)
targets = schedule_targets(schedule, n_chunks)
bounds = [0] + targets.switch_chunks + [n_chunks]
segments = list(zip(bounds[:-1], bounds[1:]))


def scores(frames, prompts):
    p = classifier.predict(frames)
    biome = p.biome == np.array([BIOMES.index(t.biome) for t in prompts])
    color = p.color == np.array([COLORS.index(t.color) for t in prompts])
    shape = p.shape == np.array([SHAPES.index(t.shape) for t in prompts])
    return biome, color, shape


def collect(prompt, chunks, seed, memory, schedule=()):
    kept = []
    run_stream(pipe, prompt, chunks, seed=seed, schedule=schedule, memory=memory, on_chunk=lambda c: kept.append(c.frames), progress=False)
    return np.concatenate(kept)


rows = {name: np.zeros((len(segments), 4)) for name in policies + ["ceiling"]}  # consistency, identity, colour, shape
for seed in seeds:
    for name in policies:
        knobs = dict(EVAL_POLICIES[name])
        memory = pipe.memory_config(str(knobs.pop("policy")), **knobs)
        frames = collect(None, n_chunks, seed, memory, schedule)
        prompts = [targets.prompts[i // C] for i in range(len(frames))]
        biome, color, shape = scores(frames, prompts)
        for k, (a, b) in enumerate(segments):
            sl = slice(a * C, b * C)
            rows[name][k] += [(biome & color & shape)[sl].mean(), (color & shape)[sl].mean(), color[sl].mean(), shape[sl].mean()]
    for k, (a, b) in enumerate(segments):
        target = targets.prompts[a]
        frames = collect(target.text(), math.ceil(pipe.spec.horizon_frames / C), seed, pipe.memory_config("self_forcing"))
        biome, color, shape = scores(frames, [target] * len(frames))
        rows["ceiling"][k] += [(biome & color & shape).mean(), (color & shape).mean(), color.mean(), shape.mean()]
print(f"{len(seeds)} seeds; per segment: consistency / identity / colour / shape")
totals = {name: np.zeros(4) for name in rows}
for k, (a, b) in enumerate(segments):
    line = f"chunks {a:2d}-{b - 1:2d} {targets.prompts[a].text()!r}"
    print(line)
    for name, table in rows.items():
        c, i, col, sh = table[k] / len(seeds)
        print(f"    {name:28s} {c:.3f} / {i:.3f} / {col:.3f} / {sh:.3f}")
        totals[name] += table[k] / len(seeds) * (b - a)
print("all chunks (ceiling: segments weighted by their length)")
for name, total in totals.items():
    c, i, col, sh = total / n_chunks
    print(f"    {name:28s} {c:.3f} / {i:.3f} / {col:.3f} / {sh:.3f}")
