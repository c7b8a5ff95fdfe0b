"""`gf bench bridge`: what the bridge adds on loopback.

1. **Overhead per frame** (64×64 raw frames from a live `gf serve` in its own process): the time from the end of
   a chunk's generation to the client holding each frame (egress encoding, ZeroMQ, header decoding, and waiting
   behind the chunk's earlier frames). Percentiles over thousands of frames.
2. **Throughput** for raw 832×480 frames: the server's own frame sender (``send_frame``, header + payload, credit
   window) to the Python client's receive path over a real tcp://127.0.0.1 socket pair, without a generator.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from bridge import protocol as P
from bridge.client import ReceivedFrame, WorldClient
from bridge.server import send_frame

WAN_FRAME = (480, 832)  # height, width of Wan2.1-1.3B output


def register(bench: argparse._SubParsersAction) -> None:
    p = bench.add_parser("bridge", help="bridge overhead per frame (64x64) and raw 832x480 throughput on loopback")
    p.add_argument("--model", default="micro-random", help="model the server runs for the overhead test")
    p.add_argument("--frames", type=int, default=960, help="frames to time for the overhead test (16 fps: 1 min)")
    p.add_argument("--seconds", type=float, default=5.0, help="duration of the throughput test")
    p.add_argument("--window", type=int, default=P.DEFAULT_WINDOW_FRAMES, help="credit window")
    p.add_argument("--pace", default="realtime", choices=[p.value for p in P.Pace],
                   help="the overhead session's pace: realtime (as a game runs it) or max (generator always busy)")
    p.add_argument("--busy-poll", action="store_true", help="client polls without sleeping (separates OS wake-up latency)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    overhead = measure_overhead(args.model, args.frames, args.window, args.pace, 0.0 if args.busy_poll else 0.1)
    throughput = measure_throughput(args.seconds, args.window)
    result = {"overhead": overhead, "throughput": throughput, "machine": _machine()}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"overhead per 64x64 frame: p50 {overhead['p50_ms']:.3f} ms, p99 {overhead['p99_ms']:.3f} ms, "
              f"max {overhead['max_ms']:.3f} ms over {overhead['frames']} frames ({overhead['model']}, pace {args.pace})")
        print(f"raw 832x480 throughput: {throughput['mb_per_s']:.0f} MB/s = {throughput['fps']:.0f} frames/s "
              f"(window {throughput['window']})")
        print(f"machine: {result['machine']}")
    return 0


def _machine() -> str:
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, libzmq {zmq.zmq_version()}"


def measure_overhead(model: str, frames: int, window: int, pace: str = "realtime", poll_s: float = 0.1) -> dict[str, Any]:
    """Start `gf serve --model MODEL` in a subprocess; receive ``frames`` frames; per-frame overhead percentiles."""
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "endpoint"
        server = subprocess.Popen(
            [sys.executable, "-m", "gf_runtime.cli", "serve", "--model", model, "--bind", "tcp://127.0.0.1:*",
             "--ready-file", str(ready), "--media", "pillow"],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not (ready.exists() and ready.read_text()):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gf serve did not start")
                time.sleep(0.05)
            with WorldClient(ready.read_text(), name="bench") as client:
                session = client.open_session("a red ball in the grassland", pace=pace, window=window)
                overheads_ms: list[float] = []
                egress_ms: list[float] = []  # server: chunk done → frame handed to ZeroMQ
                warmup = 3 * int(client.server["chunk_frames"])
                seen = 0
                while len(overheads_ms) < frames:
                    for item in client.poll(poll_s):
                        if isinstance(item, ReceivedFrame) and item.header.session == session:
                            seen += 1
                            if seen > warmup:
                                overheads_ms.append((item.t_received - item.header.t_generated) * 1e3)
                                egress_ms.append((item.header.t_sent - item.header.t_generated) * 1e3)
                client.close_session(session)
        finally:
            server.terminate()
            server.wait(10)
    values = np.array(overheads_ms)
    return {
        "model": model,
        "frames": int(values.size),
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
        "server_egress_p99_ms": float(np.percentile(egress_ms, 99)),
        "window": window,
        "pace": pace,
    }


def measure_throughput(seconds: float, window: int, frame_hw: tuple[int, int] = WAN_FRAME) -> dict[str, Any]:
    """The server's frame sender against the client's receive path; raw RGB frames of ``frame_hw``."""
    height, width = frame_hw
    payload = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8).tobytes()
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)
    router.setsockopt(zmq.LINGER, 0)
    router.bind("tcp://127.0.0.1:*")
    endpoint = router.getsockopt_string(zmq.LAST_ENDPOINT)
    stop = threading.Event()
    sent = [0]

    def sender() -> None:
        """The server's side: send while in credit; read acks."""
        identity: bytes | None = None
        acked = -1
        frame = 0
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        while not stop.is_set():
            if poller.poll(0 if identity is not None and frame - acked <= window else 50):
                identity_in, body = router.recv_multipart()
                identity = identity_in
                message = P.unpack_map(body, P.HARD_MAX_MESSAGE_BYTES)
                if message.get("type") == "ack_frames":
                    acked = max(acked, int(message["frame"]))
                continue
            while identity is not None and frame - acked <= window:
                header = P.FrameHeader(1, frame // 3, frame, frame % 3, 0, 0, width, height, P.FrameFormat.RAW_RGB,
                                       time.time(), time.time())
                if not send_frame(router, identity, header, payload):
                    break
                frame += 1
                sent[0] = frame

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    client = WorldClient(endpoint, connect=False)
    client.server = {"heartbeat_s": 3600.0}
    client._send({"type": "ack_frames", "session": 1, "frame": -1})  # introduces the client to the sender
    received_bytes = 0
    received = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            for item in client.poll(0.1):
                if isinstance(item, ReceivedFrame):
                    received += 1
                    received_bytes += len(item.payload)
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        thread.join(2)
        client.close()
        router.close(0)
        context.term()
    return {
        "frame": f"{width}x{height}",
        "frames": received,
        "mb_per_s": received_bytes / elapsed / 1e6,
        "fps": received / elapsed,
        "window": window,
    }
