"""`gf eval long`: long-horizon quality of every memory policy on the default world, measured by a classifier.

A schedule of prompt events (the `gf generate --events` format; its event at chunk 0 is the opening prompt) is
played for at least 10× the training horizon. Every frame is classified (biome, day/night, shape, colour,
subject position) and compared with what the active prompt asks for (named attributes merged over time):

- consistency: biome, subject colour and subject shape all as prompted (early: the first horizon of frames;
  late: the last horizon of frames);
- identity: after the first switch, the subject keeps the shape and colour it was given;
- drift: how far the late window's frame statistics have moved from the truth, relative to the early window:
  ||(f(gen_late) − f(true_late)) − (f(gen_early) − f(true_early))||, with f = per-channel mean and std and edge
  energy, and "true" the renderer playing the same schedule;
- switch response: chunks after a switch until the classifier follows the new prompt (0 = the next chunk);
- switch smoothness: the largest frame-to-frame change around a switch over the stream's median change;
- extra subject: the share of frames that show more than one subject of the prompted colour (the world has one;
  the classifier reads one shape per frame and cannot see a second). Counted from the frame's pixels, not by the
  classifier; frames of a red subject in lava, whose flows are drawn in that red, are not counted.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from gf_runtime.engine.events import ScheduledEvent, events_by_chunk
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.engine.session import Chunk
from gf_runtime.engine.stream import opening_prompt, run_stream
from gf_runtime.world.classifier import FrameClassifier, FramePredictions
from gf_runtime.world.prompt import BIOMES, COLORS, SHAPES, WorldPrompt, parse_prompt
from gf_runtime.world.render import (GROUND_RGB, SKY_GRADIENT_DROP, SKY_RGB, WorldSim, ground_line_y, night_dimmed,
                                     subject_rgb)

logger = logging.getLogger(__name__)

HORIZON_MULTIPLE = 10  # streams run at least this many training horizons
RESPONSE_MAJORITY = 2 / 3  # a chunk "follows" a prompt when this share of its frames does
MOTION_DX_THRESHOLD = 0.5  # pixels per frame
BOUNCE_Y_STD = 2.0  # pixels
LANDED_DY = 0.5  # pixels: a last step this small after a drop means the subject has landed, not bounced
BOUNCE_LIFT = 3.0  # pixels above the ground line: only a bouncing subject leaves the ground
SUBJECT_COLOR_TOLERANCE = 60.0  # RGB distance from the subject's rendered colour within which a pixel is subject
SUBJECT_MIN_PIXELS = 2  # subject pixels a column needs to belong to a subject
SUBJECT_MIN_COLUMNS = 4  # a run of subject columns narrower than this is a speck, not a subject
UNCOUNTABLE_SUBJECTS = frozenset({("lava", "red")})  # (biome, colour): the biome is drawn in the subject's colour

EVAL_POLICIES: dict[str, dict[str, object]] = {
    "self_forcing": {"policy": "self_forcing"},
    "longlive": {"policy": "longlive"},
    "grounded": {"policy": "grounded"},
    "grounded-no-dual-memory": {"policy": "grounded", "dual_memory": False},
    "grounded-no-dr-rope": {"policy": "grounded", "dr_rope": False},
    "grounded-no-apr": {"policy": "grounded", "apr": False},
    # METHOD.md's anchor rule read literally (every frame a candidate, the first chunk admitted): see EVAL.md
    "grounded-first-chunk-anchors": {"policy": "grounded", "anchor_every_frame": True, "anchor_skip_chunks": 0},
}
DEFAULT_EVAL_POLICIES = tuple(name for name in EVAL_POLICIES if name != "grounded-first-chunk-anchors")


@dataclass(frozen=True)
class Targets:
    """What the schedule asks for, per chunk."""

    prompts: list[WorldPrompt]  # merged attributes active at each chunk
    switch_chunks: list[int]  # chunks (> 0) before which a prompt switch was applied
    switch_changes: list[tuple[str, ...]]  # attributes each switch changed


@dataclass
class PolicyResult:
    consistency_early: float
    consistency_late: float
    consistency: float
    identity: float
    drift: float
    switch_response_chunks: float
    switch_smoothness: float
    biome_early: float
    biome_late: float
    extra_subject: float
    per_chunk_consistency: list[float] = field(default_factory=list)
    per_chunk_identity: list[float] = field(default_factory=list)
    per_chunk_change: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("per_chunk")}


def stream_chunks(schedule: Sequence[ScheduledEvent], horizon_frames: int, chunk_frames: int) -> int:
    """At least 10 horizons, and past the last event by one horizon."""
    horizon_chunks = math.ceil(horizon_frames / chunk_frames)
    last = max((e.at_chunk for e in schedule), default=0)
    return max(math.ceil(HORIZON_MULTIPLE * horizon_frames / chunk_frames), last + horizon_chunks)


def schedule_targets(schedule: Sequence[ScheduledEvent], n_chunks: int) -> Targets:
    current = parse_prompt(opening_prompt(None, schedule))
    by_chunk = events_by_chunk(schedule)
    prompts, switches, changes = [], [], []
    for chunk in range(n_chunks):
        for event in by_chunk.get(chunk, []):
            if chunk == 0 or event.text is None:
                continue
            new = parse_prompt(event.text).merged_over(current)
            changed = tuple(k for k in ("biome", "night", "shape", "color", "motion", "pan") if getattr(new, k) != getattr(current, k))
            current = new
            switches.append(chunk)
            changes.append(changed)
        prompts.append(current)
    return Targets(prompts=prompts, switch_chunks=switches, switch_changes=changes)


def render_truth(schedule: Sequence[ScheduledEvent], n_chunks: int, chunk_frames: int, seed: int) -> np.ndarray:
    """The renderer playing the schedule: frames (n_chunks*C, H, W, 3)."""
    sim = WorldSim(opening_prompt(None, schedule), seed=seed)
    by_chunk = events_by_chunk(schedule)
    frames = []
    for chunk in range(n_chunks):
        for event in by_chunk.get(chunk, []):
            if chunk > 0 and event.text is not None:
                sim.set_prompt(event.text)
            if event.scene_cut:
                sim.scene_cut()
        clip, _ = sim.clip(chunk_frames)
        frames.append(clip)
    return np.concatenate(frames)


def frame_statistics(frames: np.ndarray) -> np.ndarray:
    """f(window): per-channel mean and std (0–1) and mean edge energy of a window of frames."""
    x = frames.astype(np.float32) / 255.0
    grey = x.mean(axis=-1)
    edges = np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=2)).mean()
    return np.concatenate([x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2)), [edges]])


def _background_rgb(biome: str, night: bool) -> np.ndarray:
    """The biome's plain colours as the renderer paints them: the sky's top and bottom and the ground, (3, 3)."""
    sky = np.array(SKY_RGB[biome], np.float32)
    plain = np.stack([sky, sky * (1.0 - SKY_GRADIENT_DROP), np.array(GROUND_RGB[biome], np.float32)])
    return night_dimmed(plain) if night else plain


def count_subjects(frame_hw3: np.ndarray, color: str, night: bool, biome: str) -> int:
    """How many subjects of ``color`` a frame shows: runs of columns holding that colour, read around the frame's
    edge (a subject that wraps from the right edge to the left counts once). A pixel holds the colour when it is
    within the tolerance of it and nearer to it than to the biome's sky and ground (a blurred blue ocean or green
    grassland is not a subject)."""
    palette = np.concatenate([subject_rgb(color, night)[None], _background_rgb(biome, night)])  # (4, 3), the subject first
    distance = np.linalg.norm(frame_hw3.astype(np.float32)[:, :, None, :] - palette, axis=-1)  # (H, W, 4)
    near = (distance[..., 0] < SUBJECT_COLOR_TOLERANCE) & (distance.argmin(axis=-1) == 0)  # (H, W)
    columns = near.sum(axis=0) >= SUBJECT_MIN_PIXELS  # (W,)
    if columns.all():
        return 1
    columns = np.roll(columns, -int(np.flatnonzero(~columns)[0]))  # start on an empty column
    edges = np.flatnonzero(np.diff(np.concatenate([[0], columns.astype(np.int8), [0]])))
    widths = edges[1::2] - edges[0::2]
    return int(np.sum(widths >= SUBJECT_MIN_COLUMNS))


def extra_subject_share(frames: np.ndarray, prompts: Sequence[WorldPrompt]) -> float:
    """The share of frames (N, H, W, 3), each with its active prompt, that show two or more subjects of the prompted
    colour; frames whose subject cannot be told from their biome are left out (0.0 when none is left)."""
    counts = [count_subjects(frame, str(p.color), bool(p.night), str(p.biome)) for frame, p in zip(frames, prompts)
              if (p.biome, p.color) not in UNCOUNTABLE_SUBJECTS]
    return float(np.mean([n >= 2 for n in counts])) if counts else 0.0


def chunk_motion(pred: FramePredictions, frames: slice) -> str:
    """The subject's motion over a chunk from the classifier's positions.

    A bouncing subject is off the ground at the chunk's last frame (near the apex it hardly moves within a
    chunk), or its height varied over the chunk; a still or walking one stands on the ground line. A switch away
    from bouncing lands the subject between the chunk's first and second frames (the first still shows where the
    bounce left it): one drop and then a level step is a landing, not a bounce. A real bounce never ends a chunk
    that varied this much with a level step (its apex is flat only when the chunk is).
    """
    x, y = pred.x[frames], pred.y[frames]
    dx = np.diff(x)
    dx = (dx + 32) % 64 - 32  # wrap around the frame
    if len(y) and ground_line_y() - y[-1] > BOUNCE_LIFT:
        return "bounces"
    if len(y) > 1 and y.std() > BOUNCE_Y_STD and abs(y[-1] - y[-2]) > LANDED_DY:
        return "bounces"
    if len(dx) and dx.mean() < -MOTION_DX_THRESHOLD:
        return "left"
    if len(dx) and dx.mean() > MOTION_DX_THRESHOLD:
        return "right"
    return "still"


def _follows(pred: FramePredictions, frames: slice, target: WorldPrompt, changed: tuple[str, ...]) -> bool:
    checks = []
    if "biome" in changed:
        checks.append(np.mean(pred.biome[frames] == BIOMES.index(target.biome)) >= RESPONSE_MAJORITY)  # type: ignore[arg-type]
    if "night" in changed:
        checks.append(np.mean(pred.night[frames] == target.night) >= RESPONSE_MAJORITY)
    if "color" in changed:
        checks.append(np.mean(pred.color[frames] == COLORS.index(target.color)) >= RESPONSE_MAJORITY)  # type: ignore[arg-type]
    if "shape" in changed:
        checks.append(np.mean(pred.shape[frames] == SHAPES.index(target.shape)) >= RESPONSE_MAJORITY)  # type: ignore[arg-type]
    if "motion" in changed:
        checks.append(chunk_motion(pred, frames) == target.motion)
    return all(checks) if checks else True


def score_stream(
    frames: np.ndarray,
    pred: FramePredictions,
    targets: Targets,
    truth: np.ndarray,
    horizon_frames: int,
    chunk_frames: int,
) -> PolicyResult:
    n_frames = len(frames)
    n_chunks = n_frames // chunk_frames
    frame_target = [targets.prompts[i // chunk_frames] for i in range(n_frames)]
    biome_ok = pred.biome == np.array([BIOMES.index(t.biome) for t in frame_target])  # type: ignore[arg-type]
    color_ok = pred.color == np.array([COLORS.index(t.color) for t in frame_target])  # type: ignore[arg-type]
    shape_ok = pred.shape == np.array([SHAPES.index(t.shape) for t in frame_target])  # type: ignore[arg-type]
    consistent = biome_ok & color_ok & shape_ok
    identity_ok = color_ok & shape_ok
    early, late = slice(0, horizon_frames), slice(n_frames - horizon_frames, n_frames)
    first_switch = targets.switch_chunks[0] * chunk_frames if targets.switch_chunks else 0
    after = slice(first_switch, n_frames)

    f_gen_early, f_gen_late = frame_statistics(frames[early]), frame_statistics(frames[late])
    f_true_early, f_true_late = frame_statistics(truth[early]), frame_statistics(truth[late])
    drift = float(np.linalg.norm((f_gen_late - f_true_late) - (f_gen_early - f_true_early)))

    change_per_frame = np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))  # (N-1,)
    typical = float(np.median(change_per_frame)) or 1.0
    responses, smoothness = [], []
    bounds = targets.switch_chunks + [n_chunks]
    for k, (chunk, changed) in enumerate(zip(targets.switch_chunks, targets.switch_changes)):
        target = targets.prompts[chunk]
        response = bounds[k + 1] - chunk  # censored: never followed before the next switch
        for j in range(chunk, bounds[k + 1]):
            if _follows(pred, slice(j * chunk_frames, (j + 1) * chunk_frames), target, changed):
                response = j - chunk
                break
        responses.append(response)
        lo, hi = max(0, (chunk - 1) * chunk_frames - 1), min(n_frames - 1, (chunk + 2) * chunk_frames - 1)
        smoothness.append(float(change_per_frame[lo:hi].max()) / typical)

    per_chunk = lambda mask: [float(mask[c * chunk_frames : (c + 1) * chunk_frames].mean()) for c in range(n_chunks)]  # noqa: E731
    chunk_change = [float(change_per_frame[max(0, c * chunk_frames - 1) : (c + 1) * chunk_frames - 1].mean()) for c in range(n_chunks)]
    return PolicyResult(
        consistency_early=float(consistent[early].mean()),
        consistency_late=float(consistent[late].mean()),
        consistency=float(consistent.mean()),
        identity=float(identity_ok[after].mean()),
        drift=drift,
        switch_response_chunks=float(np.mean(responses)) if responses else 0.0,
        switch_smoothness=float(np.mean(smoothness)) if smoothness else 0.0,
        biome_early=float(biome_ok[early].mean()),
        biome_late=float(biome_ok[late].mean()),
        extra_subject=extra_subject_share(frames, frame_target),
        per_chunk_consistency=per_chunk(consistent),
        per_chunk_identity=per_chunk(identity_ok),
        per_chunk_change=chunk_change,
    )


def policy_stream(
    pipe: Pipeline,
    schedule: Sequence[ScheduledEvent],
    name: str,
    n_chunks: int,
    seed: int = 0,
    progress: bool = False,
    variants: Mapping[str, Mapping[str, object]] = EVAL_POLICIES,
    carry_over_prompts: bool = False,
) -> np.ndarray:
    """The frames (N, H, W, 3) uint8 that policy variant ``name`` (in ``variants``: a memory policy and its knobs)
    generates over ``n_chunks`` chunks of ``schedule``."""
    if name not in variants:
        raise ValueError(f"unknown policy variant {name!r}; choose from {', '.join(variants)}")
    knobs = dict(variants[name])
    memory = pipe.memory_config(str(knobs.pop("policy")), **knobs)
    kept: list[np.ndarray] = []

    def keep(chunk: Chunk) -> None:
        kept.append(chunk.frames)

    run_stream(pipe, None, n_chunks, seed=seed, schedule=schedule, memory=memory, on_chunk=keep, progress=progress,
               carry_over_prompts=carry_over_prompts)
    return np.concatenate(kept)


def evaluate_long(
    pipe: Pipeline,
    classifier: FrameClassifier,
    schedule: Sequence[ScheduledEvent],
    policies: Sequence[str] = DEFAULT_EVAL_POLICIES,
    seed: int = 0,
    progress: bool = True,
    variants: Mapping[str, Mapping[str, object]] = EVAL_POLICIES,
    carry_over_prompts: bool = False,
) -> dict[str, object]:
    """Each policy variant of ``policies`` (names in ``variants``: a memory policy and its knobs) on one stream."""
    horizon = pipe.spec.horizon_frames
    chunk_frames = pipe.spec.sampler.chunk_frames
    n_chunks = stream_chunks(schedule, horizon, chunk_frames)
    targets = schedule_targets(schedule, n_chunks)
    truth = render_truth(schedule, n_chunks, chunk_frames, seed)
    results: dict[str, PolicyResult] = {}
    for name in policies:
        frames = policy_stream(pipe, schedule, name, n_chunks, seed=seed, progress=progress, variants=variants,
                               carry_over_prompts=carry_over_prompts)
        results[name] = score_stream(frames, classifier.predict(frames), targets, truth, horizon, chunk_frames)
    return {
        "horizon_frames": horizon,
        "stream_frames": n_chunks * chunk_frames,
        "switch_chunks": targets.switch_chunks,
        "carry_over_prompts": carry_over_prompts,
        "policies": {name: r.summary() for name, r in results.items()},
        "_curves": {name: {"consistency": r.per_chunk_consistency, "identity": r.per_chunk_identity, "change": r.per_chunk_change} for name, r in results.items()},
    }


def evaluate_long_seeds(
    pipe: Pipeline,
    classifier: FrameClassifier,
    schedule: Sequence[ScheduledEvent],
    policies: Sequence[str] = DEFAULT_EVAL_POLICIES,
    seeds: Sequence[int] = (0,),
    progress: bool = True,
    variants: Mapping[str, Mapping[str, object]] = EVAL_POLICIES,
    carry_over_prompts: bool = False,
) -> dict[str, object]:
    """``evaluate_long`` for each seed; metrics and per-chunk curves are means over the seeds (one stream is one
    roll of the dice: whether a subject survives a switch differs from seed to seed). Per-seed values are kept."""
    if not seeds:
        raise ValueError("give at least one seed")
    runs = [evaluate_long(pipe, classifier, schedule, policies, seed=seed, progress=progress, variants=variants,
                          carry_over_prompts=carry_over_prompts) for seed in seeds]
    if len(runs) == 1:
        return {**runs[0], "seeds": list(seeds)}
    summaries = [run["policies"] for run in runs]
    curves = [run["_curves"] for run in runs]
    mean_policies: dict[str, dict[str, float]] = {}
    per_seed: dict[str, dict[str, list[float]]] = {}
    mean_curves: dict[str, dict[str, list[float]]] = {}
    for name in policies:
        metrics = summaries[0][name].keys()  # type: ignore[index]
        per_seed[name] = {m: [float(s[name][m]) for s in summaries] for m in metrics}  # type: ignore[index]
        mean_policies[name] = {m: float(np.mean(values)) for m, values in per_seed[name].items()}
        mean_curves[name] = {
            key: np.mean([c[name][key] for c in curves], axis=0).tolist()  # type: ignore[index]
            for key in ("consistency", "identity", "change")
        }
    return {**runs[0], "seeds": list(seeds), "policies": mean_policies, "per_seed": per_seed, "_curves": mean_curves}


def markdown_table(report: dict[str, object]) -> str:
    policies = report["policies"]
    assert isinstance(policies, dict)
    columns = [
        ("consistency_early", "consistency early"), ("consistency_late", "consistency late"),
        ("consistency", "consistency"), ("identity", "identity"), ("drift", "drift ↓"),
        ("switch_response_chunks", "switch response (chunks) ↓"), ("switch_smoothness", "switch smoothness ↓"),
        ("biome_early", "biome early"), ("biome_late", "biome late"), ("extra_subject", "extra subject ↓"),
    ]
    lines = ["| policy | " + " | ".join(label for _, label in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in policies.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[key]:.3f}" for key, _ in columns) + " |")
    return "\n".join(lines)


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average that averages only the values present at the ends (no dip towards zero there)."""
    kernel = np.ones(width)
    return np.convolve(values, kernel, mode="same") / np.convolve(np.ones_like(values), kernel, mode="same")


def plot_curves(report: dict[str, object], path: Path, chunk_frames: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = report["_curves"]
    assert isinstance(curves, dict)
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    titles = (("consistency", "consistency per chunk (biome, colour, shape as prompted)"),
              ("identity", "identity per chunk (subject shape and colour)"),
              ("change", "mean frame-to-frame change (grey levels)"))
    for ax, (key, title) in zip(axes, titles):
        for name, data in curves.items():
            values = np.asarray(data[key])
            smooth = moving_average(values, 3) if key != "change" else values
            ax.plot(np.arange(len(values)), smooth, label=name, linewidth=1.2 if name == "grounded" else 0.8)
        for chunk in report["switch_chunks"]:  # type: ignore[union-attr]
            ax.axvline(chunk, color="grey", linestyle=":", linewidth=0.8)
        ax.axvline(report["horizon_frames"] / chunk_frames, color="black", linewidth=0.8)  # type: ignore[operator]
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("chunk (dotted: prompt switches; solid: end of the training horizon)")
    axes[0].legend(fontsize=8, ncol=3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(report: dict[str, object], out_dir: Path, chunk_frames: int) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    (out_dir / "eval_long.json").write_text(json.dumps(public, indent=2))
    (out_dir / "eval_long.md").write_text(markdown_table(report) + "\n")
    # the per-chunk curves the PNG plots (means over the seeds), so that what one reads off the plot can be checked
    (out_dir / "eval_long_curves.json").write_text(json.dumps({"chunk_frames": chunk_frames, "policies": report["_curves"]}))
    plot_curves(report, out_dir / "eval_long.png", chunk_frames)
