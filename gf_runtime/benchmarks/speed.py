"""`gf bench speed`: FPS, first-chunk latency, per-chunk time over a long stream, memory, per policy.

Timing: a warm-up stream first; wall-clock per chunk with a device synchronise (CUDA) around each chunk.
One JSON line per policy: device, dtype, model, config, p50/p95 chunk ms, FPS, flatness (chunk ~200 vs ~10).
"""

from __future__ import annotations

import json
import logging
import resource
import statistics
from pathlib import Path

import torch

from gf_runtime.engine.events import ScheduledEvent
from gf_runtime.engine.pipeline import load_pipeline
from gf_runtime.engine.stream import run_stream
from gf_runtime.machine import machine_description

logger = logging.getLogger(__name__)

BENCH_PROMPT = "a red ball bouncing in a desert"
SWITCH_PROMPT = "snow falls on the ball"
EARLY_WINDOW = (5, 16)  # chunks around 10
LATE_WINDOW = (195, 206)  # chunks around 200


def _window_median(values: list[float], window: tuple[int, int]) -> float | None:
    lo, hi = window
    part = values[lo:hi]
    return statistics.median(part) if len(part) == hi - lo else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_speed_benchmark(
    model: str,
    device: str | None,
    dtype: str | None,
    chunks: int,
    policies: list[str],
    threads: int | None,
    plot: Path | None,
    as_json: bool,
) -> list[dict[str, object]]:
    if threads is not None:
        torch.set_num_threads(threads)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = dtype or ("bf16" if device.startswith("cuda") else "fp32")
    pipe = load_pipeline(model, device=device, dtype=dtype)
    pipe.warmup(chunks=3)
    switch_at = min(chunks // 2, 100)
    schedule = [ScheduledEvent(at_chunk=switch_at, text=SWITCH_PROMPT)]
    results = []
    curves: dict[str, list[float]] = {}
    for policy in policies:
        if pipe.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(pipe.device)
        memory = pipe.memory_config(policy)
        stream = run_stream(pipe, BENCH_PROMPT, chunks, seed=0, schedule=schedule, memory=memory, progress=not as_json)
        chunk_ms = stream.chunk_ms
        early = _window_median(chunk_ms, EARLY_WINDOW)
        late = _window_median(chunk_ms, LATE_WINDOW)
        steady = chunk_ms[1:]
        row: dict[str, object] = {
            "bench": "speed",
            "device": machine_description(pipe.device),
            "dtype": dtype,
            "model": model,
            "latent": [pipe.spec.latent.height, pipe.spec.latent.width],
            "steps": len(pipe.spec.sampler.timesteps),
            "chunk_frames": pipe.spec.sampler.chunk_frames,
            "policy": policy,
            "chunks": chunks,
            "fps_latent": sum(pipe.spec.sampler.chunk_frames for _ in steady) / (sum(steady) / 1e3),
            "first_chunk_ms": chunk_ms[0],
            "p50_chunk_ms": statistics.median(steady),
            "p95_chunk_ms": _percentile(steady, 0.95),
            "chunk10_ms": early,
            "chunk200_ms": late,
            "late_over_early": (late / early) if (late and early) else None,
            "events_ms": [round(ms, 2) for ms in stream.events_ms if ms > 0],
            "memory_frames_max": max(stream.memory_frames),
            "max_temporal_position": max(stream.max_positions),
            "peak_gpu_mb": (torch.cuda.max_memory_allocated(pipe.device) / 2**20) if pipe.device.type == "cuda" else None,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        results.append(row)
        curves[policy] = chunk_ms
        if as_json:
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{policy:>13}: {row['fps_latent']:.1f} latent FPS, first chunk {row['first_chunk_ms']:.1f} ms, "
                f"p50 {row['p50_chunk_ms']:.1f} ms, chunk10 {early} ms, chunk200 {late} ms, "
                f"late/early {row['late_over_early']}, memory ≤ {row['memory_frames_max']} frames",
                flush=True,
            )
    if plot is not None:
        _plot_curves(curves, plot, title=f"{model} on {machine_description(pipe.device)} ({dtype})")
    return results


def _plot_curves(curves: dict[str, list[float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for policy, chunk_ms in curves.items():
        ax.plot(range(len(chunk_ms)), chunk_ms, label=policy, linewidth=1)
    ax.set_xlabel("chunk index")
    ax.set_ylabel("ms per chunk")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    logger.info("wrote %s", path)
