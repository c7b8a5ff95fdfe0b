"""Round-trip error of VAEs on 256 random frames of stream 99, half of them bouncing (a training report's check uses
64 frames of that stream, none placed in a bounce), over the whole frame and inside the subject's box (where a blur
costs the shape), in grey levels.

Run from the repository root: python docs/experiments/2026-12-06-training-speed/round_trip_error.py VAE_FILE [VAE_FILE ...]
"""
import sys

import numpy as np

from gf_runtime.world.clips import subject_cells
from gf_runtime.world.render import FRAME_SIZE, SUBJECT_SIZE_FRACTION
from gf_runtime.world.train import _vae_batch
from gf_runtime.world.vae import TinyVae

frames_nhw3, subject_xy = _vae_batch(np.random.default_rng(99), 256, bounce_fraction=0.5)
subject_nhw = subject_cells(subject_xy, FRAME_SIZE * SUBJECT_SIZE_FRACTION, FRAME_SIZE, cell=1)
for path in sys.argv[1:]:
    vae = TinyVae.load(path)
    recon = vae.decode(vae.encode(frames_nhw3[:, None]))[:, 0]
    error_nhw = np.abs(recon.astype(np.float32) - frames_nhw3.astype(np.float32)).mean(axis=-1)
    print(f"{path}: whole frame {error_nhw.mean():.2f}, subject box {error_nhw[subject_nhw].mean():.2f} grey levels "
          f"(256 frames, half bouncing)")
