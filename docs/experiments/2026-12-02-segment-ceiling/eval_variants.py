"""`gf eval long` for memory-policy variants that are not among `gf eval long`'s named ones.

Run from the repository root: python eval_variants.py MODEL_DIR SCHEDULE SEEDS OUT_JSON NAME=POLICY[:KNOB=VALUE...] ...
e.g. self_forcing-6-frames=self_forcing:local_frames=6 (values are read as Python literals).
"""
import ast
import json
import sys
import numpy as np
import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import render_truth, schedule_targets, score_stream, stream_chunks

torch.set_num_threads(2)
model_dir, schedule_file, seeds, out = sys.argv[1:5]
variants = {}
for spec in sys.argv[5:]:
    name, _, rest = spec.partition("=")
    policy, *knobs = rest.split(":")
    variants[name] = (policy, {k: ast.literal_eval(v) for k, v in (knob.split("=") for knob in knobs)})
pipe = load_pipeline(model_dir)
classifier = load_classifier()
schedule = load_schedule(schedule_file)
H, C = pipe.spec.horizon_frames, pipe.spec.sampler.chunk_frames
n_chunks = stream_chunks(schedule, H, C)
targets = schedule_targets(schedule, n_chunks)
per_seed: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
for seed in [int(s) for s in seeds.split(",")]:
    truth = render_truth(schedule, n_chunks, C, seed)
    for name, (policy, knobs) in variants.items():
        kept: list[np.ndarray] = []
        run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=pipe.memory_config(policy, **knobs),
                   on_chunk=lambda c: kept.append(c.frames), progress=False)
        frames = np.concatenate(kept)
        per_seed[name].append(score_stream(frames, classifier.predict(frames), targets, truth, H, C).summary())
means = {name: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for name, rows in per_seed.items()}
for name, m in means.items():
    print(f"{name:28s} consistency {m['consistency']:.3f} late {m['consistency_late']:.3f} identity {m['identity']:.3f} "
          f"drift {m['drift']:.4f} response {m['switch_response_chunks']:.2f}")
json.dump({"schedule": schedule_file, "variants": {k: {"policy": p, **kn} for k, (p, kn) in variants.items()},
           "policies": means, "per_seed": per_seed}, open(out, "w"), indent=2)
