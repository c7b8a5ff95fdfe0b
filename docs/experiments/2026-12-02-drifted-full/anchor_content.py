"""What the GCM's anchors show during a `grounded` stream of the standard schedule, against what is generated.

Run from the repository root: python anchor_content.py MODEL_DIR SEEDS. Per stride of chunks, prints the
fraction of anchor frames (their stored clean latents, decoded) and of generated frames that the classifier reads
as the opening subject (the red ball: shape and colour), and for each seed the distinct sets of frames the GCM held
from the fourth chunk on.
"""
import sys
import numpy as np
import torch
from gf_runtime.engine.events import events_by_chunk, load_schedule
from gf_runtime.engine.stream import opening_prompt
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.memory.stream_memory import SlotRole
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import stream_chunks
from gf_runtime.world.prompt import COLORS, SHAPES

torch.set_num_threads(2)
model_dir, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
pipe = load_pipeline(model_dir)
classifier = load_classifier()
schedule = load_schedule("examples/eval_schedule.json")
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, pipe.spec.sampler.chunk_frames)
by_chunk = events_by_chunk(schedule)
want_shape, want_color = SHAPES.index("ball"), COLORS.index("red")
anchor_ok = np.zeros(n_chunks); gen_ok = np.zeros(n_chunks); anchor_n = np.zeros(n_chunks)
held: dict[int, set[tuple[int, ...]]] = {}


def is_subject(frames):
    p = classifier.predict(frames)
    return (p.shape == want_shape) & (p.color == want_color)


for seed in seeds:
    memory = pipe.memory_config("grounded")
    with pipe.session(prompt=opening_prompt(None, schedule), seed=seed, memory=memory) as session:
        for index in range(n_chunks):
            for event in by_chunk.get(index, []):
                if index and event.text is not None:
                    session.set_prompt(event.text)
            chunk = session.next_chunk()
            gen_ok[index] += is_subject(chunk.frames).mean()
            slots = session.memory.slots_with_role(SlotRole.ANCHOR)
            if index >= 3:
                held.setdefault(seed, set()).add(tuple(session.memory.anchor_frame_indices()))
            if slots:
                latents = torch.stack([session.memory.record(s).latent_bchw for s in slots], dim=1)
                anchor_ok[index] += is_subject(pipe.codec.decode(latents)[0]).mean()
                anchor_n[index] += 1
stride = 4
for start in range(0, n_chunks, stride):
    sl = slice(start, start + stride)
    a = anchor_ok[sl].sum() / max(1, anchor_n[sl].sum())
    print(f"chunks {start:2d}-{min(n_chunks, start + stride) - 1:2d}: anchors red ball {a:.2f}   generated red ball {gen_ok[sl].mean() / len(seeds):.2f}")
for seed, sets in held.items():
    print(f"seed {seed}: anchor frames held from chunk 3 on: {sorted(sets)}")
