"""Interfaces the pipeline needs from a text encoder and a VAE."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch


class TextEncoder(Protocol):
    text_dim: int

    def encode(self, prompt: str) -> torch.Tensor:
        """A prompt → states (1, L, text_dim), L at most the model's text_len."""
        ...


@runtime_checkable
class ComposingTextEncoder(TextEncoder, Protocol):
    """A text encoder whose prompts are sets of named attributes, so a new prompt can keep an old one's words."""

    def compose(self, previous: str, new: str) -> str:
        """The prompt that says what ``new`` names and, for everything it leaves out, what ``previous`` said."""
        ...


class FrameCodec(Protocol):
    latent_channels: int
    scale: int  # pixels per latent cell along each spatial axis

    def decode(self, latents_bfchw: torch.Tensor) -> np.ndarray:
        """Latents (B, F, C, h, w) → frames uint8 (B, F, h*scale, w*scale, 3)."""
        ...

    def encode(self, frames_bfhw3: np.ndarray) -> torch.Tensor:
        """Frames uint8 (B, F, H, W, 3) → latents (B, F, C, H/scale, W/scale)."""
        ...

    def encode_pixels(self, pixels_bfhw3: np.ndarray) -> torch.Tensor:
        """Normalised frames float32 (B, F, H, W, 3) in [-1, 1] (uint8 / 127.5 - 1) → latents, as ``encode``."""
        ...
