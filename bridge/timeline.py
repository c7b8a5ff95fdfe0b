"""Prompt timelines for `gf play`: who says what, and when (at a chunk or after some seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.protocol import Source
from gf_runtime.engine.events import read_json_file


@dataclass(frozen=True)
class TimelineEvent:
    text: str
    source: Source
    at_chunk: int | None = None  # send once the chunk before it has arrived
    at_s: float | None = None  # send this many seconds after the first frame
    scene_cut: bool = False

    def due(self, newest_chunk: int, elapsed_s: float) -> bool:
        if self.at_chunk is not None:
            return newest_chunk >= self.at_chunk - 1
        assert self.at_s is not None
        return elapsed_s >= self.at_s

    def to_dict(self) -> dict[str, Any]:
        when: dict[str, Any] = {"at_chunk": self.at_chunk} if self.at_chunk is not None else {"at_s": self.at_s}
        return {**when, "source": self.source.value, "text": self.text, "scene_cut": self.scene_cut}


def parse_timeline(entries: Any, origin: str = "timeline") -> list[TimelineEvent]:
    """A JSON list of {"at_chunk": N or "at_s": T, "source": "player"|"npc"|"script", "text": "...",
    "scene_cut": false}, in the order they will be sent (by chunk, then by time, then file order)."""
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: expected a JSON list of events, got {type(entries).__name__}")
    events = []
    for i, entry in enumerate(entries):
        where = f"{origin}[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object, got {type(entry).__name__}")
        unknown = sorted(set(entry) - {"at_chunk", "at_s", "source", "text", "scene_cut"})
        if unknown:
            raise ValueError(f"{where}: unknown fields {unknown}; allowed: at_chunk or at_s, source, text, scene_cut")
        if ("at_chunk" in entry) == ("at_s" in entry):
            raise ValueError(f"{where}: give exactly one of at_chunk (a chunk index) or at_s (seconds)")
        at_chunk, at_s = entry.get("at_chunk"), entry.get("at_s")
        if at_chunk is not None and (not isinstance(at_chunk, int) or isinstance(at_chunk, bool) or at_chunk < 0):
            raise ValueError(f"{where}: at_chunk must be a non-negative integer, got {at_chunk!r}")
        if at_s is not None and (not isinstance(at_s, (int, float)) or isinstance(at_s, bool) or at_s < 0):
            raise ValueError(f"{where}: at_s must be a non-negative number of seconds, got {at_s!r}")
        text = entry.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: text must be a non-empty string")
        try:
            source = Source(entry.get("source", "script"))
        except ValueError:
            raise ValueError(f"{where}: source must be player, npc or script, got {entry.get('source')!r}") from None
        scene_cut = entry.get("scene_cut", False)
        if not isinstance(scene_cut, bool):
            raise ValueError(f"{where}: scene_cut must be true or false, got {scene_cut!r}")
        events.append(TimelineEvent(text, source, at_chunk, float(at_s) if at_s is not None else None, scene_cut))
    return events


def load_timeline(path: str | Path) -> list[TimelineEvent]:
    return parse_timeline(read_json_file(path, "timeline file"), origin=str(path))
