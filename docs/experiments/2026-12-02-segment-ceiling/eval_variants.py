"""`gf eval long` for memory-policy variants that are not among `gf eval long`'s named ones.

Run from the repository root: python eval_variants.py MODEL_DIR SCHEDULE SEEDS OUT_DIR NAME=POLICY[:KNOB=VALUE...] ...
e.g. self_forcing-6-frames=self_forcing:local_frames=6 (values are read as Python literals). Writes what
`gf eval long --out` writes (eval_long.json with per-seed values, the table, the curves and their PNG) to OUT_DIR.
`eval_long_51x_variants.json` was written by an earlier form of this script that ran the same streams through its
own copy of the loop (its per_seed is a list of summaries per variant; seeds 0-7).
"""
import ast
import sys
from pathlib import Path

import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import evaluate_long_seeds, markdown_table, write_report

torch.set_num_threads(2)
model_dir, schedule_file, seeds, out = sys.argv[1:5]
variants = {}
for spec in sys.argv[5:]:
    name, _, rest = spec.partition("=")
    policy, *knobs = rest.split(":")
    variants[name] = {"policy": policy, **{k: ast.literal_eval(v) for k, v in (knob.split("=") for knob in knobs)}}
pipe = load_pipeline(model_dir)
report = evaluate_long_seeds(pipe, load_classifier(), load_schedule(schedule_file), tuple(variants),
                             seeds=[int(s) for s in seeds.split(",")], progress=False, variants=variants)
report["variants"] = variants
write_report(report, Path(out), pipe.spec.sampler.chunk_frames)
print(markdown_table(report))
