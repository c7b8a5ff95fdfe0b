"""Self- and cross-attention; ``attend`` is the single scaled_dot_product_attention call site."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gf_runtime.model.layers import RMSNorm
from gf_runtime.model.rope import apply_rope


def attend(
    q_bshd: torch.Tensor, k_bshd: torch.Tensor, v_bshd: torch.Tensor, mask_qk: torch.Tensor | None = None
) -> torch.Tensor:
    """SDPA over (B, S, heads, head_dim) tensors; mask_qk is a bool (Sq, Sk) 'may attend' mask or None.

    On a CPU, reduced-precision inputs (bf16 autocast in training, bf16/fp16 weights) are attended in fp32 and
    the result cast back: PyTorch's CPU attention kernels are slower in bf16 than in fp32 at this model's sizes
    (1.6x for the block-causal self-attention and 3-5x for the short-key cross-attention, forward and backward,
    on an AMX Xeon; BENCHMARKS.md), and fp32 is the more exact of the two. GPUs keep their reduced-precision
    kernels.
    """
    on_cpu = q_bshd.device.type == "cpu"
    autocast = on_cpu and torch.is_autocast_enabled("cpu")
    if on_cpu and (autocast or any(t.dtype != torch.float32 for t in (q_bshd, k_bshd, v_bshd))):
        # Under autocast q and k arrive in fp32 (RMSNorm) and v in bf16; SDPA would cast all three to bf16.
        out_dtype = torch.get_autocast_dtype("cpu") if autocast else q_bshd.dtype
        with torch.autocast("cpu", enabled=False):
            out_bhsd = F.scaled_dot_product_attention(
                q_bshd.transpose(1, 2).float(), k_bshd.transpose(1, 2).float(), v_bshd.transpose(1, 2).float(),
                attn_mask=mask_qk,
            ).to(out_dtype)
    else:
        out_bhsd = F.scaled_dot_product_attention(
            q_bshd.transpose(1, 2), k_bshd.transpose(1, 2), v_bshd.transpose(1, 2), attn_mask=mask_qk
        )
    return out_bhsd.transpose(1, 2)  # (B, Sq, heads, head_dim)


def attend_text(q_bshd: torch.Tensor, k_blhd: torch.Tensor, v_blhd: torch.Tensor) -> torch.Tensor:
    """Cross-attention of (B, S, heads, head_dim) queries to a prompt's (B, L, heads, head_dim) keys and values.

    ``attend``, except for a CPU training step under bf16 autocast that torch.compile traces: there the scores and
    the weighted sum are two bf16 matmuls around an fp32 softmax, which inductor fuses with the casts around them,
    while the fp32 SDPA kernel stays opaque to it (a compiled step of the tiny DiT: 511 ms against 587; BENCHMARKS.md).
    Eager code (inference, export, uncompiled training) keeps ``attend``.
    """
    if not (q_bshd.device.type == "cpu" and torch.is_autocast_enabled("cpu") and torch.compiler.is_compiling()):
        return attend(q_bshd, k_blhd, v_blhd)
    dtype = torch.get_autocast_dtype("cpu")
    q, k, v = (t.transpose(1, 2).to(dtype) for t in (q_bshd, k_blhd, v_blhd))  # (B, heads, S or L, head_dim)
    scores_bhsl = torch.matmul(q, k.transpose(-1, -2)).float() * q.shape[-1] ** -0.5
    return torch.matmul(scores_bhsl.softmax(-1).to(dtype), v).transpose(1, 2)


class SelfAttention(nn.Module):
    """q/k/v/o projections with RMSNorm on q and k over the full width (before the head split and RoPE)."""

    def __init__(self, dim: int, num_heads: int, eps: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = RMSNorm(dim, eps)
        self.norm_k = RMSNorm(dim, eps)

    def project(self, x_bsd: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Unrotated q, k (normed) and v, each (B, S, heads, head_dim)."""
        shape = (*x_bsd.shape[:2], self.num_heads, self.head_dim)
        q_bshd = self.norm_q(self.q(x_bsd)).view(shape)
        k_bshd = self.norm_k(self.k(x_bsd)).view(shape)
        v_bshd = self.v(x_bsd).view(shape)
        return q_bshd, k_bshd, v_bshd

    def forward(
        self,
        x_bsd: torch.Tensor,
        cos_sd: torch.Tensor,
        sin_sd: torch.Tensor,
        memory_k_rot_bshd: torch.Tensor | None,
        memory_v_bshd: torch.Tensor | None,
        mask_qk: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Attend the chunk's tokens to (rotated memory keys ++ the chunk's own keys).

        Returns the output (B, S, dim) and the chunk's unrotated k and its v, (B, S, heads, head_dim), for the cache.
        """
        q_bshd, k_bshd, v_bshd = self.project(x_bsd)
        q_rot = apply_rope(q_bshd, cos_sd, sin_sd)
        k_rot = apply_rope(k_bshd, cos_sd, sin_sd)
        if memory_k_rot_bshd is not None:
            keys = torch.cat([memory_k_rot_bshd, k_rot], dim=1)  # (B, Sm + S, heads, head_dim)
            values = torch.cat([memory_v_bshd, v_bshd], dim=1)
        else:
            keys, values = k_rot, v_bshd
        out_bshd = attend(q_rot, keys, values, mask_qk)
        return self.o(out_bshd.flatten(2)), k_bshd, v_bshd


class CrossAttention(nn.Module):
    """Attention to the text context; its K/V depend only on the prompt and are computed once per prompt."""

    def __init__(self, dim: int, num_heads: int, eps: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = RMSNorm(dim, eps)
        self.norm_k = RMSNorm(dim, eps)

    def text_kv(self, context_bld: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """context (B, L, dim) → k, v (B, L, heads, head_dim)."""
        shape = (*context_bld.shape[:2], self.num_heads, self.head_dim)
        return self.norm_k(self.k(context_bld)).view(shape), self.v(context_bld).view(shape)

    def forward(self, x_bsd: torch.Tensor, text_k_blhd: torch.Tensor, text_v_blhd: torch.Tensor) -> torch.Tensor:
        shape = (*x_bsd.shape[:2], self.num_heads, self.head_dim)
        q_bshd = self.norm_q(self.q(x_bsd)).view(shape)
        return self.o(attend_text(q_bshd, text_k_blhd, text_v_blhd).flatten(2))
