"""Small deterministic random codecs so that every feature runs before a trained world exists."""

from __future__ import annotations

import logging
import re
import zlib

import numpy as np
import torch

logger = logging.getLogger(__name__)

WORD_PATTERN = re.compile(r"[a-z0-9]+")


class HashedTextEncoder:
    """Each lower-case word maps, by CRC32 into a fixed random table, to one token (our stand-in for umT5)."""

    def __init__(self, text_dim: int, max_tokens: int, seed: int = 0, buckets: int = 4096) -> None:
        self.text_dim = text_dim
        self.max_tokens = max_tokens
        self.buckets = buckets
        gen = torch.Generator().manual_seed(seed)
        self.table_nd = torch.randn((buckets, text_dim), generator=gen)

    def tokenize(self, prompt: str) -> list[int]:
        words = WORD_PATTERN.findall(prompt.lower())
        if len(words) > self.max_tokens:
            logger.warning("prompt has %d words; keeping the first %d", len(words), self.max_tokens)
        return [zlib.crc32(w.encode()) % self.buckets for w in words[: self.max_tokens]]

    def encode(self, prompt: str) -> torch.Tensor:
        ids = torch.tensor(self.tokenize(prompt), dtype=torch.long)
        return self.table_nd[ids].unsqueeze(0)  # (1, L, text_dim)


class RandomLinearVae:
    """A fixed random linear map from each latent cell to a scale×scale RGB patch (and its pseudo-inverse).

    One pixel frame per latent frame. Pixels = sigmoid(W·z) in [0, 255].
    """

    def __init__(self, latent_channels: int, scale: int = 8, seed: int = 0) -> None:
        self.latent_channels = latent_channels
        self.scale = scale
        gen = torch.Generator().manual_seed(seed)
        self.decode_cp = torch.randn((latent_channels, 3 * scale * scale), generator=gen) / latent_channels**0.5
        self.encode_pc = torch.linalg.pinv(self.decode_cp)

    def decode(self, latents_bfchw: torch.Tensor) -> np.ndarray:
        b, f, c, h, w = latents_bfchw.shape
        s = self.scale
        logits = torch.einsum("bfchw,cp->bfhwp", latents_bfchw.float().cpu(), self.decode_cp)
        pixels = torch.sigmoid(logits).view(b, f, h, w, 3, s, s)
        pixels = pixels.permute(0, 1, 2, 5, 3, 6, 4).reshape(b, f, h * s, w * s, 3)  # (B, F, H, W, 3)
        return (pixels * 255.0).round().clamp(0, 255).to(torch.uint8).numpy()

    def encode(self, frames_bfhw3: np.ndarray) -> torch.Tensor:
        return self.encode_pixels(frames_bfhw3.astype(np.float32) / 127.5 - 1.0)

    def encode_pixels(self, pixels_bfhw3: np.ndarray) -> torch.Tensor:
        b, f, height, width, _ = pixels_bfhw3.shape
        s = self.scale
        pixels = (torch.from_numpy(np.ascontiguousarray(pixels_bfhw3, dtype=np.float32)) + 1.0) / 2.0
        pixels = pixels.clamp(1e-3, 1 - 1e-3)
        logits = torch.log(pixels / (1 - pixels)).view(b, f, height // s, s, width // s, s, 3)
        logits = logits.permute(0, 1, 2, 4, 6, 3, 5).reshape(b, f, height // s, width // s, 3 * s * s)
        return torch.einsum("bfhwp,pc->bfchw", logits, self.encode_pc)


def build_text_encoder(name: str, text_dim: int, max_tokens: int) -> HashedTextEncoder:
    if name == "hashed-random":
        return HashedTextEncoder(text_dim, max_tokens)
    raise ValueError(f"unknown text encoder {name!r}; available: 'hashed-random'")


def build_frame_codec(name: str, latent_channels: int, scale: int) -> RandomLinearVae:
    if name == "random-linear":
        return RandomLinearVae(latent_channels, scale)
    raise ValueError(f"unknown VAE {name!r}; available: 'random-linear'")
