"""Global Consistency Memory (GCM) anchor selection: novelty against redundancy (METHOD.md §1).

Pure tensor logic on L2-normalised descriptors; no model, no session.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import torch


class AnchorAction(enum.Enum):
    ADMIT = "admit"  # a free slot took the frame
    REPLACE = "replace"  # the most redundant anchor was replaced
    KEEP = "keep"  # the anchors stay as they are


@dataclass(frozen=True)
class AnchorDecision:
    action: AnchorAction
    slot: int | None  # the anchor slot written (ADMIT / REPLACE), else None
    novelty: float  # Z(z) = 1 - max_a cos(z, a); 1.0 when there is no anchor yet
    redundancy: float  # R(target) = max_{j != target} cos(a_target, a_j); nan unless the GCM is full


def frame_descriptor(latent_chw: torch.Tensor) -> torch.Tensor:
    """Descriptor of a clean latent frame (C, H, W): channel means over space, L2-normalised (our choice). → (C,)"""
    pooled_c = latent_chw.float().mean(dim=(-2, -1))
    return pooled_c / pooled_c.norm().clamp_min(1e-12)


def decide_anchor_update(anchors_kd: torch.Tensor, descriptor_d: torch.Tensor, capacity: int) -> AnchorDecision:
    """The GCM update rule for one new clean frame.

    anchors_kd: (n, d) descriptors of the current anchors (n <= capacity), L2-normalised; descriptor_d: (d,).
    A free slot admits the frame. With a full GCM, the most redundant anchor (largest max-cosine to the others)
    is replaced when the frame's novelty exceeds that redundancy. With a single slot there is no redundancy to
    measure and the anchor is kept.
    """
    n_anchors = anchors_kd.shape[0]
    if capacity < 1:
        raise ValueError(f"anchor capacity {capacity} must be at least 1")
    if n_anchors > capacity:
        raise ValueError(f"{n_anchors} anchors exceed capacity {capacity}")
    novelty = 1.0 if n_anchors == 0 else float(1.0 - (anchors_kd @ descriptor_d).max())
    if n_anchors < capacity:
        return AnchorDecision(AnchorAction.ADMIT, n_anchors, novelty, float("nan"))
    if n_anchors < 2:
        return AnchorDecision(AnchorAction.KEEP, None, novelty, float("inf"))
    cos_kk = anchors_kd @ anchors_kd.T
    cos_kk.fill_diagonal_(float("-inf"))
    redundancy_k = cos_kk.max(dim=1).values
    target = int(redundancy_k.argmax())
    redundancy = float(redundancy_k[target])
    if novelty > redundancy:
        return AnchorDecision(AnchorAction.REPLACE, target, novelty, redundancy)
    return AnchorDecision(AnchorAction.KEEP, None, novelty, redundancy)
