"""`gf serve`: the world server. One ROUTER socket, many clients, many sessions, one generator loop.

The loop alternates between draining control messages (never blocking on a client) and generating one chunk for
each session that is due. Frames leave under credit-based flow control: a session keeps at most ``window``
frames in flight to its client; frames generated while the client is behind replace older unsent ones, so a slow
client gets the newest frames and the server never builds a backlog. Sends are non-blocking: a vanished or
stalled client costs the generator nothing, and its sessions are reaped after ``client_timeout_s`` of silence.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from bridge import protocol as P
from bridge.media import FrameMedia, ImageError
from gf_runtime.engine.events import PromptSource
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.engine.session import Chunk, Session

logger = logging.getLogger(__name__)

POLL_IDLE_MS = 20  # longest wait for a message when no session is due
MAX_MESSAGES_PER_TURN = 1000  # control messages handled between two chunks, so a flood cannot starve generation
SEND_HWM = 10_000  # ZeroMQ queue bound per client; credits keep frames far below it
ZERO_COPY_MIN_BYTES = 64 * 1024
IN_FLIGHT_TIMEOUT_S = 3.0  # frames unacknowledged this long are taken as lost (a broken connection), freeing credit


@dataclass(frozen=True)
class ServerConfig:
    bind: str = "tcp://127.0.0.1:5555"
    limits: P.Limits = field(default_factory=P.Limits)
    client_timeout_s: float = P.CLIENT_TIMEOUT_S
    stats_interval_s: float = P.STATS_INTERVAL_S
    curve_keys: Path | None = None  # folder with server.key_secret and clients/*.key; None = no authentication
    # every session's new prompts keep the earlier prompts' words for what they leave out (Session); needs a model
    # whose text encoder composes prompts (the embedded world's)
    carry_over_prompts: bool = False


@dataclass
class ClientState:
    identity: bytes
    name: str
    last_seen: float  # time.monotonic()
    sessions: set[int] = field(default_factory=set)


@dataclass
class Outgoing:
    header: P.FrameHeader
    payload: bytes


@dataclass
class HostedSession:
    """A runtime session plus what the bridge needs to stream it to its client."""

    id: int
    owner: bytes
    session: Session
    format: P.FrameFormat
    width: int
    height: int
    jpeg_quality: int
    window: int
    pace: P.Pace
    frame_interval_s: float
    paused: bool = False
    next_due: float = 0.0  # time.monotonic() when the next chunk may start
    in_flight: collections.deque[tuple[int, float]] = field(default_factory=collections.deque)  # (frame, monotonic sent)
    pending: collections.deque[Outgoing] = field(default_factory=collections.deque)  # newest unsent, ≤ window
    requests_by_event: dict[int, tuple[str, int, P.Source | None]] = field(default_factory=dict)
    prompt_seq: int = 0
    frames_generated: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    stats_since: float = 0.0
    stats_frames: int = 0
    stats_chunk_ms: list[float] = field(default_factory=list)


class WorldServer:
    """Serve a pipeline over ZeroMQ. ``serve_forever()`` blocks; ``start()``/``stop()`` run it in a thread."""

    def __init__(self, pipeline: Pipeline, media: FrameMedia, config: ServerConfig = ServerConfig()) -> None:
        if config.carry_over_prompts:
            pipeline.composing_text_encoder()  # refuse at start, not at each client's first session
        self.pipeline = pipeline
        self.media = media
        self.config = config
        self.endpoint: str | None = None  # the bound address (a real port when bind asked for tcp://...:*)
        self.clients: dict[bytes, ClientState] = {}
        self.sessions: dict[int, HostedSession] = {}
        self._session_ids = itertools.count(1)
        self.boot_id = os.urandom(8).hex()  # new at every start: a client can tell a restarted server
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.chunks_generated = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self, timeout_s: float = 10.0) -> str:
        """Run the loop in a background thread; returns the bound endpoint once it is listening."""
        self._thread = threading.Thread(target=self._run_guarded, name="gf-serve", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"server did not start listening within {timeout_s} s")
        if self._error is not None:
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        assert self.endpoint is not None
        return self.endpoint

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run_guarded(self) -> None:
        try:
            self.serve_forever()
        except BaseException as exc:  # reported to start(); the loop itself never raises on bad input
            self._error = exc
            self._ready.set()
            logger.exception("server stopped")

    def serve_forever(self) -> None:
        context = zmq.Context()
        authenticator = None
        socket = context.socket(zmq.ROUTER)
        try:
            socket.setsockopt(zmq.LINGER, 0)
            socket.setsockopt(zmq.ROUTER_MANDATORY, 1)  # unroutable/full peers raise instead of vanishing silently
            socket.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a reconnecting client with the same routing id takes over
            socket.setsockopt(zmq.SNDHWM, SEND_HWM)
            socket.setsockopt(zmq.MAXMSGSIZE, P.HARD_MAX_MESSAGE_BYTES)
            if self.config.curve_keys is not None:
                authenticator = _configure_curve(context, socket, self.config.curve_keys)
            socket.bind(self.config.bind)
            self.endpoint = socket.getsockopt_string(zmq.LAST_ENDPOINT)
            logger.info("gf serve listening on %s (model %s)", self.endpoint, self.pipeline.name or "?")
            self._ready.set()
            poller = zmq.Poller()
            poller.register(socket, zmq.POLLIN)
            while not self._stop.is_set():
                self._turn(socket, poller)
        finally:
            for hosted in list(self.sessions.values()):
                hosted.session.close()
            self.sessions.clear()
            socket.close(linger=0)
            if authenticator is not None:
                authenticator.stop()
            context.term()

    # ----------------------------------------------------------------- one turn of the loop
    def _turn(self, socket: zmq.Socket, poller: zmq.Poller) -> None:
        now = time.monotonic()
        due = [h for h in self.sessions.values() if not h.paused and h.next_due <= now]
        if due:
            timeout_ms = 0
        else:
            waits = [h.next_due - now for h in self.sessions.values() if not h.paused]
            timeout_ms = int(min([POLL_IDLE_MS / 1e3, *waits]) * 1e3)
        if poller.poll(max(0, timeout_ms)):
            self._drain(socket)
        self._reap(time.monotonic())
        for hosted in due:
            if hosted.id in self.sessions and not hosted.paused:  # a message may have closed or paused it
                self._generate(socket, hosted)
        self._send_stats(socket, time.monotonic())

    def _drain(self, socket: zmq.Socket) -> None:
        for _ in range(MAX_MESSAGES_PER_TURN):
            try:
                parts = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            identity, body = parts[0], parts[1:]
            try:
                self._handle(socket, identity, body)
            except Exception as exc:  # a bug must not end the server: answer and go on
                logger.exception("internal error handling a message")
                self._send(socket, identity, P.error(P.ErrorCode.INTERNAL, f"internal server error: {exc}"))

    def _handle(self, socket: zmq.Socket, identity: bytes, body: list[bytes]) -> None:
        client = self.clients.get(identity)
        if client is not None:
            client.last_seen = time.monotonic()
        seq = None
        try:
            if len(body) != 1:
                raise P.ProtocolError(P.ErrorCode.BAD_MESSAGE, f"a message is one frame; got {len(body)}")
            raw = P.unpack_map(body[0], self.config.limits.max_message_bytes)
            seq = raw.get("seq") if isinstance(raw.get("seq"), int) else None
            request = P.parse_request(raw, self.config.limits)
            if isinstance(request, P.Hello):
                self._hello(socket, identity, request)
                return
            if client is None:
                if isinstance(request, P.AckFrames):
                    return  # never answered (PROTOCOL.md §4)
                raise P.ProtocolError(P.ErrorCode.NO_HELLO, "send hello first (protocol version negotiation)")
            self._dispatch(socket, client, request)
        except P.ProtocolError as exc:
            self._send(socket, identity, P.error(exc.code, exc.message, seq, exc.field_name))

    def _hello(self, socket: zmq.Socket, identity: bytes, request: P.Hello) -> None:
        common = sorted(set(request.versions) & set(P.SUPPORTED_VERSIONS))
        if not common:
            raise P.ProtocolError(
                P.ErrorCode.UNSUPPORTED_VERSION,
                f"no common protocol version: client speaks {list(request.versions)}, "
                f"server speaks {list(P.SUPPORTED_VERSIONS)}",
                "versions",
            )
        client = self.clients.get(identity)
        if client is None:
            client = self.clients[identity] = ClientState(identity, request.client, time.monotonic())
        client.name = request.client
        for session_id in client.sessions:  # a re-hello follows a reconnect: frames in flight were lost with it
            self.sessions[session_id].in_flight.clear()
            self._flush(socket, self.sessions[session_id])
        height, width = self.pipeline.frame_size
        self._send(socket, identity, P.reply(
            "hello", request.seq,
            version=common[-1],
            server="gf",
            boot_id=self.boot_id,
            model=self.pipeline.name,
            frame_width=width,
            frame_height=height,
            fps=self.pipeline.spec.fps,
            chunk_frames=self.pipeline.spec.sampler.chunk_frames,
            heartbeat_s=P.HEARTBEAT_S,
            client_timeout_s=self.config.client_timeout_s,
            limits=self.config.limits.to_wire(),
        ))

    def _owned(self, client: ClientState, session_id: int) -> HostedSession:
        hosted = self.sessions.get(session_id)
        if hosted is None or hosted.owner != client.identity:
            raise P.ProtocolError(P.ErrorCode.UNKNOWN_SESSION, f"no open session {session_id} for this client", "session")
        return hosted

    def _dispatch(self, socket: zmq.Socket, client: ClientState, request: P.Request) -> None:
        identity = client.identity
        if isinstance(request, P.Ping):
            self._send(socket, identity, P.reply("ping", request.seq, t=request.t, server_time=time.time()))
        elif isinstance(request, P.AckFrames):
            hosted = self.sessions.get(request.session)
            if hosted is not None and hosted.owner == identity:  # no reply, so nothing to say to a stranger
                while hosted.in_flight and hosted.in_flight[0][0] <= request.frame:
                    hosted.in_flight.popleft()
                self._flush(socket, hosted)
        elif isinstance(request, P.OpenSession):
            hosted = self._open(client, request)
            self._send(socket, identity, P.reply(
                "open_session", request.seq,
                session=hosted.id,
                policy=hosted.session.memory_config.policy,
                width=hosted.width,
                height=hosted.height,
                format=hosted.format.value,
                window=hosted.window,
                pace=hosted.pace.value,
            ))
        elif isinstance(request, P.Prompt):
            hosted = self._owned(client, request.session)
            if not request.text.strip():
                raise P.ProtocolError(P.ErrorCode.BAD_FIELD, "field 'text' is empty; send scene_cut to only cut", "text")
            event = hosted.session.set_prompt(request.text, PromptSource(request.source.value), request.scene_cut)
            hosted.requests_by_event[event] = ("prompt", request.seq, request.source)
            self._send(socket, identity, P.reply("prompt", request.seq, session=hosted.id))
        elif isinstance(request, P.SceneCutRequest):
            hosted = self._owned(client, request.session)
            hosted.requests_by_event[hosted.session.scene_cut()] = ("scene_cut", request.seq, None)
            self._send(socket, identity, P.reply("scene_cut", request.seq, session=hosted.id))
        elif isinstance(request, P.SeedImageRequest):
            hosted = self._owned(client, request.session)
            height, width = self.pipeline.frame_size
            try:
                pixels_hw3 = self.media.decode_seed_image(request.image, height, width)
            except ImageError as exc:
                raise P.ProtocolError(P.ErrorCode.BAD_IMAGE, str(exc), "image") from None
            hosted.requests_by_event[hosted.session.seed_image(pixels_hw3)] = ("seed_image", request.seq, None)
            self._send(socket, identity, P.reply("seed_image", request.seq, session=hosted.id))
        elif isinstance(request, P.Pause):
            self._owned(client, request.session).paused = True
            self._send(socket, identity, P.reply("pause", request.seq, session=request.session))
        elif isinstance(request, P.Resume):
            hosted = self._owned(client, request.session)
            hosted.paused = False
            hosted.next_due = time.monotonic()
            self._send(socket, identity, P.reply("resume", request.seq, session=request.session))
        elif isinstance(request, P.CloseSession):
            hosted = self._owned(client, request.session)
            self._close(hosted)
            self._send(socket, identity, P.reply("close_session", request.seq, session=request.session))

    def _open(self, client: ClientState, request: P.OpenSession) -> HostedSession:
        limits = self.config.limits
        if len(self.sessions) >= limits.max_sessions:
            raise P.ProtocolError(P.ErrorCode.SESSION_LIMIT, f"the server is at its limit of {limits.max_sessions} sessions")
        if len(client.sessions) >= limits.max_sessions_per_client:
            raise P.ProtocolError(
                P.ErrorCode.SESSION_LIMIT, f"this client already has {limits.max_sessions_per_client} sessions open"
            )
        if not request.prompt.strip():
            raise P.ProtocolError(P.ErrorCode.BAD_FIELD, "field 'prompt' is empty", "prompt")
        try:
            session = self.pipeline.session(prompt=request.prompt, seed=request.seed, policy=request.policy,
                                            carry_over_prompts=self.config.carry_over_prompts)
        except (KeyError, ValueError) as exc:
            raise P.ProtocolError(P.ErrorCode.BAD_FIELD, f"cannot open the session: {exc}", "policy") from None
        native_h, native_w = self.pipeline.frame_size
        now = time.monotonic()
        hosted = HostedSession(
            id=next(self._session_ids),
            owner=client.identity,
            session=session,
            format=request.format,
            width=request.width or native_w,
            height=request.height or native_h,
            jpeg_quality=request.jpeg_quality,
            window=request.window,
            pace=request.pace,
            frame_interval_s=1.0 / self.pipeline.spec.fps,
            next_due=now,
            stats_since=now,
        )
        self.sessions[hosted.id] = hosted
        client.sessions.add(hosted.id)
        logger.info("client %r opened session %d (%s)", client.name, hosted.id, session.memory_config.policy)
        return hosted

    def _close(self, hosted: HostedSession) -> None:
        hosted.session.close()
        hosted.pending.clear()
        self.sessions.pop(hosted.id, None)
        client = self.clients.get(hosted.owner)
        if client is not None:
            client.sessions.discard(hosted.id)

    def _reap(self, now: float) -> None:
        for identity, client in list(self.clients.items()):
            if now - client.last_seen > self.config.client_timeout_s:
                for session_id in list(client.sessions):
                    self._close(self.sessions[session_id])
                del self.clients[identity]
                logger.info("reaped silent client %r", client.name)

    # ----------------------------------------------------------------- generation and egress
    def _generate(self, socket: zmq.Socket, hosted: HostedSession) -> None:
        chunk = hosted.session.next_chunk()
        self.chunks_generated += 1
        now = time.monotonic()
        n_frames = len(chunk.frames)
        if hosted.pace is P.Pace.REALTIME:
            hosted.next_due = max(hosted.next_due + n_frames * hosted.frame_interval_s, now - n_frames * hosted.frame_interval_s)
        else:
            hosted.next_due = now
        hosted.frames_generated += n_frames
        hosted.stats_frames += n_frames
        hosted.stats_chunk_ms.append(chunk.timings.total_ms)
        self._announce_events(socket, hosted, chunk)
        self._queue_frames(socket, hosted, chunk)

    def _announce_events(self, socket: zmq.Socket, hosted: HostedSession, chunk: Chunk) -> None:
        for event in chunk.applied_events:
            origin = hosted.requests_by_event.pop(event, None)
            if origin is None:
                continue
            kind, request_seq, source = origin
            message: dict[str, Any] = {
                "type": f"{kind}_applied",
                "session": hosted.id,
                "seq": request_seq,
                "chunk": chunk.index,
                "frame": chunk.first_frame,
                "prompt_id": chunk.prompt_id,
            }
            if kind == "prompt":
                hosted.prompt_seq = max(hosted.prompt_seq, request_seq)
                message["source"] = source.value if source else None
            self._send(socket, hosted.owner, message)

    def _queue_frames(self, socket: zmq.Socket, hosted: HostedSession, chunk: Chunk) -> None:
        payloads = self.media.encode_frames(chunk.frames, hosted.height, hosted.width, hosted.format.value, hosted.jpeg_quality)
        t_generated = time.time()
        for i, payload in enumerate(payloads):
            header = P.FrameHeader(
                session=hosted.id,
                chunk=chunk.index,
                frame=chunk.first_frame + i,
                frame_in_chunk=i,
                prompt_id=chunk.prompt_id,
                prompt_seq=hosted.prompt_seq,
                width=hosted.width,
                height=hosted.height,
                format=hosted.format,
                t_generated=t_generated,
                t_sent=0.0,
            )
            if len(hosted.pending) >= hosted.window:  # the client is behind: drop the oldest unsent frame
                hosted.pending.popleft()
                hosted.frames_dropped += 1
            hosted.pending.append(Outgoing(header, payload))
        self._flush(socket, hosted)

    def _flush(self, socket: zmq.Socket, hosted: HostedSession) -> None:
        """Send pending frames, oldest first, while the session has credit."""
        now = time.monotonic()
        if hosted.in_flight and now - hosted.in_flight[0][1] > IN_FLIGHT_TIMEOUT_S:
            hosted.in_flight.clear()  # never acknowledged: lost with a broken connection; do not stall for good
        batch: list[Outgoing] = []
        while hosted.pending and len(hosted.in_flight) + len(batch) < hosted.window:
            batch.append(hosted.pending.popleft())
        if not batch:
            return
        # Headers first, then the sends back to back: ZeroMQ's I/O thread then takes the whole burst in one wake-up
        # instead of one per frame (each wake-up costs ~0.25 ms on a small shared VM).
        t_sent = time.time()
        headers = [dataclasses.replace(out.header, t_sent=t_sent, dropped=hosted.frames_dropped) for out in batch]
        sent = [send_frame(socket, hosted.owner, header, out.payload) for header, out in zip(headers, batch)]
        for header, ok in zip(headers, sent):
            if ok:
                hosted.in_flight.append((header.frame, now))
                hosted.frames_sent += 1
            else:  # the client will get newer frames instead
                hosted.frames_dropped += 1

    def _send_stats(self, socket: zmq.Socket, now: float) -> None:
        for hosted in self.sessions.values():
            elapsed = now - hosted.stats_since
            if elapsed < self.config.stats_interval_s:
                continue
            stats = P.SessionStats(
                session=hosted.id,
                chunks=hosted.session.chunk_index,
                frames_generated=hosted.frames_generated,
                frames_sent=hosted.frames_sent,
                frames_dropped=hosted.frames_dropped,
                generated_fps=hosted.stats_frames / elapsed,
                chunk_ms=sum(hosted.stats_chunk_ms) / len(hosted.stats_chunk_ms) if hosted.stats_chunk_ms else 0.0,
                in_flight=len(hosted.in_flight),
                extra={"paused": hosted.paused, "memory_frames": hosted.session.memory.frames_held},
            )
            self._send(socket, hosted.owner, stats.to_wire())
            hosted.stats_since, hosted.stats_frames = now, 0
            hosted.stats_chunk_ms.clear()

    def _send(self, socket: zmq.Socket, identity: bytes, message: dict[str, Any]) -> None:
        try:
            socket.send_multipart([identity, P.pack(message)], zmq.NOBLOCK)
        except (zmq.Again, zmq.ZMQError):
            logger.debug("could not reach a client; dropped a %s message", message.get("type"))


def send_frame(socket: zmq.Socket, identity: bytes, header: P.FrameHeader, payload: bytes) -> bool:
    """One video message (header map, payload) to a client, never blocking; False if it could not be queued."""
    try:
        # zero-copy only pays off for large payloads (pyzmq's own advice); small frames are cheaper copied
        socket.send_multipart([identity, P.pack(header.to_wire()), payload], zmq.NOBLOCK, copy=len(payload) < ZERO_COPY_MIN_BYTES)
    except (zmq.Again, zmq.ZMQError):  # full or unreachable
        return False
    return True


def _configure_curve(context: zmq.Context, socket: zmq.Socket, keys: Path) -> Any:
    """CURVE server: our secret key from keys/server.key_secret; only clients whose public key is in keys/clients."""
    import zmq.auth
    from zmq.auth.thread import ThreadAuthenticator

    secret_file = keys / "server.key_secret"
    clients_dir = keys / "clients"
    if not secret_file.is_file() or not clients_dir.is_dir():
        raise FileNotFoundError(
            f"CURVE keys folder {keys} needs server.key_secret and a clients/ folder of public keys; "
            "create them with `gf keys --out FOLDER`"
        )
    public, secret = zmq.auth.load_certificate(str(secret_file))
    if secret is None:
        raise ValueError(f"{secret_file} holds no secret key")
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=str(clients_dir))
    socket.curve_secretkey = secret
    socket.curve_publickey = public
    socket.curve_server = True
    return authenticator
