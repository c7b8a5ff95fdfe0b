"""The ZeroMQ bridge over real sockets on 127.0.0.1: protocol errors, fuzzing, sessions, flow control, CURVE."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, Iterator

import msgpack
import numpy as np
import pytest
import zmq

from bridge import protocol as P
from bridge.client import BridgeError, CurveClientKeys, ReceivedFrame, WorldClient
from bridge.media import make_media
from bridge.server import ServerConfig, WorldServer
from gf_runtime import load_pipeline
from gf_runtime.engine.pipeline import Pipeline

LOOPBACK = "tcp://127.0.0.1:*"
SMALL_LIMITS = P.Limits(max_message_bytes=256 * 1024, max_sessions=4, max_sessions_per_client=4, max_prompt_chars=64)


@pytest.fixture(scope="module")
def server_pipe() -> Pipeline:
    """The server's own pipeline (a pipeline is used from one thread at a time)."""
    return load_pipeline("micro-random", device="cpu", policy="grounded")


def _start(pipe: Pipeline, **config: Any) -> WorldServer:
    server = WorldServer(pipe, make_media("pillow"), ServerConfig(bind=LOOPBACK, **{"limits": SMALL_LIMITS, **config}))
    server.start()
    return server


@pytest.fixture
def server(server_pipe: Pipeline) -> Iterator[WorldServer]:
    srv = _start(server_pipe)
    yield srv
    srv.stop()


def _client(server: WorldServer, **kwargs: Any) -> WorldClient:
    assert server.endpoint is not None
    return WorldClient(server.endpoint, timeout_s=kwargs.pop("timeout_s", 10.0), **kwargs)


def _collect(client: WorldClient, until: Any, timeout_s: float = 20.0) -> list[ReceivedFrame | dict[str, Any]]:
    """Poll until ``until(items)`` is true."""
    items: list[ReceivedFrame | dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while not until(items):
        assert time.monotonic() < deadline, f"timed out; got {len(items)} items"
        items += client.poll(0.05)
    return items


def _frames(items: list[Any], session: int | None = None) -> list[ReceivedFrame]:
    return [i for i in items if isinstance(i, ReceivedFrame) and (session is None or i.header.session == session)]


def _raw_request(client: WorldClient, data: bytes | list[bytes]) -> dict[str, Any]:
    client.send_raw(data)
    items = _collect(client, lambda got: any(isinstance(i, dict) and i.get("type") in ("error", "reply") for i in got), 5)
    return next(i for i in items if isinstance(i, dict) and i.get("type") in ("error", "reply"))


# --------------------------------------------------------------------------------------------- handshake and errors
def test_hello_negotiates_version_and_reports_limits_and_frame_geometry(server: WorldServer) -> None:
    with _client(server) as client:
        assert client.server["version"] == P.PROTOCOL_VERSION
        assert (client.server["frame_width"], client.server["frame_height"]) == (64, 64)
        assert client.server["limits"]["max_prompt_chars"] == 64
        with pytest.raises(BridgeError) as err:
            client.request("hello", versions=[99, 100], client="future")
        assert err.value.code == "unsupported_version" and "server speaks [1]" in err.value.message


def test_requests_before_hello_are_refused(server: WorldServer) -> None:
    with _client(server, connect=False) as client:
        with pytest.raises(BridgeError) as err:
            client.open_session("a red ball")
        assert err.value.code == "no_hello"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xc1\xff garbage", "bad_message"),
        (msgpack.packb([1, 2, 3]), "bad_message"),
        (msgpack.packb({"type": "teleport", "seq": 1}), "unknown_type"),
        (msgpack.packb({"type": "open_session", "seq": 1, "prompt": "a ball", "seed": "seven"}), "bad_field"),
        (msgpack.packb({"type": "open_session", "seq": 1, "prompt": 42}), "bad_field"),
        (msgpack.packb({"type": "open_session", "seq": 1, "prompt": "x", "format": "gif"}), "bad_field"),
        (msgpack.packb({"type": "open_session", "seq": 1, "prompt": "x" * 65}), "prompt_too_long"),
        (msgpack.packb({"type": "prompt", "seq": 1, "session": 999, "text": "snow"}), "unknown_session"),
        (msgpack.packb({"type": "ping", "seq": 1, "pad": b"\0" * (300 * 1024)}), "too_large"),
        ([msgpack.packb({"type": "ping", "seq": 1}), b"second frame"], "bad_message"),
    ],
)
def test_malformed_messages_get_an_error_and_the_server_keeps_serving(server: WorldServer, data: Any, code: str) -> None:
    with _client(server) as client:
        answer = _raw_request(client, data)
        assert answer["type"] == "error" and answer["code"] == code, answer
        assert answer["message"]
        assert client.ping() < 5.0  # still serving


def test_errors_name_the_bad_field(server: WorldServer) -> None:
    with _client(server) as client:
        with pytest.raises(BridgeError) as err:
            client.request("open_session", prompt="a ball", window=0)
        assert err.value.code == "bad_field" and err.value.field_name == "window" and "[1," in err.value.message


def test_fuzzed_messages_never_kill_the_server(server: WorldServer) -> None:
    rng = np.random.default_rng(0)
    # seqs far above the client's own, so no fuzz reply is mistaken for the answer to the final ping
    valid = [
        {"type": "ping", "seq": 1000000001, "t": 1.0},
        {"type": "prompt", "seq": 1000000002, "session": 1, "text": "snow", "source": "npc"},
        {"type": "open_session", "seq": 1000000003, "prompt": "a ball", "seed": 1, "window": 4, "pace": "realtime"},
        {"type": "hello", "seq": 1000000004, "versions": [1], "client": "fuzz"},
        {"type": "seed_image", "seq": 1000000005, "session": 1, "image": b"\x89PNG\r\n"},
        {"type": "ack_frames", "session": 1, "frame": 3},
        {"type": "pause", "seq": 1000000006, "session": 1},
        {"type": "close_session", "seq": 1000000007, "session": 1},
    ]
    junk_values: list[Any] = [None, True, -1, 2**63, 3.5, "", "x" * 100, b"\x00\xff", [1, "a"], {"a": 1}]
    with _client(server) as client:
        for i in range(1000):
            kind = i % 4
            if kind == 0:
                data = rng.bytes(int(rng.integers(0, 200)))
            else:
                message = dict(valid[int(rng.integers(len(valid)))])
                for _ in range(int(rng.integers(1, 4))):
                    key = list(message)[int(rng.integers(len(message)))] if rng.random() < 0.7 else "extra"
                    if rng.random() < 0.2:
                        message.pop(key, None)
                    else:
                        message[key] = junk_values[int(rng.integers(len(junk_values)))]
                data = msgpack.packb(message, use_bin_type=True)
                if kind == 3:  # truncated
                    data = data[: int(rng.integers(0, len(data) + 1))]
            client.send_raw(data)
        replies = _collect(client, lambda got: sum(isinstance(g, dict) and g.get("type") == "error" for g in got) >= 500)
        errors = [r for r in replies if isinstance(r, dict) and r.get("type") == "error"]
        assert {e["code"] for e in errors} >= {"bad_message", "bad_field"}
        assert client.ping() < 5.0
    assert server._thread is not None and server._thread.is_alive()


# --------------------------------------------------------------------------------------------- sessions and frames
def test_a_session_streams_frames_with_increasing_indices_and_headers(server: WorldServer) -> None:
    with _client(server) as client:
        session = client.open_session("a red ball", seed=3, pace="max", window=64)
        items = _collect(client, lambda got: len(_frames(got)) >= 24)
        frames = _frames(items, session)
        assert len(frames) >= 24
        indices = [f.header.frame for f in frames]
        assert indices == sorted(indices) and len(set(indices)) == len(indices)
        assert indices[:24] == list(range(24))  # a fast client misses nothing
        for f in frames[:24]:
            assert f.header.format is P.FrameFormat.RAW_RGB and len(f.payload) == 64 * 64 * 3
            assert f.header.chunk == f.header.frame // 3 and f.header.prompt_id == 0 and f.header.prompt_seq == 0
            assert f.header.t_sent >= f.header.t_generated > 0
        assert frames[0].rgb().shape == (64, 64, 3) and frames[0].rgb().std() > 0


def test_jpeg_output_at_a_requested_size(server: WorldServer) -> None:
    from PIL import Image

    with _client(server) as client:
        session = client.open_session("a red ball", format="jpeg", width=128, height=96, pace="max")
        frames = _frames(_collect(client, lambda got: len(_frames(got)) >= 3), session)
        with Image.open(io.BytesIO(frames[0].payload)) as image:
            assert image.format == "JPEG" and image.size == (128, 96)
        assert frames[0].rgb().shape == (96, 128, 3)


def test_a_prompt_is_acknowledged_and_applied_at_the_next_chunk(server: WorldServer) -> None:
    with _client(server) as client:
        session = client.open_session("a red ball in the grassland", seed=1, pace="realtime")
        items = _collect(client, lambda got: len(_frames(got)) >= 6)
        newest_chunk = max(f.header.chunk for f in _frames(items))
        seq = client.send_prompt(session, "the desert at night", source="npc")
        items = _collect(client, lambda got: any(isinstance(g, dict) and g.get("type") == "prompt_applied" for g in got)
                         and any(f.header.prompt_seq == seq for f in _frames(got)))
        applied = next(g for g in items if isinstance(g, dict) and g.get("type") == "prompt_applied")
        assert applied["seq"] == seq and applied["source"] == "npc" and applied["prompt_id"] == 1
        # at most the chunk being generated when it arrived, then the next one
        assert newest_chunk < applied["chunk"] <= newest_chunk + 2
        after = [f for f in _frames(items) if f.header.prompt_seq == seq]
        assert min(f.header.chunk for f in after) == applied["chunk"] and all(f.header.prompt_id == 1 for f in after)


def test_a_server_that_carries_prompts_over_composes_each_sessions_prompts() -> None:
    with pytest.raises(ValueError, match="composes them"):  # a free-text model is refused at start, not per session
        WorldServer(load_pipeline("micro-random"), make_media("pillow"), ServerConfig(bind=LOOPBACK, carry_over_prompts=True))
    server = _start(load_pipeline("default", policy="grounded"), carry_over_prompts=True)
    try:
        with _client(server) as client:
            session = client.open_session("a green triangle still in the snow", seed=1, pace="realtime")
            _collect(client, lambda got: len(_frames(got)) >= 3)
            seq = client.send_prompt(session, "the city at night", source="npc")
            _collect(client, lambda got: any(f.header.prompt_seq == seq for f in _frames(got)))
            assert server.sessions[session].session.prompt == "at night a green triangle still in the city"
    finally:
        server.stop()


def test_scene_cut_pause_resume_and_close(server: WorldServer) -> None:
    with _client(server) as client:
        session = client.open_session("a red ball", pace="max")
        _collect(client, lambda got: len(_frames(got)) >= 3)
        seq = client.scene_cut(session)
        items = _collect(client, lambda got: any(isinstance(g, dict) and g.get("type") == "scene_cut_applied" for g in got))
        assert next(g for g in items if isinstance(g, dict) and g.get("type") == "scene_cut_applied")["seq"] == seq
        client.pause(session)
        client.poll(0.3)  # frames already on the way
        assert not _frames(client.poll(0.4))
        client.resume(session)
        _collect(client, lambda got: len(_frames(got)) >= 3)
        client.close_session(session)
        assert session not in server.sessions
        with pytest.raises(BridgeError) as err:
            client.send_prompt(session, "snow")
        assert err.value.code == "unknown_session"


def test_four_concurrent_sessions_get_their_own_deterministic_streams(server: WorldServer) -> None:
    prompts = ["a red ball in the snow", "a blue cube in the desert", "lava at night", "a city by day"]
    reference = load_pipeline("micro-random", device="cpu", policy="grounded")
    expected = []
    for seed, prompt in enumerate(prompts):
        with reference.session(prompt=prompt, seed=seed) as s:
            expected.append(np.concatenate([s.next_chunk().frames for _ in range(4)]))
    clients = [_client(server, name=f"player{i}") for i in range(4)]
    try:
        sessions = [c.open_session(p, seed=i, pace="max", window=256) for i, (c, p) in enumerate(zip(clients, prompts))]
        assert len(set(sessions)) == 4
        received: list[list[ReceivedFrame]] = [[] for _ in clients]
        deadline = time.monotonic() + 30
        while min(len(r) for r in received) < 12:
            assert time.monotonic() < deadline
            for i, c in enumerate(clients):
                received[i] += _frames(c.poll(0.01))
        for i, frames in enumerate(received):
            assert {f.header.session for f in frames} == {sessions[i]}  # no cross-talk
            got = np.stack([f.rgb() for f in frames[:12]])
            assert [f.header.frame for f in frames[:12]] == list(range(12))
            assert np.array_equal(got, expected[i])  # exactly what a local session with that seed makes
        with pytest.raises(BridgeError) as err:  # a session belongs to its client
            clients[0].send_prompt(sessions[1], "snow")
        assert err.value.code == "unknown_session"
        with pytest.raises(BridgeError) as err:
            clients[0].open_session("one too many")
        assert err.value.code == "session_limit"
    finally:
        for c in clients:
            c.close()


# --------------------------------------------------------------------------------------------- slow and vanished clients
def test_a_stalled_client_does_not_slow_the_generator_nor_build_a_backlog(server_pipe: Pipeline) -> None:
    def chunk_rate(stall: bool) -> tuple[float, dict[str, int]]:
        srv = _start(server_pipe)
        try:
            a, b = _client(srv, name="a"), _client(srv, name="b")
            sa = a.open_session("a red ball", pace="max", window=6)
            b.open_session("a blue cube", pace="max", window=6)
            start_chunks, start = srv.chunks_generated, time.monotonic()
            while time.monotonic() - start < 1.5:
                b.poll(0.01)
                if not stall:
                    a.poll(0.0)
            rate = (srv.chunks_generated - start_chunks) / (time.monotonic() - start)
            hosted = srv.sessions[sa]
            figures = {"in_flight": len(hosted.in_flight), "pending": len(hosted.pending),
                       "dropped": hosted.frames_dropped, "generated": hosted.frames_generated}
            a.close()
            b.close()
            return rate, figures
        finally:
            srv.stop()

    rate_live, _ = chunk_rate(stall=False)
    rate_stalled, stalled = chunk_rate(stall=True)
    assert rate_stalled >= 0.7 * rate_live, (rate_stalled, rate_live)
    assert stalled["in_flight"] <= 6 and stalled["pending"] <= 6  # bounded: never more than the window each
    assert stalled["dropped"] >= stalled["generated"] - 12 > 0  # everything beyond the two windows was dropped


def test_a_vanished_client_is_reaped_and_its_memory_freed(server_pipe: Pipeline) -> None:
    srv = _start(server_pipe, client_timeout_s=0.5)
    try:
        client = _client(srv)
        session = client.open_session("a red ball", pace="max")
        _collect(client, lambda got: len(_frames(got)) >= 6)
        hosted = srv.sessions[session]
        assert hosted.session.memory.frames_held > 0
        client.close()  # gone without close_session
        deadline = time.monotonic() + 5
        while session in srv.sessions:
            assert time.monotonic() < deadline, "session not reaped"
            time.sleep(0.05)
        assert hosted.session.closed and hosted.session.memory.frames_held == 0
        assert not srv.clients
        with _client(srv) as other:  # and the server serves on
            assert other.ping() < 5
    finally:
        srv.stop()


# --------------------------------------------------------------------------------------------- seed image
@pytest.mark.parametrize("media", ["pillow", "dali"])
def test_seed_image_is_written_into_memory_as_context(server_pipe: Pipeline, media: str) -> None:
    from PIL import Image

    if media == "dali":
        pytest.importorskip("nvidia.dali")
    image = np.zeros((96, 120, 3), np.uint8)
    image[:50] = (90, 160, 240)
    image[50:] = (230, 200, 120)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    srv = WorldServer(server_pipe, make_media(media), ServerConfig(bind=LOOPBACK, limits=SMALL_LIMITS))
    srv.start()
    try:
        with _client(srv) as client:
            session = client.open_session("a red ball", pace="realtime")
            _collect(client, lambda got: len(_frames(got)) >= 3)
            seq = client.seed_image(session, buffer.getvalue())
            items = _collect(client, lambda got: any(isinstance(g, dict) and g.get("type") == "seed_image_applied" for g in got))
            applied = next(g for g in items if isinstance(g, dict) and g.get("type") == "seed_image_applied")
            assert applied["seq"] == seq
            with pytest.raises(BridgeError) as err:
                client.seed_image(session, b"not an image")
            assert err.value.code == "bad_image"
            assert client.ping() < 5
    finally:
        srv.stop()


def test_session_seed_image_commits_the_encoded_view(micro_pipe: Pipeline) -> None:
    pixels = np.linspace(-1, 1, 64 * 64 * 3, dtype=np.float32).reshape(64, 64, 3)
    with micro_pipe.session(prompt="a red ball", seed=0) as s:
        s.next_chunk()
        seq = s.seed_image(pixels)
        applied, _ = s.apply_pending_events()
        assert applied == (seq,)
        local = s.memory.local_frame_indices()
        assert local == [3, 4, 5]  # the old local frames flushed, the seed held for one chunk
        expected = micro_pipe.codec.encode_pixels(pixels[None, None])[0, 0]
        for slot in s.memory.local_order:
            assert np.allclose(s.memory.record(slot).latent_bchw[0].numpy(), expected.numpy(), atol=1e-5)
        chunk = s.next_chunk()
        assert chunk.first_frame == 6 and chunk.memory_frames >= 3
        with pytest.raises(ValueError, match="shape"):
            s.seed_image(np.zeros((32, 32, 3), np.float32))
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            s.seed_image(np.full((64, 64, 3), 3.0, np.float32))


# --------------------------------------------------------------------------------------------- CURVE
def test_curve_refuses_clients_without_the_key(server_pipe: Pipeline, tmp_path: Path) -> None:
    from gf_runtime.cli import main

    keys = tmp_path / "keys"
    assert main(["keys", "--out", str(keys), "--clients", "client", "intruder"]) == 0
    (keys / "clients" / "intruder.key").unlink()  # a key pair the server does not list
    srv = _start(server_pipe, curve_keys=keys)
    try:
        with WorldClient(srv.endpoint, curve=CurveClientKeys.from_folder(keys, "client")) as good:  # type: ignore[arg-type]
            assert good.ping() < 5
        with pytest.raises(TimeoutError):
            WorldClient(srv.endpoint, timeout_s=1.0)  # type: ignore[arg-type]  # no CURVE at all
        with pytest.raises(TimeoutError):
            WorldClient(srv.endpoint, timeout_s=1.0, curve=CurveClientKeys.from_folder(keys, "intruder"))  # type: ignore[arg-type]
    finally:
        srv.stop()


# --------------------------------------------------------------------------------------------- gf play
def test_gf_play_runs_a_timeline_and_reports_latencies(server: WorldServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gf_runtime.cli import main
    from gf_runtime.video import read_mp4_frame_count

    timeline = tmp_path / "timeline.json"
    timeline.write_text(json.dumps([
        {"at_chunk": 0, "source": "script", "text": "a red ball in the grassland"},
        {"at_chunk": 3, "source": "npc", "text": "the desert"},
        {"at_s": 0.2, "source": "player", "text": "moving left"},
    ]))
    out = tmp_path / "run.mp4"
    code = main(["play", "--connect", str(server.endpoint), "--timeline", str(timeline), "--chunks", "8",
                 "--out", str(out), "--json", "--pace", "realtime"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 24 and summary["fps"] > 0
    assert [e["source"] for e in summary["events"]] == ["player", "npc"] or len(summary["events"]) == 2
    for event in summary["events"]:
        assert event["applied_chunk"] is not None and event["applied_chunk"] >= event["sent_chunk"] + 1
        assert event["latency_ms"] is not None and event["latency_ms"] > 0
    assert read_mp4_frame_count(out) == 24
    log = json.loads(out.with_suffix(".json").read_text())
    assert log["prompt"] == "a red ball in the grassland" and log["frames"] == 24


def test_timeline_errors_name_the_entry(tmp_path: Path) -> None:
    from bridge.timeline import parse_timeline

    with pytest.raises(ValueError, match=r"\[0\].*exactly one of at_chunk"):
        parse_timeline([{"text": "snow"}])
    with pytest.raises(ValueError, match=r"\[1\].*source"):
        parse_timeline([{"at_chunk": 0, "text": "a"}, {"at_s": 1, "text": "b", "source": "narrator"}])
    with pytest.raises(ValueError, match="unknown fields"):
        parse_timeline([{"at_chunk": 0, "text": "a", "when": 3}])


def test_credit_stops_an_unacknowledging_client_and_a_re_hello_restores_it(server: WorldServer) -> None:
    with _client(server) as client:
        session = client.open_session("a red ball", pace="max", window=3)

        def raw_frames(seconds: float) -> list[ReceivedFrame]:
            """Receive without acknowledging (poll would ack)."""
            got, deadline = [], time.monotonic() + seconds
            kept = [i for i in client._inbox if isinstance(i, ReceivedFrame)]  # arrived while hello waited
            client._inbox.clear()
            got += [i for i in kept if i.header.session == session]
            while time.monotonic() < deadline:
                item = client._receive(0.05)
                if isinstance(item, ReceivedFrame) and item.header.session == session:
                    got.append(item)
            return got

        first = raw_frames(0.8)
        assert len(first) == 3  # the window, then nothing: the client never acknowledged
        assert client.hello()["boot_id"] == server.boot_id  # as after a reconnect: in-flight frames are forgotten
        again = raw_frames(0.8)
        assert len(again) == 3 and again[0].header.frame > first[-1].header.frame
        assert again[-1].header.dropped > 0  # what was generated meanwhile was dropped, not queued
