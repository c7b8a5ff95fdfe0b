"""Where the default world model's files live and what they are called."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_NAME = "default"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
MODEL_FILE = "model.safetensors"
VAE_FILE = "vae.safetensors"
TEXT_FILE = "text_encoder.safetensors"
WORLD_TEXT_ENCODER = "world-text"
WORLD_VAE = "world-vae"
