"""Whether a VAE alone draws a second subject: rendered clips of the doubled-openings prompts (stream seeds 0..N-1,
the first 3 frames each) through encode and decode, and the share of frames `count_subjects` reads as two or more
subjects, rendered and after the round trip.

Run from the repository root:
  python docs/experiments/2026-12-07-fifteenth/round_trip_doubles.py N VAE_FILE [VAE_FILE ...]
"""
import sys

import numpy as np

from gf_runtime.world.evaluate import count_subjects
from gf_runtime.world.prompt import parse_prompt
from gf_runtime.world.render import WorldSim
from gf_runtime.world.vae import TinyVae

OPENINGS = ("a red ball bouncing in the grassland by day with a static camera",
            "a blue cube bouncing in the grassland by day with a static camera",
            "a red ball still in the grassland by day with a static camera")
n_seeds = int(sys.argv[1])
for opening in OPENINGS:
    attrs = parse_prompt(opening)
    frames_nhw3 = np.concatenate([WorldSim(opening, seed=s).clip(3)[0] for s in range(n_seeds)])
    doubled = lambda frames: np.mean([count_subjects(f, attrs.color, attrs.night, attrs.biome) >= 2 for f in frames])  # noqa: E731
    row = [f"rendered {doubled(frames_nhw3):.1%}"]
    for path in sys.argv[2:]:
        vae = TinyVae.load(path)
        row.append(f"{path} {doubled(vae.decode(vae.encode(frames_nhw3[None]))[0]):.1%}")
    print(f"{opening!r}: frames with two or more subjects: " + ", ".join(row))
