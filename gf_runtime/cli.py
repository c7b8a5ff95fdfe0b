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
BENCH_PLUGIN_GROUP = "gf.bench"  # `gf bench NAME` benchmarks of other packages
# `gf train world --precision` → WorldTrainConfig.bf16_autocast (None: decided by the CPU)
TRAIN_PRECISIONS: dict[str, bool | None] = {"auto": None, "bf16": True, "fp32": False}


def add_pipeline_arguments(parser: argparse.ArgumentParser, default_model: str = "default") -> None:
    parser.add_argument(
        "--model",
        default=default_model,
        help=f"'default' (the embedded world), a preset ({', '.join(PIPELINE_PRESETS)}), a model folder or a checkpoint",
    )
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--policy", default="grounded", choices=POLICY_NAMES)
    parser.add_argument(
        "--backend",
        default="torch",
        help="what runs the DiT: torch, or a backend another package registers, e.g. onnx (then --model is a "
        "folder written by `gf export onnx`)",
    )


CARRY_OVER_HELP = ("each prompt keeps the earlier prompts' words for what it leaves out (\"the desert\" keeps the red "
                   "ball), so the text goes on naming the subject; models whose text encoder composes prompts (default)")


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
    p.add_argument("--carry-over-prompts", action="store_true", help=CARRY_OVER_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object with the run's figures")
    p.set_defaults(handler=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    from gf_runtime.engine.events import load_schedule
    from gf_runtime.engine.pipeline import load_pipeline
    from gf_runtime.engine.stream import run_stream
    from gf_runtime.video import Mp4Writer

    schedule = load_schedule(args.events) if args.events else []
    pipe = load_pipeline(args.model, device=args.device, policy=args.policy, dtype=args.dtype, backend=args.backend)
    writer = Mp4Writer(args.out, fps=pipe.spec.fps, scale=args.scale) if args.out else None
    kept: list[np.ndarray] = []

    def on_chunk(chunk) -> None:  # type: ignore[no-untyped-def]
        if writer is not None:
            writer.write(chunk.frames)
        if args.save_frames is not None:
            kept.append(chunk.frames)

    try:
        result = run_stream(pipe, args.prompt, args.chunks, seed=args.seed, schedule=schedule, on_chunk=on_chunk,
                            carry_over_prompts=args.carry_over_prompts)
    finally:
        if writer is not None:
            writer.close()
    if args.save_frames is not None:
        args.save_frames.parent.mkdir(parents=True, exist_ok=True)
        np.save(args.save_frames, np.concatenate(kept, axis=0))
    summary = {"model": args.model, "backend": args.backend, "seed": args.seed, "chunks": args.chunks, **result.summary()}
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
    for plugin in entry_points(group=BENCH_PLUGIN_GROUP):
        plugin.load()(bench)


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


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train models")
    train = p.add_subparsers(dest="train", required=True)
    world = train.add_parser("world", help="train the embedded default world model (VAE, text encoder, DiT) on a CPU, "
                                           "or a larger variant on a GPU")
    world.add_argument("--recipe", default="default",
                       help="a named recipe: default (the shipped model, within the hour on a slow 2-core CPU), "
                            "default-2026-12-05 and default-2026-11-25 (earlier defaults, a CPU), hour-2026-12-06 and "
                            "reuse-2026-12-06 (earlier cuts of the 2026-12-05 default) or large (a 5x larger DiT, for "
                            "a GPU)")
    world.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    world.add_argument("--data-workers", type=int, default=None,
                       help="processes drawing batches ahead (recipes with step-seeded data; default: all but two "
                            "cores on a GPU, none on a CPU)")
    world.add_argument("--dit-time-limit", type=float, default=None, metavar="SECONDS",
                       help="stop the DiT stage after this long (a leased machine's time); the card says where")
    world.add_argument("--seed", type=int, default=0)
    world.add_argument("--out", type=Path, default=None, help="output folder (default: the shipped model's folder)")
    world.add_argument("--dit-shape", default=None, help="override the recipe's DiT shape (a model preset: tiny, small)")
    world.add_argument("--dit-steps", type=int, default=None, help="override the DiT step count")
    world.add_argument("--vae-steps", type=int, default=None, help="override the VAE step count")
    world.add_argument("--threads", type=int, default=None, help="torch CPU threads (default 2)")
    world.add_argument("--precision", choices=sorted(TRAIN_PRECISIONS), default="auto",
                       help="DiT forward/backward precision (and the VAE's forward, in recipes that ask for it); auto: bf16 "
                            "autocast where the CPU computes bf16 natively "
                            "(AVX512-BF16/AMX), fp32 elsewhere (emulated bf16 is ~11x slower)")
    world.set_defaults(handler=_run_train_world)


def _run_train_world(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from gf_runtime.world.files import DEFAULT_MODEL_DIR
    from gf_runtime.world.train import CLI_TRAIN_FLAGS, WORLD_RECIPES, train_world

    if args.recipe not in WORLD_RECIPES:
        raise ValueError(f"unknown recipe {args.recipe!r}; choose one of {', '.join(WORLD_RECIPES)}")
    if args.out is None and args.recipe != "default":
        raise ValueError(f"--recipe {args.recipe} needs --out: the shipped model's folder holds the default recipe's model")
    if args.recipe == "large" and torch.device(args.device).type == "cpu":
        raise ValueError("--recipe large is sized for a GPU (pass --device cuda): its batches of 512 clips for the 20 M "
                         "DiT need more than 24 GB of memory and about a day on a CPU; the default recipe trains on one")
    overrides = {k: getattr(args, k) for k in CLI_TRAIN_FLAGS if getattr(args, k) is not None}
    config = dataclasses.replace(WORLD_RECIPES[args.recipe], seed=args.seed,
                                 bf16_autocast=TRAIN_PRECISIONS[args.precision], **overrides)
    report = train_world(config, args.out or DEFAULT_MODEL_DIR, device=args.device, data_workers=args.data_workers,
                         dit_time_limit_s=args.dit_time_limit)
    print(json.dumps({k: v for k, v in report.items() if k != "config"}))
    return 0


def _add_eval(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="quality benchmarks")
    ev = p.add_subparsers(dest="eval", required=True)
    long = ev.add_parser("long", help="long streams with prompt switches, every policy, scored by a frame classifier")
    long.add_argument("--model", default="default")
    long.add_argument("--device", default="cpu")
    long.add_argument("--schedule", type=Path, default=Path("examples/eval_schedule.json"),
                      help="events file (the --events format); its event at chunk 0 is the opening prompt")
    long.add_argument("--policies", default=None, help="comma-separated variants (default: all)")
    long.add_argument("--seed", type=int, default=0)
    long.add_argument("--seeds", default=None, help="comma-separated seeds; metrics are their means (overrides --seed)")
    long.add_argument("--out", type=Path, default=Path("out/eval"), help="folder for the table, JSON and PNG")
    long.add_argument("--carry-over-prompts", action="store_true", help=CARRY_OVER_HELP + "; off by default: the "
                      "benchmark asks memory, not the text, to keep what a switch leaves out")
    long.add_argument("--json", action="store_true", help="print the JSON report")
    long.set_defaults(handler=_run_eval_long)


def _run_eval_long(args: argparse.Namespace) -> int:
    from gf_runtime.engine.events import load_schedule
    from gf_runtime.engine.pipeline import load_pipeline
    from gf_runtime.world.classifier import load_classifier
    from gf_runtime.world.evaluate import DEFAULT_EVAL_POLICIES, evaluate_long_seeds, markdown_table, write_report

    schedule = load_schedule(args.schedule)
    pipe = load_pipeline(args.model, device=args.device)
    policies = args.policies.split(",") if args.policies else list(DEFAULT_EVAL_POLICIES)
    seeds = [int(v) for v in args.seeds.split(",") if v.strip()] if args.seeds else [args.seed]
    report = evaluate_long_seeds(pipe, load_classifier(), schedule, policies, seeds=seeds, progress=not args.json,
                                 carry_over_prompts=args.carry_over_prompts)
    write_report(report, args.out, pipe.spec.sampler.chunk_frames)
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if not k.startswith("_")}))
    else:
        print(markdown_table(report))
        print(f"written: {args.out}/eval_long.{{json,md,png}}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gf", description="Grounded Forcing: an endless generated world.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_generate(subparsers)
    _add_bench(subparsers)
    _add_train(subparsers)
    _add_eval(subparsers)
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
