"""Recache at a prompt switch: which frames are re-encoded, against what, and how much of the result is kept."""

from __future__ import annotations

from dataclasses import dataclass


def apr_alphas(distances: list[int], alpha_max: float, distance_scale: float) -> list[float]:
    """Asymmetric Proximity Recache blend weights: α = clip(min(α_max, 1 - d/D), 0, 1) per frame.

    distances: each frame's distance in latent frames from the newest frame (0 = newest).
    """
    return [max(0.0, min(alpha_max, 1.0 - d / distance_scale)) for d in distances]


@dataclass(frozen=True)
class RecachePlan:
    """Re-encode ``target_slots`` (their stored clean latents, at t=0, with the new prompt) at ``target_pos``,
    attending to ``context_slots`` at ``context_pos``; then blend K/V per target frame: (1-α)·old + α·new."""

    target_slots: tuple[int, ...]
    target_pos: tuple[int, ...]
    alphas: tuple[float, ...]
    context_slots: tuple[int, ...]
    context_pos: tuple[int, ...]
