"""The ``gf`` command. Subcommands of other packages (bridge, export) plug in through the ``gf.commands``
entry-point group, so this runtime never imports them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Sequence

import numpy as np

from gf_runtime.config import PIPELINE_PRESETS, POLICY_NAMES

logger = logging.getLogger("gf")

PLUGIN_GROUP = "gf.commands"


def add_pipeline_arguments(parser: argparse.ArgumentParser, default_model: str = "tiny-random") -> None:
    parser.add_argument(
        "--model", default=default_model, help=f"a preset ({', '.join(PIPELINE_PRESETS)}) or a checkpoint path"
    )
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--policy", default="grounded", choices=POLICY_NAMES)


def _add_generate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", help="generate a stream of chunks to MP4 / .npy")
    add_pipeline_arguments(p)
    p.add_argument("--prompt", help="opening prompt (or an event at chunk 0 in --events)")
    p.add_argument("--chunks", type=int, default=16, help="chunks to generate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--events", type=Path, help='JSON list of {"at_chunk": N, "text": "...", "scene_cut": false}')
    p.add_argument("--out", type=Path, help="write an MP4 here")
    p.add_argument("--scale", type=int, default=1, help="enlarge the MP4 by this factor (nearest neighbour)")
    p.add_argument("--save-frames", type=Path, help="write the raw uint8 frames [N, H, W, 3] to this .npy")
    p.add_argument("--json", action="store_true", help="print one JSON object with the run's figures")
    p.set_defaults(handler=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    from gf_runtime.engine.events import load_schedule
    from gf_runtime.engine.pipeline import load_pipeline
    from gf_runtime.engine.stream import run_stream
    from gf_runtime.video import Mp4Writer

    schedule = load_schedule(args.events) if args.events else []
    pipe = load_pipeline(args.model, device=args.device, policy=args.policy, dtype=args.dtype)
    writer = Mp4Writer(args.out, fps=pipe.spec.fps, scale=args.scale) if args.out else None
    kept: list[np.ndarray] = []

    def on_chunk(chunk) -> None:  # type: ignore[no-untyped-def]
        if writer is not None:
            writer.write(chunk.frames)
        if args.save_frames is not None:
            kept.append(chunk.frames)

    try:
        result = run_stream(pipe, args.prompt, args.chunks, seed=args.seed, schedule=schedule, on_chunk=on_chunk)
    finally:
        if writer is not None:
            writer.close()
    if args.save_frames is not None:
        args.save_frames.parent.mkdir(parents=True, exist_ok=True)
        np.save(args.save_frames, np.concatenate(kept, axis=0))
    summary = {"model": args.model, "seed": args.seed, "chunks": args.chunks, **result.summary()}
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['frames']} frames at {summary['fps']:.1f} FPS (first chunk {summary['first_chunk_ms']:.0f} ms), "
            f"policy {summary['policy']}, memory ≤ {summary['cache_frames_max']} frames, "
            f"max temporal position {summary['max_temporal_position']} (horizon {summary['horizon']})"
            + (f"; video: {args.out}" if args.out else "")
        )
    return 0


def _add_bench(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="benchmarks (speed)")
    bench = p.add_subparsers(dest="bench", required=True)
    speed = bench.add_parser("speed", help="FPS, first-chunk latency, per-chunk time over a long stream, memory")
    speed.add_argument("--model", default="tiny-random")
    speed.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    speed.add_argument("--dtype", default=None, choices=["fp32", "bf16", "fp16"], help="default: fp32 on CPU, bf16 on GPU")
    speed.add_argument("--chunks", type=int, default=210, help="stream length per policy")
    speed.add_argument("--policies", default=",".join(POLICY_NAMES), help="comma-separated policies")
    speed.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    speed.add_argument("--plot", type=Path, default=Path("out/bench_speed.png"), help="per-chunk time PNG")
    speed.add_argument("--json", action="store_true", help="print one JSON line per policy")
    speed.set_defaults(handler=_run_bench_speed)


def _run_bench_speed(args: argparse.Namespace) -> int:
    from gf_runtime.benchmarks.speed import run_speed_benchmark

    run_speed_benchmark(
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        chunks=args.chunks,
        policies=[p for p in args.policies.split(",") if p],
        threads=args.threads,
        plot=args.plot,
        as_json=args.json,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gf", description="Grounded Forcing: an endless generated world.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_generate(subparsers)
    _add_bench(subparsers)
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gf {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
