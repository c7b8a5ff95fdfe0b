"""WorldClient: the Python client of the gf bridge (one DEALER socket; not thread-safe: use it from one thread).

    with WorldClient("tcp://127.0.0.1:5555", name="my-game") as client:
        session = client.open_session("a red ball in the grassland", seed=0)
        client.send_prompt(session, "the desert", source="npc")
        for item in client.poll(0.1):   # ReceivedFrame or an event dict (prompt_applied, stats, ...)
            ...

Requests block until their reply (``timeout_s``); frames and events that arrive meanwhile are kept for ``poll``.
Received frames are acknowledged automatically (credit flow control) and heartbeats are sent while polling.
"""

from __future__ import annotations

import collections
import io
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from bridge import protocol as P


class BridgeError(Exception):
    """The server answered a request with an error."""

    def __init__(self, code: str, message: str, field_name: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field_name = field_name


@dataclass(frozen=True)
class CurveClientKeys:
    """The server's public key and this client's key pair (z85 bytes)."""

    server_public: bytes
    public: bytes
    secret: bytes

    @classmethod
    def from_folder(cls, keys: Path, client_name: str = "client") -> "CurveClientKeys":
        """Read keys/server.key and keys/<client_name>.key_secret (as written by `gf keys`)."""
        import zmq.auth

        server_public, _ = zmq.auth.load_certificate(str(keys / "server.key"))
        public, secret = zmq.auth.load_certificate(str(keys / f"{client_name}.key_secret"))
        if secret is None:
            raise ValueError(f"{keys / (client_name + '.key_secret')} holds no secret key")
        return cls(server_public, public, secret)


@dataclass(frozen=True)
class ReceivedFrame:
    header: P.FrameHeader
    payload: bytes
    t_received: float  # time.time() on arrival

    def rgb(self) -> np.ndarray:
        """The frame as uint8 (height, width, 3)."""
        h = self.header
        if h.format is P.FrameFormat.RAW_RGB:
            return np.frombuffer(self.payload, np.uint8).reshape(h.height, h.width, 3)
        from PIL import Image

        with Image.open(io.BytesIO(self.payload)) as image:
            return np.asarray(image.convert("RGB"))


class WorldClient:
    def __init__(
        self,
        endpoint: str,
        name: str = "python",
        timeout_s: float = 10.0,
        curve: CurveClientKeys | None = None,
        connect: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.name = name
        self.timeout_s = timeout_s
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        # A fixed routing id: after a reconnect the server still knows us, so our sessions survive it.
        self.socket.setsockopt(zmq.ROUTING_ID, b"gf-" + os.urandom(12))
        if curve is not None:
            self.socket.curve_serverkey = curve.server_public
            self.socket.curve_publickey = curve.public
            self.socket.curve_secretkey = curve.secret
        self.socket.connect(endpoint)
        self._seq = itertools.count(1)
        self._inbox: collections.deque[ReceivedFrame | dict[str, Any]] = collections.deque()
        self._last_sent = 0.0
        self.server: dict[str, Any] = {}
        self.closed = False
        if connect:
            self.hello()

    # ----------------------------------------------------------------- plumbing
    def _send(self, message: dict[str, Any]) -> None:
        self.socket.send(P.pack(message))
        self._last_sent = time.monotonic()

    def send_raw(self, data: bytes | list[bytes]) -> None:
        """Send bytes as they are (one frame, or several): for tests of the server's error handling."""
        if isinstance(data, list):
            self.socket.send_multipart(data)
        else:
            self.socket.send(data)
        self._last_sent = time.monotonic()

    def _receive(self, timeout_s: float) -> ReceivedFrame | dict[str, Any] | None:
        if not self.socket.poll(int(max(0.0, timeout_s) * 1e3)):
            return None
        parts = self.socket.recv_multipart()
        message = P.unpack_map(parts[0], P.HARD_MAX_MESSAGE_BYTES)
        if message.get("type") == "frame" and len(parts) == 2:
            return ReceivedFrame(P.FrameHeader.from_wire(message), bytes(parts[1]), time.time())
        return message

    def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send a request and wait for its reply; raises BridgeError for an error reply, TimeoutError for none."""
        seq = next(self._seq)
        self._send({"type": kind, "seq": seq, **fields})
        deadline = time.monotonic() + self.timeout_s
        while True:
            item = self._receive(deadline - time.monotonic())
            if item is None:
                raise TimeoutError(f"no reply to {kind} from {self.endpoint} within {self.timeout_s} s")
            if isinstance(item, dict) and item.get("seq") == seq and item.get("type") in ("reply", "error"):
                if item["type"] == "error":
                    raise BridgeError(item.get("code", "?"), item.get("message", ""), item.get("field"))
                return item
            self._keep(item)

    def _keep(self, item: ReceivedFrame | dict[str, Any]) -> None:
        if isinstance(item, dict) and item.get("type") == "reply" and item.get("re") == "ping":
            return  # a heartbeat's answer
        self._inbox.append(item)

    # ----------------------------------------------------------------- requests
    def hello(self) -> dict[str, Any]:
        self.server = self.request("hello", versions=list(P.SUPPORTED_VERSIONS), client=self.name)
        return self.server

    def open_session(
        self,
        prompt: str,
        seed: int = 0,
        policy: str | None = None,
        format: str = "raw_rgb",
        width: int | None = None,
        height: int | None = None,
        jpeg_quality: int = 90,
        window: int = P.DEFAULT_WINDOW_FRAMES,
        pace: str = "realtime",
    ) -> int:
        fields: dict[str, Any] = {"prompt": prompt, "seed": seed, "format": format, "jpeg_quality": jpeg_quality,
                                  "window": window, "pace": pace}
        if policy is not None:
            fields["policy"] = policy
        if width is not None or height is not None:
            fields["width"], fields["height"] = width, height
        return int(self.request("open_session", **fields)["session"])

    def send_prompt(self, session: int, text: str, source: str = "player", scene_cut: bool = False) -> int:
        """Returns the request's seq: the ``seq`` of its ``prompt_applied`` event and of frames' ``prompt_seq``."""
        return int(self.request("prompt", session=session, text=text, source=source, scene_cut=scene_cut)["seq"])

    def scene_cut(self, session: int) -> int:
        return int(self.request("scene_cut", session=session)["seq"])

    def seed_image(self, session: int, image: bytes) -> int:
        """An encoded image (JPEG or PNG) of the game's view: the world continues from it at the next chunk."""
        return int(self.request("seed_image", session=session, image=bytes(image))["seq"])

    def pause(self, session: int) -> None:
        self.request("pause", session=session)

    def resume(self, session: int) -> None:
        self.request("resume", session=session)

    def close_session(self, session: int) -> None:
        self.request("close_session", session=session)

    def ping(self) -> float:
        """Round-trip time in seconds."""
        start = time.perf_counter()
        self.request("ping", t=time.time())
        return time.perf_counter() - start

    # ----------------------------------------------------------------- receiving
    def poll(self, timeout_s: float = 0.0, max_items: int = 1000) -> list[ReceivedFrame | dict[str, Any]]:
        """What has arrived (waiting up to ``timeout_s`` for the first item); acknowledges frames, sends heartbeats."""
        items: list[ReceivedFrame | dict[str, Any]] = []
        while self._inbox and len(items) < max_items:
            items.append(self._inbox.popleft())
        wait = timeout_s if not items else 0.0
        while len(items) < max_items:
            item = self._receive(wait)
            if item is None:
                break
            wait = 0.0
            if isinstance(item, dict) and item.get("type") == "reply" and item.get("re") == "ping":
                continue
            items.append(item)
        newest: dict[int, int] = {}
        for item in items:
            if isinstance(item, ReceivedFrame):
                newest[item.header.session] = max(newest.get(item.header.session, -1), item.header.frame)
        for session, frame in newest.items():
            self._send({"type": "ack_frames", "session": session, "frame": frame})
        self.heartbeat()
        return items

    def heartbeat(self) -> None:
        """Send a ping if nothing was sent for a heartbeat interval (poll calls this)."""
        interval = float(self.server.get("heartbeat_s", P.HEARTBEAT_S))
        if time.monotonic() - self._last_sent >= interval:
            self._send({"type": "ping", "seq": next(self._seq), "t": time.time()})

    # ----------------------------------------------------------------- lifecycle
    def close(self) -> None:
        if not self.closed:
            self.socket.close(linger=0)
            self.context.term()
            self.closed = True

    def __enter__(self) -> "WorldClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
