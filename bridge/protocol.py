"""The gf bridge wire protocol (version 1): constants, message validation and msgpack framing.

``bridge/PROTOCOL.md`` is the specification; this module is its one implementation on the Python side. The
server and the Python client both build and check messages only through here.

Framing: a client talks through a DEALER socket to the server's ROUTER socket. Every message from the client is
one ZeroMQ frame holding a msgpack map with a ``type``. The server answers with one-frame msgpack maps (replies
and events) and two-frame video messages (a msgpack header map, then the payload bytes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

import msgpack

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)


class ErrorCode(str, enum.Enum):
    """Every error the server sends, as the string on the wire."""

    BAD_MESSAGE = "bad_message"  # not msgpack, not a map, or more than one frame
    UNKNOWN_TYPE = "unknown_type"
    BAD_FIELD = "bad_field"  # a field is missing, of the wrong type, or out of range
    UNSUPPORTED_VERSION = "unsupported_version"
    NO_HELLO = "no_hello"  # a request before hello
    TOO_LARGE = "too_large"  # message over max_message_bytes
    PROMPT_TOO_LONG = "prompt_too_long"
    SESSION_LIMIT = "session_limit"
    UNKNOWN_SESSION = "unknown_session"  # not open, closed, reaped, or another client's
    BAD_IMAGE = "bad_image"
    INTERNAL = "internal"


class Source(str, enum.Enum):
    """Who asked for a prompt."""

    PLAYER = "player"
    NPC = "npc"
    SCRIPT = "script"


class FrameFormat(str, enum.Enum):
    RAW_RGB = "raw_rgb"  # height × width × 3 uint8, row-major, top row first
    JPEG = "jpeg"


class Pace(str, enum.Enum):
    REALTIME = "realtime"  # a session generates no faster than its stream's frame rate
    MAX = "max"  # as fast as the generator can


@dataclass(frozen=True)
class Limits:
    """What the server accepts; sent to the client in the hello reply."""

    max_message_bytes: int = 16 * 1024 * 1024
    max_sessions: int = 4
    max_sessions_per_client: int = 4
    max_prompt_chars: int = 512
    max_client_name_chars: int = 64
    max_output_side: int = 4096
    max_window_frames: int = 256

    def to_wire(self) -> dict[str, int]:
        return {
            "max_message_bytes": self.max_message_bytes,
            "max_sessions": self.max_sessions,
            "max_sessions_per_client": self.max_sessions_per_client,
            "max_prompt_chars": self.max_prompt_chars,
            "max_client_name_chars": self.max_client_name_chars,
            "max_output_side": self.max_output_side,
            "max_window_frames": self.max_window_frames,
        }


HEARTBEAT_S = 1.0  # clients send ping (or anything) at least this often
CLIENT_TIMEOUT_S = 10.0  # the server reaps a client's sessions after this long without a message from it
DEFAULT_WINDOW_FRAMES = 8  # frames sent but not yet acknowledged, per session
STATS_INTERVAL_S = 1.0
HARD_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # ZMQ_MAXMSGSIZE: above this the transport drops the connection


class ProtocolError(Exception):
    """A request the server refuses; becomes an ``error`` reply. Never ends the server."""

    def __init__(self, code: ErrorCode, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_name = field_name


# --------------------------------------------------------------------------------------------- msgpack
def pack(message: Mapping[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def unpack_map(data: bytes, max_bytes: int) -> dict[str, Any]:
    """Decode one message; its size, msgpack validity and map-ness are checked here."""
    if len(data) > max_bytes:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"message of {len(data)} bytes is over the limit of {max_bytes}")
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError, TypeError) as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"not a valid msgpack message: {exc}") from None
    except Exception as exc:  # msgpack raises a few other types on hostile input (e.g. UnicodeDecodeError)
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"not a valid msgpack message: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"a message must be a msgpack map, got {type(message).__name__}")
    return message


# --------------------------------------------------------------------------------------------- field checks
def _get(message: Mapping[str, Any], name: str, kinds: type | tuple[type, ...], default: Any = ..., what: str = "") -> Any:
    if name not in message:
        if default is ...:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} is missing", name)
        return default
    value = message[name]
    bad_bool = isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,))
    if not isinstance(value, kinds) or bad_bool:
        expected = what or (kinds.__name__ if isinstance(kinds, type) else " or ".join(k.__name__ for k in kinds))
        raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be {expected}, got {type(value).__name__}", name)
    return value


def _int(message: Mapping[str, Any], name: str, low: int, high: int, default: Any = ...) -> int:
    value = _get(message, name, int, default, what="an integer")
    if value is not default and not low <= value <= high:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be in [{low}, {high}], got {value}", name)
    return value


def _enum(message: Mapping[str, Any], name: str, kind: type[enum.Enum], default: Any = ...) -> Any:
    value = _get(message, name, str, default, what="a string")
    if value is default:
        return default
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)  # type: ignore[attr-defined]
        raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be one of {choices}, got {value!r}", name) from None


def _session(message: Mapping[str, Any]) -> int:
    return _int(message, "session", 1, 2**53)


def _seq(message: Mapping[str, Any]) -> int:
    return _int(message, "seq", 0, 2**63 - 1)


# --------------------------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Hello:
    seq: int
    versions: tuple[int, ...]
    client: str


@dataclass(frozen=True)
class OpenSession:
    seq: int
    prompt: str
    seed: int
    policy: str | None
    format: FrameFormat
    width: int | None  # output size; None = the model's own
    height: int | None
    jpeg_quality: int
    window: int
    pace: Pace


@dataclass(frozen=True)
class Prompt:
    seq: int
    session: int
    text: str
    source: Source
    scene_cut: bool


@dataclass(frozen=True)
class SceneCutRequest:
    seq: int
    session: int


@dataclass(frozen=True)
class SeedImageRequest:
    seq: int
    session: int
    image: bytes  # JPEG or PNG file


@dataclass(frozen=True)
class Pause:
    seq: int
    session: int


@dataclass(frozen=True)
class Resume:
    seq: int
    session: int


@dataclass(frozen=True)
class CloseSession:
    seq: int
    session: int


@dataclass(frozen=True)
class Ping:
    seq: int
    t: float  # the client's clock, echoed in the reply


@dataclass(frozen=True)
class AckFrames:
    """Flow control: the client has received every frame of the session up to ``frame``. No reply."""

    session: int
    frame: int


Request = (
    Hello | OpenSession | Prompt | SceneCutRequest | SeedImageRequest | Pause | Resume | CloseSession | Ping | AckFrames
)


def _text(message: Mapping[str, Any], name: str, max_chars: int, code: ErrorCode = ErrorCode.BAD_FIELD) -> str:
    text = _get(message, name, str, what="a string")
    if len(text) > max_chars:
        raise ProtocolError(code, f"field {name!r} has {len(text)} characters; the limit is {max_chars}", name)
    return text


def parse_request(message: Mapping[str, Any], limits: Limits) -> Request:
    """A decoded map → a typed request, or ProtocolError naming what is wrong."""
    kind = _get(message, "type", str, what="a string")
    if kind == "hello":
        versions = _get(message, "versions", list, what="a list of integers")
        if not versions or not all(isinstance(v, int) and not isinstance(v, bool) for v in versions):
            raise ProtocolError(ErrorCode.BAD_FIELD, "field 'versions' must be a non-empty list of integers", "versions")
        return Hello(_seq(message), tuple(versions), _text(message, "client", limits.max_client_name_chars))
    if kind == "open_session":
        size = [_int(message, name, 1, limits.max_output_side, None) for name in ("width", "height")]
        if (size[0] is None) != (size[1] is None):
            raise ProtocolError(ErrorCode.BAD_FIELD, "give both 'width' and 'height', or neither", "width")
        return OpenSession(
            seq=_seq(message),
            prompt=_text(message, "prompt", limits.max_prompt_chars, ErrorCode.PROMPT_TOO_LONG),
            seed=_int(message, "seed", 0, 2**63 - 1, 0),
            policy=_get(message, "policy", str, None, what="a string"),
            format=_enum(message, "format", FrameFormat, FrameFormat.RAW_RGB),
            width=size[0],
            height=size[1],
            jpeg_quality=_int(message, "jpeg_quality", 1, 100, 90),
            window=_int(message, "window", 1, limits.max_window_frames, DEFAULT_WINDOW_FRAMES),
            pace=_enum(message, "pace", Pace, Pace.REALTIME),
        )
    if kind == "prompt":
        return Prompt(
            seq=_seq(message),
            session=_session(message),
            text=_text(message, "text", limits.max_prompt_chars, ErrorCode.PROMPT_TOO_LONG),
            source=_enum(message, "source", Source, Source.PLAYER),
            scene_cut=_get(message, "scene_cut", bool, False, what="true or false"),
        )
    if kind == "scene_cut":
        return SceneCutRequest(_seq(message), _session(message))
    if kind == "seed_image":
        image = _get(message, "image", bytes, what="binary (msgpack bin)")
        return SeedImageRequest(_seq(message), _session(message), image)
    if kind == "pause":
        return Pause(_seq(message), _session(message))
    if kind == "resume":
        return Resume(_seq(message), _session(message))
    if kind == "close_session":
        return CloseSession(_seq(message), _session(message))
    if kind == "ping":
        t = _get(message, "t", (int, float), 0.0, what="a number")
        return Ping(_seq(message), float(t))
    if kind == "ack_frames":
        return AckFrames(_session(message), _int(message, "frame", -1, 2**63 - 1))
    raise ProtocolError(
        ErrorCode.UNKNOWN_TYPE,
        f"unknown message type {kind!r}; known: hello, open_session, prompt, scene_cut, seed_image, pause, resume, "
        "close_session, ping, ack_frames",
        "type",
    )


# --------------------------------------------------------------------------------------------- server messages
def reply(request_type: str, seq: int | None, **fields: Any) -> dict[str, Any]:
    return {"type": "reply", "re": request_type, "seq": seq, **fields}


def error(code: ErrorCode, message: str, seq: int | None = None, field_name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code.value, "message": message, "seq": seq}
    if field_name is not None:
        out["field"] = field_name
    return out


@dataclass(frozen=True)
class FrameHeader:
    """The first part of a two-part video message; the second part is the payload."""

    session: int
    chunk: int  # chunk index in the session's stream
    frame: int  # frame index in the stream (increasing, may skip frames a slow client missed)
    frame_in_chunk: int
    prompt_id: int  # increments at every prompt switch that took effect
    prompt_seq: int  # seq of the newest prompt request applied at or before this frame's chunk (0: the opening)
    width: int
    height: int
    format: FrameFormat
    t_generated: float  # server wall clock (seconds since the epoch) when the chunk finished
    t_sent: float
    dropped: int = 0  # frames of this session skipped so far because the client was behind

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "frame",
            "session": self.session,
            "chunk": self.chunk,
            "frame": self.frame,
            "frame_in_chunk": self.frame_in_chunk,
            "prompt_id": self.prompt_id,
            "prompt_seq": self.prompt_seq,
            "width": self.width,
            "height": self.height,
            "format": self.format.value,
            "t_generated": self.t_generated,
            "t_sent": self.t_sent,
            "dropped": self.dropped,
        }

    @classmethod
    def from_wire(cls, message: Mapping[str, Any]) -> "FrameHeader":
        try:
            return cls(
                session=int(message["session"]),
                chunk=int(message["chunk"]),
                frame=int(message["frame"]),
                frame_in_chunk=int(message["frame_in_chunk"]),
                prompt_id=int(message["prompt_id"]),
                prompt_seq=int(message["prompt_seq"]),
                width=int(message["width"]),
                height=int(message["height"]),
                format=FrameFormat(message["format"]),
                t_generated=float(message["t_generated"]),
                t_sent=float(message["t_sent"]),
                dropped=int(message.get("dropped", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"bad frame header: {exc!r}") from None


@dataclass(frozen=True)
class SessionStats:
    session: int
    chunks: int
    frames_generated: int
    frames_sent: int
    frames_dropped: int
    generated_fps: float  # over the last stats interval
    chunk_ms: float  # mean generation time per chunk over the interval
    in_flight: int  # frames sent and not yet acknowledged
    extra: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "stats",
            "session": self.session,
            "chunks": self.chunks,
            "frames_generated": self.frames_generated,
            "frames_sent": self.frames_sent,
            "frames_dropped": self.frames_dropped,
            "generated_fps": self.generated_fps,
            "chunk_ms": self.chunk_ms,
            "in_flight": self.in_flight,
            **self.extra,
        }
