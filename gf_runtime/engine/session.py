"""Session: one endless stream. Owns its memory, RNG, chunk index and prompt; applies events between chunks.

Same pipeline, seed, prompts and events (at the same chunk boundaries) → identical frames.
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from gf_runtime.config import MemoryConfig
from gf_runtime.engine.events import Event, PromptSource, SceneCut, SeedImage, SetPrompt
from gf_runtime.memory.stream_memory import StreamMemory
from gf_runtime.model.dit import TextContext

if TYPE_CHECKING:
    from gf_runtime.engine.pipeline import Pipeline

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkTimings:
    events_ms: float  # applying events before the chunk: scene cut, prompt encoding, recache
    denoise_ms: float  # denoising steps + context pass
    decode_ms: float
    total_ms: float


@dataclass(frozen=True)
class Chunk:
    """One generated chunk."""

    index: int  # chunk index in the stream
    first_frame: int  # absolute index of the first latent frame
    frames: np.ndarray  # uint8 (F_pixels, H, W, 3)
    latents: torch.Tensor  # fp32 (F, C, h, w), on the CPU
    prompt_id: int  # increments each time a new prompt takes effect
    prompt: str
    applied_events: tuple[int, ...]  # seq numbers of the events applied before this chunk
    memory_frames: int  # frames this chunk attended to (excluding itself)
    max_temporal_position: int  # the largest temporal RoPE index used by this chunk
    timings: ChunkTimings


class Session:
    """Use as a context manager: ``with pipe.session(prompt=..., seed=0) as s: s.next_chunk()``."""

    def __init__(
        self, pipeline: "Pipeline", prompt: str, seed: int, memory_config: MemoryConfig, carry_over_prompts: bool = False
    ) -> None:
        if memory_config.chunk_frames != pipeline.spec.sampler.chunk_frames:
            raise ValueError(
                f"memory chunk_frames={memory_config.chunk_frames} differs from the sampler's "
                f"{pipeline.spec.sampler.chunk_frames}; build the MemoryConfig with pipeline.spec.memory(...)"
            )
        # carry_over_prompts: a new prompt keeps the words of the ones before for what it leaves out ("the desert"
        # keeps the red ball), so the text goes on naming the subject; needs a text encoder that composes prompts
        self._composer = pipeline.composing_text_encoder() if carry_over_prompts else None
        self.pipeline = pipeline
        self.seed = seed
        self.memory_config = memory_config
        self.memory = StreamMemory(memory_config)
        # A CPU generator on every device: a seed draws the same noise on a CPU and a GPU (a CUDA generator draws
        # other numbers), so one seed's stream matches across devices within their arithmetic's rounding.
        self.generator = torch.Generator().manual_seed(seed)
        self.chunk_index = 0
        self.prompt = prompt
        self.prompt_id = 0
        self._text: TextContext = pipeline.encode_prompt(prompt)
        self._pending: collections.deque[Event] = collections.deque()
        self._next_seq = 1
        self.closed = False

    # ----------------------------------------------------------------- events (queued, applied between chunks)
    def _seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def set_prompt(self, text: str, source: PromptSource = PromptSource.API, scene_cut: bool = False) -> int:
        """Queue a prompt switch; it takes effect at the next chunk boundary. Returns the event's seq number."""
        if not isinstance(text, str):
            raise TypeError(f"prompt text must be a str, got {type(text).__name__}")
        seq = self._seq()
        self._pending.append(SetPrompt(seq=seq, text=text, source=source, scene_cut=scene_cut))
        return seq

    def scene_cut(self) -> int:
        """Queue a scene cut (flush local memory, keep anchors) for the next chunk boundary."""
        seq = self._seq()
        self._pending.append(SceneCut(seq=seq))
        return seq

    def seed_image(self, pixels_hw3: np.ndarray) -> int:
        """Queue an outside view (float32 (H, W, 3) in [-1, 1] at the pipeline's frame size) for the next chunk
        boundary: the local memory is flushed and the image, held for one chunk, becomes the context the world
        continues from. Returns the event's seq number."""
        height, width = self.pipeline.frame_size
        if not isinstance(pixels_hw3, np.ndarray) or pixels_hw3.shape != (height, width, 3):
            shape = getattr(pixels_hw3, "shape", type(pixels_hw3).__name__)
            raise ValueError(f"seed image must be a float array of shape ({height}, {width}, 3), got {shape}")
        pixels = np.asarray(pixels_hw3, dtype=np.float32)
        if not np.isfinite(pixels).all() or np.abs(pixels).max() > 1.0 + 1e-4:
            raise ValueError("seed image values must be finite and normalised to [-1, 1] (uint8 / 127.5 - 1)")
        seq = self._seq()
        self._pending.append(SeedImage(seq=seq, pixels_hw3=pixels.copy()))
        return seq

    def apply_pending_events(self) -> tuple[tuple[int, ...], float]:
        """Apply the queued events now (call only between chunks; ``next_chunk`` calls it first).

        Consecutive prompts coalesce: only the last one ever conditions a frame. Returns the applied seq numbers
        and the time spent (scene cut, text encoding and recache) in ms.
        """
        if not self._pending:
            return (), 0.0
        events = list(self._pending)
        self._pending.clear()
        seeds = [e for e in events if isinstance(e, SeedImage)]
        cut = seeds or any(isinstance(e, SceneCut) or (isinstance(e, SetPrompt) and e.scene_cut) for e in events)
        prompts = [e for e in events if isinstance(e, SetPrompt)]
        start = time.perf_counter()
        if cut:
            self.memory.scene_cut()
        if seeds:  # the newest view wins; held still for one chunk, committed under the current prompt
            n_frames = self.pipeline.spec.sampler.chunk_frames
            pixels_bfhw3 = np.repeat(seeds[-1].pixels_hw3[None, None], n_frames, axis=1)
            latents_bfchw = self.pipeline.codec.encode_pixels(pixels_bfhw3)
            self.pipeline.sampler.commit_context(self.memory, latents_bfchw, self._text)
        new_prompt = prompts[-1].text if prompts else self.prompt
        if prompts and self._composer is not None:
            new_prompt = self._composer.compose(self.prompt, new_prompt)
        if new_prompt != self.prompt:
            self.prompt = new_prompt
            self.prompt_id += 1
            self._text = self.pipeline.encode_prompt(self.prompt)
            plan = self.memory.plan_recache()
            if plan is not None:
                self.pipeline.sampler.recache(self.memory, plan, self._text)
        self.pipeline.synchronize()
        return tuple(e.seq for e in events), (time.perf_counter() - start) * 1e3

    # ----------------------------------------------------------------- generation
    def next_chunk(self) -> Chunk:
        if self.closed:
            raise RuntimeError("session is closed; open a new one with pipeline.session(...)")
        start = time.perf_counter()
        applied, events_ms = self.apply_pending_events()
        first_frame = self.memory.frames_seen

        t_denoise = time.perf_counter()
        clean_bfchw, plan = self.pipeline.sampler.generate_chunk(self.memory, self._text, self.generator)
        self.pipeline.synchronize()
        denoise_ms = (time.perf_counter() - t_denoise) * 1e3

        t_decode = time.perf_counter()
        frames = self.pipeline.codec.decode(clean_bfchw)[0]
        decode_ms = (time.perf_counter() - t_decode) * 1e3

        chunk = Chunk(
            index=self.chunk_index,
            first_frame=first_frame,
            frames=frames,
            latents=clean_bfchw[0].float().cpu(),
            prompt_id=self.prompt_id,
            prompt=self.prompt,
            applied_events=applied,
            memory_frames=len(plan.slots),
            max_temporal_position=plan.max_position,
            timings=ChunkTimings(
                events_ms=events_ms,
                denoise_ms=denoise_ms,
                decode_ms=decode_ms,
                total_ms=(time.perf_counter() - start) * 1e3,
            ),
        )
        self.chunk_index += 1
        return chunk

    def close(self) -> None:
        """Free the memory (K/V storage and stored latents)."""
        self.memory = StreamMemory(self.memory_config)
        self._pending.clear()
        self.closed = True

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
