"""TinyVae: a per-frame convolutional autoencoder, 8× spatial (64×64×3 ↔ 8×8×16), for the default world.

One latent frame per pixel frame. Latents are normalised per channel, (z - mean) / std, as Wan's are, with the
statistics measured on rendered frames at training time and stored with the weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from gf_runtime.model.checkpoint import load_weights, read_tagged, save_tagged

VAE_FORMAT = "gf-world-vae-1"


class TinyVae(nn.Module):
    def __init__(self, latent_channels: int = 16, width: int = 48) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        self.width = width
        self.scale = 8
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w, 4, stride=2, padding=1), nn.GELU(),  # 32×32
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # 16×16
            nn.Conv2d(2 * w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # 8×8
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * w, latent_channels, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(latent_channels, 2 * w, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # 16×16
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.GELU(),  # 32×32
            nn.ConvTranspose2d(w, w, 4, stride=2, padding=1), nn.GELU(),  # 64×64
            nn.Conv2d(w, 3, 3, padding=1),
        )
        self.register_buffer("latent_mean", torch.zeros(latent_channels))
        self.register_buffer("latent_std", torch.ones(latent_channels))

    # ----------------------------------------------------------------- tensors in [-1, 1]
    def encode_raw(self, pixels_n3hw: torch.Tensor) -> torch.Tensor:
        return self.encoder(pixels_n3hw)

    def decode_raw(self, z_nchw: torch.Tensor) -> torch.Tensor:
        return self.decoder(z_nchw)

    def normalise(self, z_nchw: torch.Tensor) -> torch.Tensor:
        return (z_nchw - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]

    def denormalise(self, latents_nchw: torch.Tensor) -> torch.Tensor:
        return latents_nchw * self.latent_std[:, None, None] + self.latent_mean[:, None, None]

    # ----------------------------------------------------------------- FrameCodec
    @torch.no_grad()
    def encode(self, frames_bfhw3: np.ndarray) -> torch.Tensor:
        """uint8 frames (B, F, H, W, 3) → normalised latents (B, F, C, H/8, W/8)."""
        device = self.latent_mean.device
        pixels = torch.from_numpy(np.ascontiguousarray(frames_bfhw3)).to(device).float() / 127.5 - 1.0
        return self._encode_pixels(pixels)

    @torch.no_grad()
    def encode_pixels(self, pixels_bfhw3: np.ndarray) -> torch.Tensor:
        """float frames (B, F, H, W, 3) in [-1, 1] → normalised latents (B, F, C, H/8, W/8)."""
        pixels = torch.from_numpy(np.ascontiguousarray(pixels_bfhw3, dtype=np.float32)).to(self.latent_mean.device)
        return self._encode_pixels(pixels)

    def _encode_pixels(self, pixels_bfhw3: torch.Tensor) -> torch.Tensor:
        b, f, h, w, _ = pixels_bfhw3.shape
        pixels_n3hw = pixels_bfhw3.reshape(b * f, h, w, 3).permute(0, 3, 1, 2)
        latents = self.normalise(self.encode_raw(pixels_n3hw))
        return latents.view(b, f, *latents.shape[1:])

    @torch.no_grad()
    def decode(self, latents_bfchw: torch.Tensor) -> np.ndarray:
        """Normalised latents (B, F, C, h, w) → uint8 frames (B, F, 8h, 8w, 3)."""
        b, f = latents_bfchw.shape[:2]
        z = self.denormalise(latents_bfchw.flatten(0, 1).to(self.latent_mean.device).float())
        pixels_n3hw = self.decode_raw(z)
        pixels = ((pixels_n3hw.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        return pixels.permute(0, 2, 3, 1).reshape(b, f, *pixels.shape[2:], 3).cpu().numpy()

    # ----------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        save_tagged(path, self, VAE_FORMAT, {"latent_channels": self.latent_channels, "width": self.width})

    @classmethod
    def load(cls, path: str | Path) -> "TinyVae":
        tensors, config = read_tagged(path, VAE_FORMAT, "gf world VAE")
        vae = cls(**config)  # type: ignore[arg-type]
        load_weights(vae, tensors, source=str(path))
        return vae.eval().requires_grad_(False)
