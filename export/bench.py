"""`gf bench onnx`: the onnxruntime backend against torch, per chunk, on the same model, seed and events.

Both backends run the same stream (a prompt switch halfway, so the APR recache is in it) in alternating rounds
after a warm-up; wall-clock per chunk from the session's own timings (events, denoise + context pass, decode).
One JSON line per backend, then one comparing them (speed-up at p50 and the parity of latents and frames).
Plugged into `gf bench` through the ``gf.bench`` entry points; imports only the standard library at load time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

    from gf_runtime.engine.pipeline import Pipeline
    from gf_runtime.engine.session import Chunk

WARMUP_CHUNKS = 3


def register(bench: argparse._SubParsersAction) -> None:
    p = bench.add_parser("onnx", help="onnxruntime against torch per chunk (same model, seed and events)")
    p.add_argument("--model", default="default", help="the torch model ('default', a preset, a folder, a checkpoint)")
    p.add_argument("--export-dir", type=Path, help="an export of --model (default: export it to a temporary folder)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (onnxruntime's CUDA provider)")
    p.add_argument("--policy", default="grounded")
    p.add_argument("--chunks", type=int, default=64, help="chunks per stream")
    p.add_argument("--rounds", type=int, default=3, help="streams per backend, alternating")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for both torch and onnxruntime")
    p.add_argument("--json", action="store_true", help="print JSON lines only")
    p.set_defaults(handler=_run)


@dataclass
class BackendRun:
    backend: str
    chunk_ms: list[float] = field(default_factory=list)
    denoise_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)
    events_ms: list[float] = field(default_factory=list)
    latents: list["torch.Tensor"] = field(default_factory=list)  # first round only, for parity
    frames: list["np.ndarray"] = field(default_factory=list)


def _stream(pipe: "Pipeline", run: BackendRun, policy: str, chunks: int, keep: bool) -> None:
    from gf_runtime.benchmarks.speed import BENCH_PROMPT, SWITCH_PROMPT
    from gf_runtime.engine.events import ScheduledEvent
    from gf_runtime.engine.stream import run_stream

    def on_chunk(chunk: "Chunk") -> None:
        if chunk.index == 0:
            return  # the first chunk of a stream holds one-off costs (prompt encoding, first allocation)
        run.chunk_ms.append(chunk.timings.total_ms)
        run.denoise_ms.append(chunk.timings.denoise_ms)
        run.decode_ms.append(chunk.timings.decode_ms)
        if chunk.timings.events_ms > 0:
            run.events_ms.append(chunk.timings.events_ms)

    def keep_chunk(chunk: "Chunk") -> None:
        on_chunk(chunk)
        run.latents.append(chunk.latents)
        run.frames.append(chunk.frames)

    schedule = [ScheduledEvent(at_chunk=chunks // 2, text=SWITCH_PROMPT)]
    memory = pipe.memory_config(policy)
    run_stream(pipe, BENCH_PROMPT, chunks, seed=0, schedule=schedule, memory=memory,
               on_chunk=keep_chunk if keep else on_chunk, progress=False)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_onnx_benchmark(
    model: str,
    export_dir: Path | None,
    device: str,
    policy: str,
    chunks: int,
    rounds: int,
    threads: int | None,
) -> list[dict[str, Any]]:
    import numpy as np
    import torch

    from gf_runtime.machine import machine_description
    from gf_runtime.engine.pipeline import load_pipeline

    from export.exporter import export_pipeline, source_identity
    from export.manifest import ExportFolderError, read_manifest
    from export.onnx_backend import load_onnx_pipeline

    if chunks < 2 or rounds < 1:
        raise ValueError(f"--chunks must be at least 2 and --rounds at least 1, got {chunks} and {rounds}")
    if threads is not None:
        torch.set_num_threads(threads)
    torch_pipe = load_pipeline(model, device=device)
    source_pipe = torch_pipe if torch_pipe.device.type == "cpu" else load_pipeline(model, device="cpu")
    with tempfile.TemporaryDirectory(prefix="gf-bench-onnx-") as tmp:
        if export_dir is None:
            export_dir = Path(tmp)
            export_pipeline(source_pipe, export_dir, source=model)
        elif read_manifest(export_dir).identity != source_identity(source_pipe):
            raise ExportFolderError(f"{export_dir} was not exported from {model!r}; pass the export of that model")
        onnx_pipe = load_onnx_pipeline(export_dir, device=device, policy=policy, threads=threads)
        runs = {"torch": BackendRun("torch"), "onnx": BackendRun("onnx")}
        pipes = {"torch": torch_pipe, "onnx": onnx_pipe}
        for name, pipe in pipes.items():
            _stream(pipe, BackendRun(name), policy, WARMUP_CHUNKS, keep=False)
        for index in range(rounds):
            for name, pipe in pipes.items():
                _stream(pipe, runs[name], policy, chunks, keep=index == 0)
    rows: list[dict[str, Any]] = []
    for name, run in runs.items():
        rows.append({
            "bench": "onnx",
            "backend": name,
            "device": machine_description(torch.device(device)),
            "dtype": "fp32",
            "threads": threads if threads is not None else torch.get_num_threads(),
            "model": model,
            "policy": policy,
            "chunks": chunks,
            "rounds": rounds,
            "chunk_frames": torch_pipe.spec.sampler.chunk_frames,
            "steps": len(torch_pipe.spec.sampler.timesteps),
            "p50_chunk_ms": statistics.median(run.chunk_ms),
            "p95_chunk_ms": _percentile(run.chunk_ms, 0.95),
            "p50_denoise_ms": statistics.median(run.denoise_ms),
            "p50_decode_ms": statistics.median(run.decode_ms),
            "p50_switch_ms": statistics.median(run.events_ms) if run.events_ms else None,
            "fps": torch_pipe.spec.sampler.chunk_frames * 1e3 / statistics.median(run.chunk_ms),
        })
    latents_diff = max(float((a - b).abs().max()) for a, b in zip(runs["torch"].latents, runs["onnx"].latents))
    frames_diff = max(
        int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) for a, b in zip(runs["torch"].frames, runs["onnx"].frames)
    )
    rows.append({
        "bench": "onnx",
        "compare": "onnx vs torch",
        "speedup_p50": rows[0]["p50_chunk_ms"] / rows[1]["p50_chunk_ms"],
        "max_latent_diff": latents_diff,
        "max_frame_diff": frames_diff,
    })
    return rows


def _run(args: argparse.Namespace) -> int:
    rows = run_onnx_benchmark(
        args.model, args.export_dir, args.device, args.policy, args.chunks, args.rounds, args.threads
    )
    for row in rows:
        if args.json:
            print(json.dumps(row), flush=True)
        elif "backend" in row:
            print(f"{row['backend']:>5}: p50 {row['p50_chunk_ms']:.2f} ms/chunk (p95 {row['p95_chunk_ms']:.2f}; denoise "
                  f"{row['p50_denoise_ms']:.2f}, decode {row['p50_decode_ms']:.2f}), {row['fps']:.0f} FPS, "
                  f"{row['model']} {row['policy']} on {row['device']}")
        else:
            print(f"onnx vs torch: {row['speedup_p50']:.2f}x at p50; max latent diff {row['max_latent_diff']:.2e}, "
                  f"max frame diff {row['max_frame_diff']} grey levels")
    return 0
