"""Round-trip error of VAEs, in grey levels, on 256 random frames of stream 99, half of them bouncing (the frames of
`2026-12-06-training-speed/round_trip_error.py`), by region: the whole frame, the subject's box, the frame's outer
8-pixel band (what a crop-trained VAE sees least as a frame edge) and the rest of the background.

Run from the repository root: python docs/experiments/2026-12-07-vae-crops/round_trip_regions.py VAE_FILE [VAE_FILE ...]
"""
import sys

import numpy as np

from gf_runtime.world.clips import subject_cells
from gf_runtime.world.render import FRAME_SIZE, SUBJECT_SIZE_FRACTION
from gf_runtime.world.train import _vae_batch
from gf_runtime.world.vae import TinyVae

frames_nhw3, subject_xy = _vae_batch(np.random.default_rng(99), 256, bounce_fraction=0.5)
subject_nhw = subject_cells(subject_xy, FRAME_SIZE * SUBJECT_SIZE_FRACTION, FRAME_SIZE, cell=1)
band_hw = np.ones((FRAME_SIZE, FRAME_SIZE), dtype=bool)
band_hw[8:-8, 8:-8] = False
regions = {
    "whole frame": np.ones_like(subject_nhw),
    "subject box": subject_nhw,
    "edge band": ~subject_nhw & band_hw,
    "inner background": ~subject_nhw & ~band_hw,
}
for path in sys.argv[1:]:
    vae = TinyVae.load(path)
    recon = vae.decode(vae.encode(frames_nhw3[:, None]))[:, 0]
    error_nhw = np.abs(recon.astype(np.float32) - frames_nhw3.astype(np.float32)).mean(axis=-1)
    print(path, ", ".join(f"{name} {error_nhw[mask].mean():.2f}" for name, mask in regions.items()),
          "grey levels (256 frames, half bouncing)")
