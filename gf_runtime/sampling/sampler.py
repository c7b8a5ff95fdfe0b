"""Few-step denoising of one chunk, the context pass that commits it to memory, and recache at a switch.

The only code that writes K/V into a StreamMemory (besides the memory's own bookkeeping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gf_runtime.config import SamplerConfig
from gf_runtime.memory.recache import RecachePlan
from gf_runtime.memory.stream_memory import ContextPlan, StreamMemory
from gf_runtime.model.dit import TextContext
from gf_runtime.sampling.chunk_model import ChunkModel
from gf_runtime.sampling.schedule import predict_x0, renoise


@dataclass(frozen=True)
class LatentShape:
    channels: int
    height: int
    width: int
    grid_h: int  # token grid after patchify
    grid_w: int


class ChunkSampler:
    """Runs a ``ChunkModel`` (torch's CausalWanDiT or an exported graph); the loop is the same for every backend."""

    def __init__(self, model: ChunkModel[Any], config: SamplerConfig, shape: LatentShape) -> None:
        self.model = model
        self.config = config
        self.shape = shape
        self.timesteps = config.timesteps
        self.sigmas = config.sigmas
        self.opening_timesteps = config.opening_timesteps  # a chunk with nothing in memory
        self.opening_sigmas = config.opening_sigmas

    def _memory_context(self, memory: StreamMemory, slots: tuple[int, ...], positions: tuple[int, ...]) -> Any:
        return self.model.memory_context(memory, slots, positions)

    def _noise(self, n_frames: int, generator: torch.Generator) -> torch.Tensor:
        """(1, n_frames, C, H, W) standard normal noise, drawn by ``generator`` on its own device (the session's
        CPU generator) and moved to the model's."""
        s = self.shape
        noise = torch.randn((1, n_frames, s.channels, s.height, s.width), generator=generator, device=generator.device)
        return noise.to(self.model.device)

    @torch.no_grad()
    def generate_chunk(
        self, memory: StreamMemory, text: TextContext, generator: torch.Generator
    ) -> tuple[torch.Tensor, ContextPlan]:
        """Denoise one chunk against the memory, then run it clean at t=0 and commit its K/V.

        Returns the clean latents (1, C_frames, C, H, W) fp32 and the context plan that was used.
        """
        n_frames = self.config.chunk_frames
        plan = memory.plan_context(n_frames)
        memory_ctx = self._memory_context(memory, plan.slots, plan.slot_pos)
        chunk_pos_f = torch.tensor(plan.chunk_pos, device=self.model.device)

        # 1. Denoise: predict x0 at each timestep, re-noise it to the next one with fresh noise (or, for an
        #    opening chunk under the euler solver, with the noise the model's flow implies: ε = x0 + v).
        opening = not plan.slots
        timesteps = self.opening_timesteps if opening else self.timesteps
        sigmas = self.opening_sigmas if opening else self.sigmas
        follow_flow = opening and self.config.opening_solver == "euler"
        x_t = self._noise(n_frames, generator)
        x0 = x_t
        for step, (timestep, sigma) in enumerate(zip(timesteps, sigmas)):
            t_bf = torch.full((1, n_frames), timestep, device=self.model.device)
            flow, _ = self.model.forward_chunk(x_t, t_bf, text, chunk_pos_f, memory_ctx)
            x0 = predict_x0(x_t, flow, sigma)
            if step + 1 < len(timesteps):
                noise = x0 + flow.float() if follow_flow else self._noise(n_frames, generator)
                x_t = renoise(x0, noise, sigmas[step + 1])

        # 2. Context pass: the clean chunk at t=0 gives the K/V the memory keeps; commit and advance.
        self._commit_clean(memory, x0, text, chunk_pos_f, memory_ctx)
        return x0, plan

    def _commit_clean(
        self,
        memory: StreamMemory,
        clean_bfchw: torch.Tensor,
        text: TextContext,
        chunk_pos_f: torch.Tensor,
        memory_ctx: Any,
    ) -> None:
        t0_bf = torch.zeros(clean_bfchw.shape[:2], device=self.model.device)
        _, chunk_kv = self.model.forward_chunk(clean_bfchw, t0_bf, text, chunk_pos_f, memory_ctx)
        memory.commit(chunk_kv.k_lbshd, chunk_kv.v_lbshd, clean_bfchw)

    @torch.no_grad()
    def commit_context(self, memory: StreamMemory, clean_bfchw: torch.Tensor, text: TextContext) -> ContextPlan:
        """Write given clean latents (1, chunk_frames, C, H, W) into memory as if they had been generated: the
        t=0 context pass against the current memory, then commit. Used to continue from an outside image."""
        n_frames = self.config.chunk_frames
        if clean_bfchw.shape[1] != n_frames:
            raise ValueError(f"context latents hold {clean_bfchw.shape[1]} frames; a chunk is {n_frames}")
        plan = memory.plan_context(n_frames)
        memory_ctx = self._memory_context(memory, plan.slots, plan.slot_pos)
        chunk_pos_f = torch.tensor(plan.chunk_pos, device=self.model.device)
        self._commit_clean(memory, clean_bfchw.to(self.model.device, torch.float32), text, chunk_pos_f, memory_ctx)
        return plan

    @torch.no_grad()
    def recache(self, memory: StreamMemory, plan: RecachePlan, text: TextContext) -> None:
        """Re-encode the plan's frames (stored clean latents, t=0, new prompt) and blend them into memory."""
        latents_bfchw = memory.target_latents(plan)
        memory_ctx = self._memory_context(memory, plan.context_slots, plan.context_pos)
        n_frames = latents_bfchw.shape[1]
        t0_bf = torch.zeros((latents_bfchw.shape[0], n_frames), device=self.model.device)
        pos_f = torch.tensor(plan.target_pos, device=self.model.device)
        _, new_kv = self.model.forward_chunk(latents_bfchw, t0_bf, text, pos_f, memory_ctx)
        memory.blend(plan, new_kv.k_lbshd, new_kv.v_lbshd)
