"""Events a session applies between chunks (never inside a denoise step), and the events-file schedule."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence


class PromptSource(enum.Enum):
    PLAYER = "player"
    NPC = "npc"
    SCRIPT = "script"
    API = "api"


@dataclass(frozen=True)
class SetPrompt:
    seq: int
    text: str
    source: PromptSource = PromptSource.API
    scene_cut: bool = False


@dataclass(frozen=True)
class SceneCut:
    seq: int


@dataclass(frozen=True, eq=False)
class SeedImage:
    """Continue the world from an outside view: flush the local memory, then write the image in as clean context."""

    seq: int
    pixels_hw3: Any  # numpy float32 (H, W, 3) in [-1, 1], the pipeline's frame size (this module is stdlib-only)


Event = SetPrompt | SceneCut | SeedImage


@dataclass(frozen=True)
class ScheduledEvent:
    """One entry of an events file: before chunk ``at_chunk``, switch the prompt and/or cut the scene."""

    at_chunk: int
    text: str | None = None
    scene_cut: bool = False


def parse_schedule(entries: Any, origin: str = "events") -> list[ScheduledEvent]:
    """Validate a JSON list of {"at_chunk": N, "text": "..." (optional), "scene_cut": bool (optional)}."""
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: expected a JSON list of events, got {type(entries).__name__}")
    events = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{origin}[{i}]: expected an object, got {type(entry).__name__}")
        unknown = sorted(set(entry) - {"at_chunk", "text", "scene_cut"})
        if unknown:
            raise ValueError(f"{origin}[{i}]: unknown fields {unknown}; allowed: at_chunk, text, scene_cut")
        at_chunk = entry.get("at_chunk")
        if not isinstance(at_chunk, int) or isinstance(at_chunk, bool) or at_chunk < 0:
            raise ValueError(f"{origin}[{i}]: at_chunk must be a non-negative integer, got {at_chunk!r}")
        text = entry.get("text")
        if text is not None and not isinstance(text, str):
            raise ValueError(f"{origin}[{i}]: text must be a string, got {type(text).__name__}")
        scene_cut = entry.get("scene_cut", False)
        if not isinstance(scene_cut, bool):
            raise ValueError(f"{origin}[{i}]: scene_cut must be true or false, got {scene_cut!r}")
        if text is None and not scene_cut:
            raise ValueError(f"{origin}[{i}]: an event needs a text, scene_cut: true, or both")
        events.append(ScheduledEvent(at_chunk=at_chunk, text=text, scene_cut=scene_cut))
    return sorted(events, key=lambda e: e.at_chunk)


def read_json_file(path: str | Path, what: str) -> Any:
    """A JSON file's content; a missing or malformed file is a ValueError naming ``what`` it was meant to be."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{what} {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {path} is not valid JSON: {exc}") from None


def load_schedule(path: str | Path) -> list[ScheduledEvent]:
    return parse_schedule(read_json_file(path, "events file"), origin=str(path))


def events_by_chunk(schedule: Sequence[ScheduledEvent]) -> dict[int, list[ScheduledEvent]]:
    """The schedule grouped by the chunk each event precedes, in file order within a chunk."""
    grouped: dict[int, list[ScheduledEvent]] = {}
    for event in schedule:
        grouped.setdefault(event.at_chunk, []).append(event)
    return grouped
