"""What the classifier reads in each segment of a scheduled stream: the share of frames whose shape and colour are
the opening subject's, and the most common wrong shape, per segment (between two events), policy `grounded` or the one given.

Run from the repository root: python docs/experiments/2026-12-05-cpu-vae/segment_readings.py [--policy NAME] SCHEDULE SEEDS MODEL [MODEL ...]
(SEEDS like 0-7). Prints a Markdown table: one row per model, one column per segment.
"""
import collections
import sys

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import EVAL_POLICIES, stream_chunks
from gf_runtime.world.prompt import COLORS, SHAPES, parse_prompt

args = sys.argv[1:]
policy = "grounded"
if args[0] == "--policy":
    policy, args = args[1], args[2:]
schedule_path, seed_range, models = args[0], args[1], args[2:]
first, last = (int(s) for s in seed_range.split("-"))
schedule = load_schedule(schedule_path)
judge = load_classifier()
opening = parse_prompt(schedule[0].text)
starts = [e.at_chunk for e in schedule]
for i, model in enumerate(models):
    settings = dict(EVAL_POLICIES[policy])  # a policy or an ablation, as gf eval long names them
    pipe = load_pipeline(model, policy=str(settings["policy"]))
    n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, pipe.spec.sampler.chunk_frames)
    cf = pipe.spec.sampler.chunk_frames
    bounds = list(zip(starts, starts[1:] + [n_chunks]))
    shape_ok, color_ok, wrong = [[] for _ in bounds], [[] for _ in bounds], [collections.Counter() for _ in bounds]
    for seed in range(first, last + 1):
        kept = []
        run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=pipe.memory_config(**settings),
                   on_chunk=lambda c: kept.append(c.frames), progress=False)
        pred = judge.predict(np.concatenate(kept))
        for k, (a, b) in enumerate(bounds):
            shapes, colors = pred.shape[a * cf:b * cf], pred.color[a * cf:b * cf]
            shape_ok[k].append(np.mean(shapes == SHAPES.index(opening.shape)))
            color_ok[k].append(np.mean(colors == COLORS.index(opening.color)))
            wrong[k].update(SHAPES[s] for s in shapes if s != SHAPES.index(opening.shape))
    if i == 0:
        print("| model | " + " | ".join(f"chunks {a}-{b - 1}: {e.text!r}" for (a, b), e in zip(bounds, schedule)) + " |")
        print("|---" * (len(bounds) + 1) + "|")
    cells = [f"shape {np.mean(s):.2f}, colour {np.mean(c):.2f}" + (f", else {w.most_common(1)[0][0]}" if w else "")
             for s, c, w in zip(shape_ok, color_ok, wrong)]
    print(f"| {model} ({policy}) | " + " | ".join(cells) + " |", flush=True)
