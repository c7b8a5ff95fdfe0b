"""ChunkModel: what the sampler runs, so that the DiT can live in torch or behind another runtime.

The sampler owns the loop (noise, denoising steps, the context pass, commit, recache) and the memory policies
decide which stored frames a chunk sees and at which temporal positions. A ChunkModel only turns that decision
into whatever its DiT consumes (``memory_context``) and runs one chunk (``forward_chunk``). ``TorchChunkModel``
runs ``CausalWanDiT`` in this process; other backends (an exported ONNX graph) plug in through the
``gf.backends`` entry-point group of ``gf_runtime.engine.pipeline``, so this runtime never imports them.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import torch

from gf_runtime.memory.stream_memory import StreamMemory
from gf_runtime.model.dit import CausalWanDiT, ChunkKV, MemoryContext, TextContext

MemoryT = TypeVar("MemoryT")


class ChunkModel(Protocol[MemoryT]):
    """A DiT that denoises one chunk against a memory. ``MemoryT`` is the backend's own view of the memory."""

    @property
    def device(self) -> torch.device:
        """Where the sampler puts the tensors it passes in (noise, timesteps, positions)."""
        ...

    def embed_text(self, text_bld: torch.Tensor) -> TextContext:
        """Text encoder states (1, L, text_dim), L <= text_len → per-block cross-attention K/V."""
        ...

    def memory_context(
        self, memory: StreamMemory, slots: tuple[int, ...], positions: tuple[int, ...]
    ) -> MemoryT | None:
        """The memory as the DiT consumes it: ``slots`` of ``memory``, in that order, at temporal ``positions``
        (one per slot). None when there is nothing to attend to and the backend takes no memory."""
        ...

    def forward_chunk(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        text: TextContext,
        frame_pos_f: torch.Tensor,
        memory: MemoryT | None,
    ) -> tuple[torch.Tensor, ChunkKV]:
        """Flow prediction (1, F, C, H, W) fp32 and the chunk's unrotated K/V, as ``CausalWanDiT.forward_chunk``.

        The results are consumed before the next call (the sampler commits or blends them at once); a backend may
        return views of buffers it reuses.
        """
        ...


class TorchChunkModel:
    """``CausalWanDiT`` in this process: the memory's slots are gathered and their keys rotated once per chunk."""

    def __init__(self, model: CausalWanDiT, grid_h: int, grid_w: int) -> None:
        self.model = model
        self.grid_h = grid_h
        self.grid_w = grid_w

    @property
    def device(self) -> torch.device:
        return self.model.device

    def embed_text(self, text_bld: torch.Tensor) -> TextContext:
        return self.model.embed_text(text_bld)

    def memory_context(
        self, memory: StreamMemory, slots: tuple[int, ...], positions: tuple[int, ...]
    ) -> MemoryContext | None:
        gathered = memory.gather(slots)
        if gathered is None:
            return None
        k_lbshd, v_lbshd = gathered
        pos_f = torch.tensor(positions, device=self.model.device)
        return self.model.rotate_memory(k_lbshd, v_lbshd, pos_f, self.grid_h, self.grid_w)

    def forward_chunk(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        text: TextContext,
        frame_pos_f: torch.Tensor,
        memory: MemoryContext | None,
    ) -> tuple[torch.Tensor, ChunkKV]:
        return self.model.forward_chunk(x_bfchw, t_bf, text, frame_pos_f, memory)
