"""Pluggable text encoders and VAE decoders (the DiT's inputs and outputs), with small random ones built in."""

from gf_runtime.codecs.base import FrameCodec, TextEncoder
from gf_runtime.codecs.random_codecs import HashedTextEncoder, RandomLinearVae, build_frame_codec, build_text_encoder

__all__ = [
    "FrameCodec",
    "HashedTextEncoder",
    "RandomLinearVae",
    "TextEncoder",
    "build_frame_codec",
    "build_text_encoder",
]
