"""Norms and the timestep embedding; the numerically sensitive parts run in fp32 whatever the model dtype."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Wan's q/k norm: normalise in fp32, cast back, then scale by a weight."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return normed.type_as(x) * self.weight


class FP32LayerNorm(nn.LayerNorm):
    """LayerNorm computed in fp32 and cast back (Wan's ``WanLayerNorm``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.float() if self.weight is not None else None
        bias = self.bias.float() if self.bias is not None else None
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps).type_as(x)


def sinusoidal_embedding(t: torch.Tensor, freq_dim: int) -> torch.Tensor:
    """Wan's timestep embedding of raw 0–1000 timesteps: [cos | sin] of t·10000^(−k/half), in float64.

    t: any shape (...) → (..., freq_dim) float32.
    """
    half = freq_dim // 2
    exponents = torch.arange(half, dtype=torch.float64, device=t.device) / half
    angles = t.to(torch.float64).unsqueeze(-1) * torch.pow(10000.0, -exponents)  # (..., half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1).float()


def gelu_tanh() -> nn.GELU:
    return nn.GELU(approximate="tanh")


def init_random_weights(module: nn.Module, seed: int) -> None:
    """Deterministic random init for preset weights (same seed, same weights on every machine)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(module.named_parameters()):
            if name.endswith("modulation"):
                values = torch.randn(param.shape, generator=gen) / math.sqrt(param.shape[-1])
            elif param.ndim == 1 and ("norm" in name):
                values = torch.ones(param.shape) if name.endswith("weight") else torch.zeros(param.shape)
            elif param.ndim == 1:
                values = torch.zeros(param.shape)
            else:
                fan_in = param[0].numel()
                values = torch.randn(param.shape, generator=gen) / math.sqrt(fan_in)
            param.copy_(values.to(param.dtype))
