"""Run a session for N chunks under a schedule of events: shared by `gf generate`, the benchmarks and evals."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

from tqdm import tqdm

from gf_runtime.config import MemoryConfig
from gf_runtime.engine.events import PromptSource, ScheduledEvent, events_by_chunk
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.engine.session import Chunk


@dataclass
class StreamResult:
    """What a stream did, chunk by chunk (frames themselves go to the ``on_chunk`` callback)."""

    policy: str
    horizon_frames: int
    fps_nominal: float
    chunk_ms: list[float] = field(default_factory=list)
    events_ms: list[float] = field(default_factory=list)
    memory_frames: list[int] = field(default_factory=list)
    max_positions: list[int] = field(default_factory=list)
    prompt_ids: list[int] = field(default_factory=list)
    frames: int = 0
    sha256: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    @property
    def total_s(self) -> float:
        return sum(self.chunk_ms) / 1e3

    @property
    def fps(self) -> float:
        return self.frames / self.total_s if self.chunk_ms else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "frames": self.frames,
            "fps": self.fps,
            "chunk_ms": self.chunk_ms,
            "first_chunk_ms": self.chunk_ms[0] if self.chunk_ms else None,
            "events_ms": [ms for ms in self.events_ms if ms > 0],
            "cache_frames_max": max(self.memory_frames, default=0),
            "max_temporal_position": max(self.max_positions, default=0),
            "horizon": self.horizon_frames,
            "frames_sha256": self.sha256.hexdigest(),
        }


def opening_prompt(prompt: str | None, schedule: Sequence[ScheduledEvent]) -> str:
    """The prompt of chunk 0: an event at chunk 0 with text wins over ``prompt``."""
    at_zero = [e.text for e in schedule if e.at_chunk == 0 and e.text is not None]
    if at_zero:
        return at_zero[-1]
    if prompt is None:
        raise ValueError("no prompt: pass --prompt or give the events file an entry at chunk 0 with a text")
    return prompt


def run_stream(
    pipe: Pipeline,
    prompt: str | None,
    chunks: int,
    seed: int = 0,
    schedule: Sequence[ScheduledEvent] = (),
    memory: MemoryConfig | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    progress: bool = True,
    carry_over_prompts: bool = False,
) -> StreamResult:
    if chunks < 1:
        raise ValueError(f"chunks={chunks} must be at least 1")
    memory = memory or pipe.memory_config()
    first_prompt = opening_prompt(prompt, schedule)
    result = StreamResult(policy=memory.policy, horizon_frames=memory.horizon_frames, fps_nominal=pipe.spec.fps)
    by_chunk = events_by_chunk(schedule)
    with pipe.session(prompt=first_prompt, seed=seed, memory=memory, carry_over_prompts=carry_over_prompts) as session:
        for index in tqdm(range(chunks), desc=f"{memory.policy}", unit="chunk", disable=not progress):
            for event in by_chunk.get(index, []):
                if index == 0 and not event.scene_cut:
                    continue  # the opening prompt, already in place
                if event.text is not None:
                    session.set_prompt(event.text, source=PromptSource.SCRIPT, scene_cut=event.scene_cut)
                elif event.scene_cut:
                    session.scene_cut()
            chunk = session.next_chunk()
            result.chunk_ms.append(chunk.timings.total_ms)
            result.events_ms.append(chunk.timings.events_ms)
            result.memory_frames.append(chunk.memory_frames)
            result.max_positions.append(chunk.max_temporal_position)
            result.prompt_ids.append(chunk.prompt_id)
            result.frames += chunk.frames.shape[0]
            result.sha256.update(chunk.frames.tobytes())
            if on_chunk is not None:
                on_chunk(chunk)
    return result
