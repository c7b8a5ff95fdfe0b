"""Which shape the classifier reads in each chunk of a long stream, and where in the frame the wrong ones are.

Run from the repository root: python shape_trace.py MODEL_DIR SEEDS POLICIES. Per seed and policy, one letter per
chunk of the standard schedule (b ball, c cube, s star, t triangle: the majority over the chunk's frames; `|` every
8 chunks, where the schedule switches). Then, over every frame, a histogram of the subject's x position (8 bins of
8 px across the 64 px frame) for frames whose shape is right and for those whose shape is wrong.
"""
import sys
import numpy as np
import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import stream_chunks
from gf_runtime.world.prompt import SHAPES

torch.set_num_threads(2)
model_dir, seeds, policies = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3].split(",")
pipe = load_pipeline(model_dir)
classifier = load_classifier()
schedule = load_schedule("examples/eval_schedule.json")
C = pipe.spec.sampler.chunk_frames
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, C)
ball = SHAPES.index("ball")
x_right: list[float] = []
x_wrong: list[float] = []
for seed in seeds:
    for policy in policies:
        kept: list[np.ndarray] = []
        run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=pipe.memory_config(policy),
                   on_chunk=lambda c: kept.append(c.frames), progress=False)
        pred = classifier.predict(np.concatenate(kept))
        letters = "".join("bcst"[int(np.bincount(pred.shape[i * C:(i + 1) * C], minlength=len(SHAPES)).argmax())]
                          for i in range(n_chunks))
        print(seed, f"{policy:13s}", "|".join(letters[i:i + 8] for i in range(0, n_chunks, 8)), flush=True)
        right = pred.shape == ball
        x_right += list(pred.x[right])
        x_wrong += list(pred.x[~right])
hist = lambda values: np.histogram(values, bins=8, range=(0, 64))[0]  # noqa: E731
print("x of frames with the shape right:", hist(x_right))
print("x of frames with the shape wrong:", hist(x_wrong))
