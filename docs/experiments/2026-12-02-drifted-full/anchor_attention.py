"""Share of self-attention that a chunk's queries give to the three GCM anchor frames, per layer.

Run from the repository root: python anchor_attention.py MODEL_DIR POLICY SEEDS [ANCHOR_POSITION] (e.g. ... grounded
0,1,2,3; POLICY is an EVAL_POLICIES name; ANCHOR_POSITION, if given, is set past MemoryConfig's [0, H) check, as in
`docs/experiments/2026-12-03-anchor-distance/`). Counts only chunks whose memory is full (3 anchors + 6 local frames, so 192 keys
of 16 tokens a frame for a 48-token chunk); the anchors are the buffer's first 48 keys. Uniform attention: 0.25.
"""
import sys
import numpy as np
import torch
import torch.nn.functional as F
import gf_runtime.model.attention as attention
from gf_runtime.engine.events import load_schedule
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.world.evaluate import EVAL_POLICIES, stream_chunks

model_dir, policy, seeds = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
torch.set_num_threads(2)
pipe = load_pipeline(model_dir)
schedule = load_schedule("examples/eval_schedule.json")
n_chunks = stream_chunks(schedule, pipe.spec.horizon_frames, pipe.spec.sampler.chunk_frames)
frame_tokens = pipe.tokens_per_frame
knobs = dict(EVAL_POLICIES[policy])
memory = pipe.memory_config(str(knobs.pop("policy")), **knobs)
if len(sys.argv) > 4:
    object.__setattr__(memory, "anchor_position", int(sys.argv[4]))  # past the [0, H) check, on purpose
anchor_keys = memory.anchor_slots * frame_tokens
chunk_tokens = memory.chunk_frames * frame_tokens
full_keys = anchor_keys + memory.local_frames * frame_tokens + chunk_tokens
shares: list[float] = []  # in call order: one entry per self-attention call with a full memory
plain_attend = attention.attend


def probing_attend(q_bshd, k_bshd, v_bshd, mask_qk=None):
    if q_bshd.shape[1] == chunk_tokens and k_bshd.shape[1] == full_keys:
        q, k = q_bshd.transpose(1, 2).float(), k_bshd.transpose(1, 2).float()  # (B, heads, S, d)
        logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        if mask_qk is not None:
            logits = logits.masked_fill(~mask_qk, float("-inf"))
        shares.append(float(F.softmax(logits, dim=-1)[..., :anchor_keys].sum(-1).mean()))
    return plain_attend(q_bshd, k_bshd, v_bshd, mask_qk)


attention.attend = probing_attend
for seed in seeds:
    run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=memory, progress=False)
n_layers = len(pipe.model.blocks)
per_layer = np.array(shares[: len(shares) // n_layers * n_layers]).reshape(-1, n_layers).mean(0)
print(policy, "per layer", " ".join(f"{s:.3f}" for s in per_layer), "mean", f"{per_layer.mean():.3f}", "calls", len(shares))
