"""Training clips from the procedural world: prompt switches inside clips and an anchor layout for DR-RoPE.

Two layouts, both ``horizon_frames`` long and cut into chunks:
- contiguous: frames t..t+H-1 at temporal positions 0..H-1 (what a stream looks like inside the horizon);
- anchor: the first chunk comes from long before the rest and sits at the anchor position, the rest at the
  positions just below the horizon, exactly as DR-RoPE lays out anchors + local memory + chunk at inference.
  With ``spread_anchors`` each of the first chunk's frames is from its own moment (a gap, and maybe a switch,
  between them), as the GCM holds one frame per chunk from different times; otherwise they are consecutive.
  With ``drifted_context`` the local chunks (between the anchors and the last chunk) show the subject with a
  drifted identity (another shape, sometimes another colour; its place and motion are right), as a long stream's
  own context drifts; the anchors and the last chunk show the true subject, so only the anchors (or a prompt that
  names the subject) tell the last chunk who the subject is **(our choice)**.
With ``reserve_anchor_positions`` (``clip_positions``) contiguous clips are one chunk shorter and start at the
first position after the anchor slots, so that in training, as at inference past the horizon, only anchors sit at
the anchor position **(our choice)**.
Each chunk carries the text of the last prompt given (a switch prompt names only what changes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gf_runtime.world.prompt import BIOMES, COLORS, MOTIONS, PANS, SHAPES, WorldPrompt
from gf_runtime.world.render import WorldSim

ATTRIBUTE_CHOICES: dict[str, tuple[object, ...]] = {
    "biome": BIOMES,
    "night": (False, True),
    "shape": SHAPES,
    "color": COLORS,
    "motion": MOTIONS,
    "pan": PANS,
}
# What a switch changes, with weights: mostly the biome or the motion; identity rarely.
SWITCH_ATTRIBUTES = ("biome", "motion", "night", "pan", "color", "shape")
SWITCH_WEIGHTS = (0.45, 0.25, 0.1, 0.1, 0.05, 0.05)


@dataclass(frozen=True)
class ClipSample:
    frames: np.ndarray  # uint8 (F, H, W, 3)
    subject_xy: np.ndarray  # float (F, 2): subject centre per frame, pixels
    frame_times: np.ndarray  # int (F,): the world's time at each frame
    chunk_prompts: tuple[str, ...]  # the text conditioning each chunk
    anchor_layout: bool
    drifted_context: bool = False  # the local chunks show a drifted identity: train them as clean context only


def random_prompt(rng: np.random.Generator, name_prob: float = 0.7) -> WorldPrompt:
    """A prompt naming a random subset (at least one) of the attributes."""
    named = {k: v for k, v in ATTRIBUTE_CHOICES.items() if rng.random() < name_prob}
    if not named:
        key = str(rng.choice(list(ATTRIBUTE_CHOICES)))
        named = {key: ATTRIBUTE_CHOICES[key]}
    return WorldPrompt(**{k: choices[int(rng.integers(len(choices)))] for k, choices in named.items()})  # type: ignore[arg-type]


def switch_prompt(rng: np.random.Generator, current: WorldPrompt) -> WorldPrompt:
    """A prompt that changes one or two attributes to new values (and names only those)."""
    n_changes = 1 if rng.random() < 0.75 else 2
    keys = rng.choice(SWITCH_ATTRIBUTES, size=n_changes, replace=False, p=SWITCH_WEIGHTS)
    values = {}
    for key in keys:
        options = [v for v in ATTRIBUTE_CHOICES[str(key)] if v != getattr(current, str(key))]
        values[str(key)] = options[int(rng.integers(len(options)))]
    return WorldPrompt(**values)  # type: ignore[arg-type]


def sample_clip(
    rng: np.random.Generator,
    horizon_frames: int,
    chunk_frames: int,
    anchor_layout: bool,
    switch_prob: float = 0.5,
    max_gap: int = 160,
    spread_anchors: bool = False,
    drifted_context: bool = False,
    bounce_prob: float = 0.0,
) -> ClipSample:
    if drifted_context and not anchor_layout:
        raise ValueError("drifted_context needs the anchor layout: without anchors nothing tells the true subject")
    n_chunks = horizon_frames // chunk_frames
    opening = random_prompt(rng)
    # no draw when off: a recipe without it keeps the data stream it was trained on
    if bounce_prob > 0 and rng.random() < bounce_prob:
        opening = replace(opening, motion="bounces")
    sim = WorldSim(opening, seed=int(rng.integers(2**31)))
    sim.advance(int(rng.integers(0, 24)))
    text = opening.text()
    switch_chunk = int(rng.integers(1, n_chunks)) if rng.random() < switch_prob else -1
    frames: list[np.ndarray] = []
    positions: list[tuple[float, float]] = []
    times: list[int] = []
    prompts: list[str] = []

    def switch() -> None:
        """A prompt switch now: the world changes what it names, and the text conditions the chunks from here."""
        nonlocal text
        new = switch_prompt(rng, sim.attrs)
        sim.set_prompt(new)
        text = new.text()

    def wait(gap: int) -> None:
        """Let ``gap`` frames pass; the world may change while the anchors wait."""
        if rng.random() < switch_prob:
            step_at = int(rng.integers(gap))
            sim.advance(step_at)
            switch()
            sim.advance(gap - step_at)
        else:
            sim.advance(gap)

    def drifted_clip(n_frames: int) -> tuple[np.ndarray, list]:
        """The next frames with the subject drawn as another shape (and, 30% of the time, colour)."""
        true = sim.state.attrs
        shape = [s for s in SHAPES if s != true.shape][int(rng.integers(len(SHAPES) - 1))]
        color = [c for c in COLORS if c != true.color][int(rng.integers(len(COLORS) - 1))] if rng.random() < 0.3 else true.color
        sim.state.attrs = replace(true, shape=shape, color=color)
        try:
            return sim.clip(n_frames)
        finally:
            sim.state.attrs = true

    for chunk in range(n_chunks):
        if anchor_layout and chunk == 1:
            wait(int(rng.integers(chunk_frames, max_gap)))
        if chunk == switch_chunk:
            switch()
        if anchor_layout and spread_anchors and chunk == 0:
            moments = []
            for f in range(chunk_frames):
                if f:
                    wait(int(rng.integers(chunk_frames, max_gap // chunk_frames)))
                moments.append(sim.step())
            clip, labels = np.stack([m[0] for m in moments]), [m[1] for m in moments]
        elif drifted_context and 0 < chunk < n_chunks - 1:
            clip, labels = drifted_clip(chunk_frames)
        else:
            clip, labels = sim.clip(chunk_frames)
        frames.append(clip)
        positions.extend((label.x, label.y) for label in labels)
        times.extend(label.t for label in labels)
        prompts.append(text)
    return ClipSample(
        frames=np.concatenate(frames),
        subject_xy=np.array(positions, dtype=np.float32),
        frame_times=np.array(times, dtype=np.int64),
        chunk_prompts=tuple(prompts),
        anchor_layout=anchor_layout,
        drifted_context=drifted_context,
    )


def subject_cells(subject_xy: np.ndarray, subject_size: float, frame_size: int, cell: int) -> np.ndarray:
    """(F, frame_size/cell, frame_size/cell) bool: latent cells the subject's box overlaps (x wraps around)."""
    n_cells = frame_size // cell
    mask = np.zeros((len(subject_xy), n_cells, n_cells), dtype=bool)
    half = subject_size / 2
    for f, (x, y) in enumerate(subject_xy):
        xs = np.arange(int(np.floor((x - half) / cell)), int(np.floor((x + half - 1e-6) / cell)) + 1) % n_cells
        ys = np.arange(max(0, int(np.floor((y - half) / cell))), min(n_cells - 1, int(np.floor((y + half - 1e-6) / cell))) + 1)
        mask[f][np.ix_(ys, xs)] = True
    return mask


def clip_positions(
    horizon_frames: int,
    chunk_frames: int,
    anchor_layout: bool,
    anchor_position: int = 0,
    reserve_anchor_positions: bool = False,
) -> list[int]:
    """Temporal RoPE index of every frame of a clip in the given layout; the clip has one frame per index.

    With ``reserve_anchor_positions`` a contiguous clip leaves the anchor slots (positions 0..chunk_frames-1) out
    and is ``horizon_frames - chunk_frames`` frames long, at the positions local memory and the chunk take at
    inference: only anchors are ever seen at the anchor position's distance from the last chunk.
    """
    if not anchor_layout:
        return list(range(chunk_frames if reserve_anchor_positions else 0, horizon_frames))
    return [anchor_position] * chunk_frames + list(range(chunk_frames, horizon_frames))
