"""`gf eval long` for `grounded` with its DR-RoPE anchors at other fixed temporal positions: a sweep of how far the
anchors sit from the chunk, with everything else (local frames and chunk pinned inside the horizon) unchanged.

Run from the repository root: python eval_anchor_distance.py MODEL_DIR SCHEDULE SEEDS OUT_DIR POSITION,POSITION,... [only]
(`only`: leave out the two reference rows, `grounded` and `grounded-no-dr-rope`).
The chunk sits at positions H-C..H-1 (9..11 for the default model), so an anchor at position P is 9-P to 11-P
frames away. Positions below 0 are outside what `MemoryConfig` accepts (DR-RoPE keeps every index in [0, H)); this
probe sets them past that check, on purpose: they put the anchors at a fixed distance no training clip had, as
`grounded` without DR-RoPE does with a distance that grows with the stream. Writes what `gf eval long --out` writes.
"""
import sys
from pathlib import Path

import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import EVAL_POLICIES, evaluate_long_seeds, markdown_table, write_report

torch.set_num_threads(2)
model_dir, schedule_file, seeds, out, positions = sys.argv[1:6]
pipe = load_pipeline(model_dir)
checked_memory_config = pipe.memory_config


def memory_config(policy=None, anchor_position=None, **overrides):
    memory = checked_memory_config(policy, **overrides)
    if anchor_position is not None:
        object.__setattr__(memory, "anchor_position", int(anchor_position))  # past the [0, H) check (see above)
    return memory


pipe.memory_config = memory_config
references = () if sys.argv[6:] == ["only"] else ("grounded", "grounded-no-dr-rope")
variants = {name: EVAL_POLICIES[name] for name in references}
for position in positions.split(","):
    variants[f"grounded-anchors-at-{position}"] = {"policy": "grounded", "anchor_position": int(position)}
report = evaluate_long_seeds(pipe, load_classifier(), load_schedule(schedule_file), tuple(variants),
                             seeds=[int(s) for s in seeds.split(",")], progress=False, variants=variants)
report["variants"] = variants
write_report(report, Path(out), pipe.spec.sampler.chunk_frames)
print(markdown_table(report))
