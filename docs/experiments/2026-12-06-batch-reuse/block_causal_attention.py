"""The DiT's block-causal self-attention in training (batch 16, 4 heads of 48, 12 frames of 16 tokens in chunks of 3
frames, fp32 as `attend` runs it on a CPU), forward and forward + backward, ms a call, three ways: one SDPA call with
the bool block-causal mask (what the model does), one unmasked SDPA call per query chunk over its prefix of keys (the
same result), and explicit matmuls + masked softmax.

Run from the repository root:  python docs/experiments/2026-12-06-batch-reuse/block_causal_attention.py
"""
import time

import torch
import torch.nn.functional as F

from gf_runtime.model.dit import block_causal_mask

torch.set_num_threads(2)
B, S, H, D, CHUNK_TOKENS = 16, 192, 4, 48, 48
mask_qk = block_causal_mask(12, 16, 3, torch.device("cpu"))


def masked(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask_qk)


def per_chunk_prefix(q, k, v):
    return torch.cat([F.scaled_dot_product_attention(q[:, :, c:c + CHUNK_TOKENS], k[:, :, :c + CHUNK_TOKENS],
                                                     v[:, :, :c + CHUNK_TOKENS]) for c in range(0, S, CHUNK_TOKENS)], 2)


def matmuls(q, k, v):
    scores = (q @ k.transpose(-1, -2)) * D ** -0.5
    return scores.masked_fill(~mask_qk, float("-inf")).softmax(-1) @ v


def ms_a_call(fn, n=30):
    q, k, v = (torch.randn(B, H, S, D, requires_grad=True) for _ in range(3))
    grad = torch.randn(B, H, S, D)
    for _ in range(3):
        fn(q, k, v).backward(grad)
    t = time.perf_counter()
    for _ in range(n):
        fn(q, k, v)
    forward = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        fn(q, k, v).backward(grad)
    return forward * 1000, (time.perf_counter() - t) / n * 1000


q, k, v = (torch.randn(B, H, S, D) for _ in range(3))
for name, fn in [("masked SDPA", masked), ("per-chunk prefix SDPA", per_chunk_prefix), ("matmuls", matmuls)]:
    diff = (fn(q, k, v) - masked(q, k, v)).abs().max().item()
    print(f"{name}: forward %.2f ms, forward + backward %.2f ms; max difference from masked SDPA {diff:.1e}" % ms_a_call(fn))
