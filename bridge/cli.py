"""`gf serve`, `gf play` and `gf keys`: plugged into the `gf` command through the ``gf.commands`` entry points."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from gf_runtime.cli import CARRY_OVER_HELP, add_pipeline_arguments

from bridge import protocol as P

logger = logging.getLogger("gf")


# ----------------------------------------------------------------------------------------------- serve
def register_serve(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="serve generated worlds to game clients over ZeroMQ")
    add_pipeline_arguments(p)
    p.add_argument("--bind", default="tcp://127.0.0.1:5555", help="ZeroMQ endpoint to bind (tcp://HOST:PORT)")
    p.add_argument("--max-sessions", type=int, default=P.Limits().max_sessions, help="sessions open at once, all clients")
    p.add_argument("--client-timeout", type=float, default=P.CLIENT_TIMEOUT_S, help="seconds of silence before a client's sessions are reaped")
    p.add_argument("--curve-keys", type=Path, help="folder from `gf keys`: require CURVE authentication")
    p.add_argument("--media", default="auto", choices=["auto", "dali", "pillow"], help="image pipeline for seed images and frame egress")
    p.add_argument("--ready-file", type=Path, help="write the bound endpoint here once listening (for scripts)")
    p.add_argument("--carry-over-prompts", action="store_true", help=CARRY_OVER_HELP)
    p.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from bridge.media import make_media
    from bridge.server import ServerConfig, WorldServer
    from gf_runtime.engine.pipeline import load_pipeline

    if args.max_sessions < 1:
        raise ValueError(f"--max-sessions must be at least 1, got {args.max_sessions}")
    pipe = load_pipeline(args.model, device=args.device, policy=args.policy, dtype=args.dtype, backend=args.backend)
    limits = P.Limits(max_sessions=args.max_sessions, max_sessions_per_client=args.max_sessions)
    config = ServerConfig(bind=args.bind, limits=limits, client_timeout_s=args.client_timeout, curve_keys=args.curve_keys,
                          carry_over_prompts=args.carry_over_prompts)
    server = WorldServer(pipe, make_media(args.media, device="cuda" if args.device.startswith("cuda") else "cpu"), config)
    endpoint = server.start()
    print(f"gf serve: {pipe.name} on {endpoint} (max {args.max_sessions} sessions); Ctrl-C stops", flush=True)
    if args.ready_file is not None:
        args.ready_file.parent.mkdir(parents=True, exist_ok=True)
        args.ready_file.write_text(endpoint)
    try:
        while server._thread is not None and server._thread.is_alive():
            server._thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


# ----------------------------------------------------------------------------------------------- play
def register_play(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("play", help="play a timeline of player/NPC prompts against `gf serve`")
    p.add_argument("--connect", default="tcp://127.0.0.1:5555", help="the server's endpoint")
    p.add_argument("--timeline", type=Path, help='JSON list of {"at_chunk": N or "at_s": T, "source": .., "text": .., "scene_cut": false}')
    p.add_argument("--prompt", help="opening prompt (else the timeline's event at chunk 0)")
    p.add_argument("--chunks", type=int, default=32, help="end the run after this many chunks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--policy", help="memory policy for the session (the server's default if omitted)")
    p.add_argument("--format", default="raw_rgb", choices=[f.value for f in P.FrameFormat])
    p.add_argument("--size", help="output WIDTHxHEIGHT (the model's own size if omitted)")
    p.add_argument("--pace", default="realtime", choices=[p.value for p in P.Pace])
    p.add_argument("--out", type=Path, help="write the received frames to this MP4")
    p.add_argument("--scale", type=int, default=1, help="enlarge the MP4 by this factor")
    p.add_argument("--log", type=Path, help="JSON log of the run (default: next to --out)")
    p.add_argument("--curve-keys", type=Path, help="folder from `gf keys` (uses server.key and client.key_secret)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server")
    p.add_argument("--json", action="store_true", help="print one JSON object with the run's figures")
    p.set_defaults(handler=_run_play)


def _parse_size(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 256x256 (WIDTHxHEIGHT), got {text!r}") from None
    return width, height


def _run_play(args: argparse.Namespace) -> int:
    from bridge.client import CurveClientKeys, WorldClient
    from bridge.play import opening_prompt, play
    from bridge.timeline import load_timeline
    from gf_runtime.video import Mp4Writer

    if args.chunks < 1:
        raise ValueError(f"--chunks must be at least 1, got {args.chunks}")
    timeline = load_timeline(args.timeline) if args.timeline else []
    prompt, timeline = opening_prompt(timeline, args.prompt)
    width, height = _parse_size(args.size)
    curve = CurveClientKeys.from_folder(args.curve_keys) if args.curve_keys else None
    try:
        client = WorldClient(args.connect, name="gf play", timeout_s=args.timeout, curve=curve)
    except TimeoutError:
        raise ValueError(f"no gf server answered at {args.connect} within {args.timeout} s; start one with `gf serve`") from None
    with client:
        session = client.open_session(prompt, seed=args.seed, policy=args.policy, format=args.format,
                                      width=width, height=height, pace=args.pace)
        writer = Mp4Writer(args.out, fps=float(client.server["fps"]), scale=args.scale) if args.out else None
        try:
            result = play(client, session, timeline, args.chunks,
                          on_frame=(lambda f: writer.write(f.rgb()[None])) if writer else None,
                          progress=not args.json, idle_timeout_s=args.timeout)
        finally:
            if writer is not None:
                writer.close()
        client.close_session(session)
    summary = result.summary()
    log_path = args.log or (args.out.with_suffix(".json") if args.out else None)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = {"connect": args.connect, "prompt": prompt, "seed": args.seed, "server": client.server,
               "timeline": [e.to_dict() for e in timeline], "last_stats": result.last_stats, **summary}
        log_path.write_text(json.dumps(log, indent=2))
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['frames']} frames at {summary['fps']:.1f} FPS, {summary['dropped']} dropped by the server")
        for e in summary["events"]:
            print(f"  {e['source']:>6} {e['text']!r}: sent at chunk {e['sent_chunk']}, applied at chunk "
                  f"{e['applied_chunk']}, first frame after {e['latency_ms']} ms")
        if args.out:
            print(f"video: {args.out}" + (f", log: {log_path}" if log_path else ""))
    return 0


# ----------------------------------------------------------------------------------------------- keys
def register_keys(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("keys", help="create CURVE keys for `gf serve --curve-keys` and its clients")
    p.add_argument("--out", type=Path, required=True, help="folder to create")
    p.add_argument("--clients", nargs="+", default=["client"], help="names of client key pairs to create")
    p.set_defaults(handler=_run_keys)


def _run_keys(args: argparse.Namespace) -> int:
    import shutil

    import zmq.auth

    clients_dir = args.out / "clients"
    clients_dir.mkdir(parents=True, exist_ok=True)
    zmq.auth.create_certificates(str(args.out), "server")
    for name in args.clients:
        public_file, _ = zmq.auth.create_certificates(str(args.out), name)
        shutil.copy(public_file, clients_dir / Path(public_file).name)
    print(f"keys in {args.out}: server.key_secret stays with the server; give each client server.key and its "
          f"own NAME.key_secret; clients/ lists the public keys the server accepts")
    return 0
