"""The embedded default world: a procedural renderer driven by prompts, with ground-truth labels per frame."""

from gf_runtime.world.prompt import (
    BIOMES,
    COLORS,
    MOTIONS,
    PANS,
    SHAPES,
    WorldPrompt,
    parse_prompt,
)
from gf_runtime.world.render import FrameLabel, WorldSim, WorldState

__all__ = [
    "BIOMES",
    "COLORS",
    "MOTIONS",
    "PANS",
    "SHAPES",
    "FrameLabel",
    "WorldPrompt",
    "WorldSim",
    "WorldState",
    "parse_prompt",
]
