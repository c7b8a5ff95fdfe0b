"""Real-valued 3-axis RoPE (frame, height, width) with Wan's layout: adjacent channel pairs (2i, 2i+1).

No complex tensors, so the graph exports to ONNX. Angles are computed from explicit frame positions, so the
memory policies choose every key's and query's temporal index; height/width indices are the spatial grid.
"""

from __future__ import annotations

import torch
from torch import nn

from gf_runtime.config import ModelConfig


class Rope3D(nn.Module):
    """Per-axis inverse frequencies 1/θ^(2k/d_axis); tables are non-persistent (not in the state dict)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.pairs = config.rope_pairs  # (frame, height, width) rotary pairs
        for name, n_pairs in zip(("frame", "height", "width"), self.pairs):
            d_axis = 2 * n_pairs
            exponents = torch.arange(0, d_axis, 2, dtype=torch.float64) / d_axis
            inv_freq = (1.0 / torch.pow(config.rope_theta, exponents)).float()
            self.register_buffer(f"inv_freq_{name}", inv_freq, persistent=False)

    def cos_sin(self, frame_pos_f: torch.Tensor, grid_h: int, grid_w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Tables for tokens ordered (f, h, w), w fastest.

        frame_pos_f: (F,) temporal index of each frame (float or int).
        Returns cos, sin: (F*grid_h*grid_w, head_dim/2) float32.
        """
        n_frames = frame_pos_f.shape[0]
        device = self.inv_freq_frame.device
        ang_f = frame_pos_f.to(device=device, dtype=torch.float32).unsqueeze(-1) * self.inv_freq_frame  # (F, pf)
        ang_h = torch.arange(grid_h, device=device, dtype=torch.float32).unsqueeze(-1) * self.inv_freq_height
        ang_w = torch.arange(grid_w, device=device, dtype=torch.float32).unsqueeze(-1) * self.inv_freq_width
        pf, ph, pw = self.pairs
        angles = torch.cat(
            [
                ang_f[:, None, None, :].expand(n_frames, grid_h, grid_w, pf),
                ang_h[None, :, None, :].expand(n_frames, grid_h, grid_w, ph),
                ang_w[None, None, :, :].expand(n_frames, grid_h, grid_w, pw),
            ],
            dim=-1,
        ).reshape(n_frames * grid_h * grid_w, pf + ph + pw)  # (S, D/2)
        return torch.cos(angles), torch.sin(angles)


def apply_rope(x_bshd: torch.Tensor, cos_sd: torch.Tensor, sin_sd: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent pairs: (x0, x1) → (x0·cos − x1·sin, x0·sin + x1·cos). Computed in fp32.

    x_bshd: (B, S, heads, head_dim); cos_sd, sin_sd: (S, head_dim/2). Also accepts leading dims before B.
    """
    x32 = x_bshd.float()
    pairs = x32.unflatten(-1, (-1, 2))  # (..., S, H, D/2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    cos = cos_sd[:, None, :]  # (S, 1, D/2) broadcasts over heads
    sin = sin_sd[:, None, :]
    rotated = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)  # (..., S, H, D/2, 2)
    return rotated.flatten(-2).type_as(x_bshd)
