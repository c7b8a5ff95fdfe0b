"""gf runtime: a causal Wan2.1 DiT with Grounded Forcing memory, generating endless video chunk by chunk.

    from gf_runtime import load_pipeline
    pipe = load_pipeline("tiny-random", device="cpu", policy="grounded")
    with pipe.session(prompt="a red ball bouncing in a desert", seed=0) as s:
        chunk = s.next_chunk()
"""

from gf_runtime.config import (
    MODEL_PRESETS,
    PIPELINE_PRESETS,
    POLICY_NAMES,
    LatentGeometry,
    MemoryConfig,
    ModelConfig,
    PipelineSpec,
    SamplerConfig,
)
from gf_runtime.engine.events import PromptSource, ScheduledEvent, load_schedule, parse_schedule
from gf_runtime.engine.pipeline import Pipeline, load_pipeline
from gf_runtime.engine.session import Chunk, ChunkTimings, Session
from gf_runtime.model.checkpoint import CheckpointError

__all__ = [
    "MODEL_PRESETS",
    "PIPELINE_PRESETS",
    "POLICY_NAMES",
    "CheckpointError",
    "Chunk",
    "ChunkTimings",
    "LatentGeometry",
    "MemoryConfig",
    "ModelConfig",
    "Pipeline",
    "PipelineSpec",
    "PromptSource",
    "SamplerConfig",
    "ScheduledEvent",
    "Session",
    "load_pipeline",
    "load_schedule",
    "parse_schedule",
]
