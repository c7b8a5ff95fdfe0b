"""How often a model's opening chunk (no context yet, so the same under every policy) draws two subjects: per model,
over stream seeds 0..N-1 of an opening prompt, the share of openings with at least one frame showing two or more
subjects of the prompted colour (`count_subjects`, as `gf eval long`'s extra_subject counts them), and which seeds.

Run from the repository root:
  python docs/experiments/2026-12-07-fifteenth/doubled_openings.py N MODEL [MODEL ...]
"""
import sys

from gf_runtime import load_pipeline
from gf_runtime.world.evaluate import count_subjects
from gf_runtime.world.prompt import parse_prompt

OPENINGS = ("a red ball bouncing in the grassland by day with a static camera",  # the standard schedule's
            "a blue cube bouncing in the grassland by day with a static camera",
            "a red ball still in the grassland by day with a static camera")
n_seeds = int(sys.argv[1])
for model in sys.argv[2:]:
    pipe = load_pipeline(model)
    for opening in OPENINGS:
        attrs = parse_prompt(opening)
        doubled = []
        for seed in range(n_seeds):
            with pipe.session(prompt=opening, seed=seed) as session:
                frames = session.next_chunk().frames  # (F, H, W, 3)
            if any(count_subjects(f, attrs.color, attrs.night, attrs.biome) >= 2 for f in frames):
                doubled.append(seed)
        print(f"{model} | {opening!r} | doubled openings {len(doubled)}/{n_seeds} = {len(doubled) / n_seeds:.1%} | "
              f"seeds {doubled[:12]}")
