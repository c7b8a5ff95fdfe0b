"""How often a model's opening chunk (no context yet, so the same under every policy) draws two subjects: per model,
over stream seeds 0..N-1 of an opening prompt, the share of openings with at least one frame showing two or more
subjects of the prompted colour (`count_subjects`, as `gf eval long`'s extra_subject counts them), and which seeds.
Then whether the model's VAE alone draws one: the rendered first chunks of those seeds, and the same through the
VAE's encode and decode, as shares of frames with two or more subjects.

Run from the repository root:
  python docs/experiments/2026-12-07-fifteenth/doubled_openings.py N MODEL [MODEL ...]
"""
import sys

import numpy as np

from gf_runtime import load_pipeline
from gf_runtime.world.evaluate import count_subjects
from gf_runtime.world.prompt import parse_prompt
from gf_runtime.world.render import WorldSim

OPENINGS = ("a red ball bouncing in the grassland by day with a static camera",  # the standard schedule's
            "a blue cube bouncing in the grassland by day with a static camera",
            "a red ball still in the grassland by day with a static camera")
n_seeds = int(sys.argv[1])
for model in sys.argv[2:]:
    pipe = load_pipeline(model)
    for opening in OPENINGS:
        attrs = parse_prompt(opening)

        def doubled_bf(frames_bfhw3: np.ndarray) -> np.ndarray:
            """(B, F) bool: the frame shows two or more subjects of the opening's colour."""
            return np.array([[count_subjects(f, attrs.color, attrs.night, attrs.biome) >= 2 for f in frames]
                             for frames in frames_bfhw3])

        drawn_bfhw3 = []
        for seed in range(n_seeds):
            with pipe.session(prompt=opening, seed=seed) as session:
                drawn_bfhw3.append(session.next_chunk().frames)  # (F, H, W, 3)
        doubled = np.flatnonzero(doubled_bf(np.stack(drawn_bfhw3)).any(axis=1)).tolist()
        print(f"{model} | {opening!r} | doubled openings {len(doubled)}/{n_seeds} = {len(doubled) / n_seeds:.1%} | "
              f"seeds {doubled[:12]}")
        rendered_bfhw3 = np.stack([WorldSim(opening, seed=s).clip(pipe.spec.sampler.chunk_frames)[0]
                                   for s in range(n_seeds)])
        round_trip_bfhw3 = pipe.codec.decode(pipe.codec.encode(rendered_bfhw3))
        print(f"{model} | {opening!r} | frames with two or more subjects: rendered {doubled_bf(rendered_bfhw3).mean():.1%}, "
              f"through the model's VAE {doubled_bf(round_trip_bfhw3).mean():.1%}")
