"""`gf play`: play a timeline of player / NPC / script prompts against a server; record the video and a log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from bridge.client import ReceivedFrame, WorldClient
from bridge.timeline import TimelineEvent


@dataclass
class SentEvent:
    event: TimelineEvent
    seq: int
    sent_chunk: int  # the newest chunk received when it was sent (-1: none yet)
    t_sent: float  # time.time()
    applied_chunk: int | None = None  # from the server's prompt_applied
    latency_ms: float | None = None  # sent → first frame generated under it received

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.event.text,
            "source": self.event.source.value,
            "scene_cut": self.event.scene_cut,
            "sent_chunk": self.sent_chunk,
            "applied_chunk": self.applied_chunk,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
        }


@dataclass
class PlayResult:
    session: int
    frames: int
    chunks: int
    seconds: float  # first frame → last frame
    dropped: int  # frames the server skipped because we were behind
    events: list[SentEvent] = field(default_factory=list)
    last_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return (self.frames - 1) / self.seconds if self.seconds > 0 and self.frames > 1 else 0.0

    def summary(self) -> dict[str, Any]:
        latencies = [e.latency_ms for e in self.events if e.latency_ms is not None]
        return {
            "frames": self.frames,
            "fps": round(self.fps, 2),
            "chunks": self.chunks,
            "dropped": self.dropped,
            "mean_switch_latency_ms": round(float(np.mean(latencies)), 2) if latencies else None,
            "events": [e.to_dict() for e in self.events],
        }


def opening_prompt(timeline: list[TimelineEvent], prompt: str | None) -> tuple[str, list[TimelineEvent]]:
    """The session's first prompt: ``prompt``, else the timeline's event at chunk 0 / 0 s (which is consumed)."""
    if prompt:
        return prompt, timeline
    for i, event in enumerate(timeline):
        if event.at_chunk == 0 or event.at_s == 0:
            return event.text, timeline[:i] + timeline[i + 1 :]
    raise ValueError("no opening prompt: pass --prompt or put an event at chunk 0 in the timeline")


def play(
    client: WorldClient,
    session: int,
    timeline: list[TimelineEvent],
    chunks: int,
    on_frame: Callable[[ReceivedFrame], None] | None = None,
    progress: bool = True,
    idle_timeout_s: float = 30.0,
) -> PlayResult:
    """Receive ``chunks`` chunks of ``session``, sending the timeline's events when they fall due."""
    waiting = list(timeline)
    sent: list[SentEvent] = []
    frames = 0
    newest_chunk = -1
    first_t: float | None = None
    last_t = 0.0
    dropped = 0
    last_stats: dict[str, Any] = {}
    last_item = time.monotonic()
    bar = tqdm(total=chunks, desc="play", unit="chunk", disable=not progress)
    try:
        chunk_frames = int(client.server.get("chunk_frames", 1))
        done = False
        while not done:
            elapsed = time.time() - first_t if first_t is not None else 0.0
            while _send_due(waiting, newest_chunk, elapsed, sent, client, session):
                pass
            items = client.poll(0.05)
            if items:
                last_item = time.monotonic()
            elif time.monotonic() - last_item > idle_timeout_s:
                raise TimeoutError(f"nothing from the server for {idle_timeout_s} s")
            for item in items:
                if isinstance(item, ReceivedFrame):
                    if item.header.session != session or item.header.chunk >= chunks:
                        done = done or item.header.chunk >= chunks
                        continue
                    done = item.header.chunk == chunks - 1 and item.header.frame_in_chunk == chunk_frames - 1
                    frames += 1
                    first_t = first_t if first_t is not None else item.t_received
                    last_t = item.t_received
                    dropped = item.header.dropped
                    if item.header.chunk > newest_chunk:
                        bar.update(item.header.chunk - newest_chunk)
                        newest_chunk = item.header.chunk
                    for e in sent:
                        if e.latency_ms is None and item.header.prompt_seq >= e.seq:
                            e.latency_ms = (item.t_received - e.t_sent) * 1e3
                    if on_frame is not None:
                        on_frame(item)
                elif item.get("session") == session:
                    if item.get("type") == "prompt_applied":
                        for e in sent:
                            if e.seq == item.get("seq"):
                                e.applied_chunk = int(item["chunk"])
                    elif item.get("type") == "stats":
                        last_stats = item
                        bar.set_postfix(server_fps=f"{item.get('generated_fps', 0):.1f}", dropped=item.get("frames_dropped", 0))
    finally:
        bar.close()
    return PlayResult(session, frames, newest_chunk + 1, (last_t - first_t) if first_t else 0.0, dropped, sent, last_stats)


def _send_due(
    waiting: list[TimelineEvent], newest_chunk: int, elapsed: float, sent: list[SentEvent], client: WorldClient, session: int
) -> bool:
    """Send the first waiting event (in file order) that is due; True if one was sent."""
    due = next((i for i, e in enumerate(waiting) if e.due(newest_chunk, elapsed)), None)
    if due is None:
        return False
    event = waiting.pop(due)
    t_sent = time.time()
    seq = client.send_prompt(session, event.text, source=event.source.value, scene_cut=event.scene_cut)
    sent.append(SentEvent(event, seq, newest_chunk, t_sent))
    return True
