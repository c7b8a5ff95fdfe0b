"""The causal Wan2.1 DiT: plain PyTorch, parameter names exactly Wan's."""

from gf_runtime.model.dit import CausalWanDiT, ChunkKV, MemoryContext, TextContext

__all__ = ["CausalWanDiT", "ChunkKV", "MemoryContext", "TextContext"]
