"""Flow matching: x_t = (1-σ)·x0 + σ·ε, the model predicts v = ε - x0. Pure functions, fp32."""

from __future__ import annotations

import torch


def predict_x0(x_t: torch.Tensor, flow: torch.Tensor, sigma: float) -> torch.Tensor:
    """x0 = x_t - σ·v."""
    return x_t.float() - sigma * flow.float()


def renoise(x0: torch.Tensor, noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """x_σ = (1-σ)·x0 + σ·ε (Self Forcing re-noises the prediction with fresh noise between steps)."""
    return (1.0 - sigma) * x0.float() + sigma * noise.float()
