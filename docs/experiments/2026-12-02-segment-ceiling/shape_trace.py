"""Which shape the classifier reads in each chunk of a long stream, and where in the frame the wrong ones are.

Run from the repository root: python shape_trace.py MODEL_DIR SEEDS POLICIES [SCHEDULE] (default the standard
schedule; POLICIES are `gf eval long` variant names). Per seed and policy, one letter per chunk (the first letter
of the shape read by the majority of the chunk's frames; `|` where the schedule switches). Then, over every frame,
a histogram of the subject's x position (8 bins across the frame) for frames whose shape is the opening prompt's
and for those whose shape is not.
"""
import sys
import numpy as np
import torch
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.world.classifier import load_classifier
from gf_runtime.engine.stream import opening_prompt, run_stream
from gf_runtime.world.evaluate import EVAL_POLICIES, schedule_targets, stream_chunks
from gf_runtime.world.prompt import SHAPES, parse_prompt
from gf_runtime.world.render import FRAME_SIZE

torch.set_num_threads(2)
model_dir, seeds, policies = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3].split(",")
pipe = load_pipeline(model_dir)
classifier = load_classifier()
schedule = load_schedule(sys.argv[4] if len(sys.argv) > 4 else "examples/eval_schedule.json")
C = pipe.spec.sampler.chunk_frames
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, C)
subject = SHAPES.index(parse_prompt(opening_prompt(None, schedule)).shape)
switches = set(schedule_targets(schedule, n_chunks).switch_chunks)
x_right: list[float] = []
x_wrong: list[float] = []
for seed in seeds:
    for policy in policies:
        kept: list[np.ndarray] = []
        run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=pipe.memory_config(**EVAL_POLICIES[policy]),
                   on_chunk=lambda c: kept.append(c.frames), progress=False)
        pred = classifier.predict(np.concatenate(kept))
        letters = "".join(SHAPES[int(np.bincount(pred.shape[i * C:(i + 1) * C], minlength=len(SHAPES)).argmax())][0]
                          for i in range(n_chunks))
        print(seed, f"{policy:13s}", "".join(("|" if i in switches else "") + letter for i, letter in enumerate(letters)), flush=True)
        right = pred.shape == subject
        x_right += list(pred.x[right])
        x_wrong += list(pred.x[~right])
hist = lambda values: np.histogram(values, bins=8, range=(0, FRAME_SIZE))[0]  # noqa: E731
print("x of frames with the shape right:", hist(x_right))
print("x of frames with the shape wrong:", hist(x_wrong))
