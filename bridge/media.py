"""Image path of the bridge: seed images in (decode), generated frames out (resize + encode).

Two interchangeable backends implement :class:`FrameMedia`:

- :class:`DaliMedia`: NVIDIA DALI pipelines (decode, resize, normalise) plus nvImageCodec for JPEG encoding.
  CPU pipelines (``device_id=None``) work without a GPU; ``device="cuda"`` moves decode ("mixed") and resize
  ("gpu") onto the GPU.
- :class:`PillowMedia`: NumPy + Pillow only, the fallback where DALI is not installed.

Both resize with a bilinear (triangle) filter that is antialiased when shrinking, to exactly the requested
height x width: the aspect ratio is NOT kept and nothing is cropped, so send images whose aspect ratio already
matches the stream to avoid stretching. :func:`make_media` picks a backend.

DaliMedia serialises its pipeline runs with a lock (one run at a time per instance); PillowMedia keeps no state.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- constants (one place each)
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FRAME_FORMATS = ("raw_rgb", "jpeg")
NORM_SCALE = 127.5  # uint8 x -> x / 127.5 - 1 in [-1, 1]
JPEG_QUALITY_RANGE = (1, 100)
JPEG_SUBSAMPLING = "4:2:0"  # both backends; nvImageCodec's CSS_420
EGRESS_MAX_BATCH = 16  # frames per DALI egress run; longer chunks are split into several runs
MAX_CACHED_PIPELINES = 8  # per DaliMedia instance, least recently used dropped first
UINT16_TO_UINT8 = 257.0  # 65535 / 255: 16-bit samples to the 8-bit range, as DALI's decoder does
DALI_INSTALL_HINT = (
    "install it with `pip install nvidia-dali-cuda120` (it brings nvidia-nvimgcodec-cu12), "
    "or use make_media('pillow')"
)
_DALI_INPUT = "input"  # name of the external_source in every DALI pipeline


class ImageError(ValueError):
    """A seed image that cannot be used; the message says what was wrong and what is accepted."""


@dataclass(frozen=True)
class MediaLimits:
    """Bounds on what the bridge decodes and produces."""

    max_image_bytes: int = 8 * 1024 * 1024
    max_side: int = 4096  # decoded images (and requested output sizes) larger than this on either side are refused

    def __post_init__(self) -> None:
        if self.max_image_bytes < 1 or self.max_side < 1:
            raise ValueError(
                f"MediaLimits(max_image_bytes={self.max_image_bytes}, max_side={self.max_side}): both must be >= 1"
            )


@runtime_checkable
class FrameMedia(Protocol):
    name: str  # "dali" or "pillow"

    def decode_seed_image(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Encoded image bytes (JPEG or PNG) -> float32 (height, width, 3) RGB in [-1, 1] (x / 127.5 - 1).

        The image is resized (bilinear, antialiased when shrinking) to exactly height x width; the aspect
        ratio is not kept and nothing is cropped. Grayscale, palette and RGBA images become RGB (alpha is
        dropped, not composited); EXIF orientation is applied. Raises ImageError for bytes that are not a
        decodable JPEG/PNG, more than ``max_image_bytes``, or an image beyond ``max_side``; ValueError for a
        bad target size.
        """
        ...

    def encode_frames(
        self, frames_fhw3: np.ndarray, height: int, width: int, fmt: str, jpeg_quality: int = 90
    ) -> list[bytes]:
        """uint8 frames (F, H, W, 3) -> one payload per frame at height x width.

        Frames are resized bilinearly (antialiased when shrinking); at the same size they are not resized and
        their bytes pass through untouched. fmt "raw_rgb": the HxWx3 uint8 bytes, row-major; fmt "jpeg": a
        baseline JPEG file (4:2:0). Raises ValueError for an unknown fmt, bad sizes, dtype or shape.
        """
        ...


# ----------------------------------------------------------------------------- validation shared by backends
def _check_out_size(height: int, width: int, limits: MediaLimits, what: str) -> tuple[int, int]:
    """Validate a (height, width) pair; returns it as plain ints."""
    for label, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{what} {label} must be an int; got {type(value).__name__} {value!r}")
    if not (1 <= height <= limits.max_side and 1 <= width <= limits.max_side):
        raise ValueError(
            f"{what} size {height}x{width} (HxW) is out of range; each side must be in [1, {limits.max_side}] "
            "(MediaLimits.max_side)"
        )
    return int(height), int(width)


def _check_fmt(fmt: str, jpeg_quality: int) -> None:
    if fmt not in FRAME_FORMATS:
        raise ValueError(f"unknown frame format {fmt!r}; expected one of {FRAME_FORMATS}")
    lo, hi = JPEG_QUALITY_RANGE
    if fmt == "jpeg" and not (isinstance(jpeg_quality, (int, np.integer)) and lo <= jpeg_quality <= hi):
        raise ValueError(f"jpeg_quality={jpeg_quality!r} must be an int in [{lo}, {hi}]")


def _check_frames(frames_fhw3: np.ndarray, limits: MediaLimits) -> np.ndarray:
    """Validate uint8 (F, H, W, 3) frames; returns them C-contiguous."""
    if not isinstance(frames_fhw3, np.ndarray):
        raise ValueError(f"frames must be a numpy array (F, H, W, 3) uint8; got {type(frames_fhw3).__name__}")
    if frames_fhw3.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 (F, H, W, 3); got dtype {frames_fhw3.dtype}; "
            "convert float frames in [-1, 1] with ((x + 1) * 127.5).round().clip(0, 255).astype(np.uint8)"
        )
    if frames_fhw3.ndim != 4 or frames_fhw3.shape[-1] != 3:
        raise ValueError(f"frames must have shape (F, H, W, 3); got {frames_fhw3.shape}")
    n_frames, in_h, in_w, _ = frames_fhw3.shape
    if n_frames < 1:
        raise ValueError("frames is empty (F=0); pass at least one frame")
    _check_out_size(in_h, in_w, limits, "input frame")
    return np.ascontiguousarray(frames_fhw3)


def _sniff_image(data: bytes, limits: MediaLimits) -> str:
    """Check the byte count and magic number; returns "jpeg" or "png" or raises ImageError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"seed image must be bytes (a JPEG or PNG file); got {type(data).__name__}")
    n_bytes = memoryview(data).nbytes
    if n_bytes == 0:
        raise ImageError("seed image is empty (0 bytes); send the bytes of a JPEG or PNG file")
    if n_bytes > limits.max_image_bytes:
        raise ImageError(
            f"seed image is {n_bytes} bytes; the limit is {limits.max_image_bytes} bytes "
            "(MediaLimits.max_image_bytes); send a smaller JPEG or PNG"
        )
    head = bytes(memoryview(data)[: len(PNG_MAGIC)])
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    raise ImageError(
        f"seed image is neither JPEG nor PNG (first bytes: {head.hex(' ')}); send a JPEG or PNG file "
        "(a JPEG starts ff d8 ff, a PNG starts 89 50 4e 47 0d 0a 1a 0a)"
    )


def _check_decoded_size(kind: str, height: int, width: int, limits: MediaLimits) -> None:
    if height < 1 or width < 1 or height > limits.max_side or width > limits.max_side:
        raise ImageError(
            f"seed {kind.upper()} is {width}x{height} (WxH); each side must be in [1, {limits.max_side}] "
            "(MediaLimits.max_side); downscale it before sending"
        )


def _undecodable(kind: str, detail: str) -> ImageError:
    return ImageError(
        f"seed image looks like {kind.upper()} but could not be decoded ({detail}); it is probably truncated or "
        "corrupt: send a complete JPEG or PNG file"
    )


# ----------------------------------------------------------------------------- Pillow backend
class PillowMedia:
    """FrameMedia with NumPy + Pillow on the CPU (the fallback where DALI is not installed)."""

    name = "pillow"

    def __init__(self, limits: MediaLimits = MediaLimits()) -> None:
        self.limits = limits

    def decode_seed_image(self, data: bytes, height: int, width: int) -> np.ndarray:
        height, width = _check_out_size(height, width, self.limits, "seed image target")
        kind = _sniff_image(data, self.limits)
        try:
            img = Image.open(io.BytesIO(bytes(data)), formats=[kind.upper()])
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise _undecodable(kind, str(exc)) from exc
        with img:
            in_w, in_h = img.size  # header only: nothing decoded yet
            _check_decoded_size(kind, in_h, in_w, self.limits)
            try:
                img.load()
                rgb_hw3 = self._to_rgb_float(ImageOps.exif_transpose(img))
            except (OSError, ValueError, SyntaxError) as exc:
                raise _undecodable(kind, str(exc)) from exc
        # Resize each channel as a float image ("F" mode) so nothing is quantised before normalising.
        resized_hw3 = np.stack(
            [
                np.asarray(Image.fromarray(rgb_hw3[..., c]).resize((width, height), Image.Resampling.BILINEAR))
                for c in range(3)
            ],
            axis=-1,
        )  # (height, width, 3) float32 in [0, 255]
        return np.clip(resized_hw3 / NORM_SCALE - 1.0, -1.0, 1.0).astype(np.float32)

    @staticmethod
    def _to_rgb_float(img: Image.Image) -> np.ndarray:
        """Any Pillow mode -> float32 (H, W, 3) in [0, 255]; 16-bit grayscale is scaled, not clipped."""
        if img.mode.startswith("I;16") or img.mode == "I":  # 16-bit PNG gray ("I" in older Pillow)
            gray_hw = np.asarray(img, dtype=np.float32) / UINT16_TO_UINT8
            return np.repeat(np.clip(gray_hw, 0.0, 255.0)[..., None], 3, axis=-1)
        return np.asarray(img.convert("RGB"), dtype=np.float32)

    def encode_frames(
        self, frames_fhw3: np.ndarray, height: int, width: int, fmt: str, jpeg_quality: int = 90
    ) -> list[bytes]:
        _check_fmt(fmt, jpeg_quality)
        height, width = _check_out_size(height, width, self.limits, "output frame")
        frames_fhw3 = _check_frames(frames_fhw3, self.limits)
        _, in_h, in_w, _ = frames_fhw3.shape
        if (in_h, in_w) != (height, width):
            frames_fhw3 = np.stack(
                [
                    np.asarray(Image.fromarray(f_hw3).resize((width, height), Image.Resampling.BILINEAR))
                    for f_hw3 in frames_fhw3
                ]
            )  # (F, height, width, 3) uint8
        if fmt == "raw_rgb":
            return [f_hw3.tobytes() for f_hw3 in frames_fhw3]
        payloads = []
        for f_hw3 in frames_fhw3:
            buf = io.BytesIO()
            Image.fromarray(f_hw3).save(
                buf, format="JPEG", quality=int(jpeg_quality), subsampling=JPEG_SUBSAMPLING,
                progressive=False, optimize=False,
            )
            payloads.append(buf.getvalue())
        return payloads


# ----------------------------------------------------------------------------- DALI backend
@dataclass(frozen=True)
class _DaliModules:
    dali: ModuleType
    fn: ModuleType
    types: ModuleType
    nvimgcodec: ModuleType


def _import_dali() -> _DaliModules:
    """Import DALI and nvImageCodec; ImportError (with the install command) when either is missing."""
    try:
        import nvidia.dali as dali
        import nvidia.dali.fn as fn
        import nvidia.dali.types as types
        from nvidia import nvimgcodec
    except ImportError as exc:
        raise ImportError(f"NVIDIA DALI / nvImageCodec is not importable ({exc}); {DALI_INSTALL_HINT}") from exc
    return _DaliModules(dali=dali, fn=fn, types=types, nvimgcodec=nvimgcodec)


def dali_available() -> bool:
    """True when DALI and nvImageCodec import (imports them; no pipeline is built)."""
    try:
        _import_dali()
    except ImportError:
        return False
    return True


def _parse_device(device: str) -> int | None:
    """"cpu" -> None (DALI's CPU-only pipelines); "cuda" / "gpu" -> 0; "cuda:N" -> N."""
    if device == "cpu":
        return None
    if device in ("cuda", "gpu"):
        return 0
    if device.startswith("cuda:") and device[len("cuda:"):].isdigit():
        return int(device[len("cuda:"):])
    raise ValueError(f"device={device!r} is not understood; pass 'cpu', 'cuda' (or 'gpu') or 'cuda:N'")


class DaliMedia:
    """FrameMedia with DALI pipelines; JPEG encoding with nvImageCodec.

    Pipelines are built on first use and cached per (operation, output size) on the instance. Decode runs
    batch 1 (one seed image); egress feeds the F frames of a chunk as one batch (split every
    EGRESS_MAX_BATCH frames). A pipeline that fails (a corrupt image) is dropped and rebuilt on next use.
    """

    name = "dali"

    def __init__(self, device: str = "cpu", limits: MediaLimits = MediaLimits(), num_threads: int = 1) -> None:
        if num_threads < 1:
            raise ValueError(f"num_threads={num_threads} must be >= 1")
        self._mod = _import_dali()
        self.device = device
        self.limits = limits
        self._device_id = _parse_device(device)
        self._num_threads = num_threads
        self._pipes: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
        self._lock = threading.Lock()
        nv = self._mod.nvimgcodec
        if self._device_id is None:  # CPU-only: the OpenCV/libjpeg-turbo encoder shipped inside nvImageCodec
            self._encoder = nv.Encoder(
                device_id=nv.NVIMGCODEC_DEVICE_CPU_ONLY, max_num_cpu_threads=num_threads,
                backends=[nv.Backend(nv.BackendKind.CPU_ONLY)],
            )
        else:  # nvJPEG where it can, CPU encoder as the fallback
            self._encoder = nv.Encoder(device_id=self._device_id, max_num_cpu_threads=num_threads)

    @property
    def _on_gpu(self) -> bool:
        return self._device_id is not None

    # ------------------------------------------------------------------ pipelines
    def _new_pipeline(self, batch_size: int) -> Any:
        return self._mod.dali.Pipeline(
            batch_size=batch_size, num_threads=self._num_threads, device_id=self._device_id,
            prefetch_queue_depth=1,
        )

    def _build_decode(self, height: int, width: int) -> Any:
        fn, types = self._mod.fn, self._mod.types
        pipe = self._new_pipeline(batch_size=1)
        with pipe:
            encoded = fn.external_source(name=_DALI_INPUT, device="cpu", dtype=types.UINT8, ndim=1)
            # 1. Decode to RGB uint8 (H, W, 3); gray/palette/RGBA become RGB, EXIF orientation applied.
            rgb_hw3 = fn.decoders.image(encoded, device="mixed" if self._on_gpu else "cpu", output_type=types.RGB)
            # 2. Stretch to (height, width) as float; linear filter, antialiased when shrinking.
            rgb_hw3 = fn.resize(
                rgb_hw3, size=[height, width], mode="stretch", interp_type=types.INTERP_LINEAR,
                antialias=True, dtype=types.FLOAT,
            )
            # 3. Normalise to [-1, 1].
            pipe.set_outputs(self._mod.dali.math.clamp(rgb_hw3 / NORM_SCALE - 1.0, -1.0, 1.0))
        pipe.build()
        return pipe

    def _build_resize(self, height: int, width: int) -> Any:
        fn, types = self._mod.fn, self._mod.types
        pipe = self._new_pipeline(batch_size=EGRESS_MAX_BATCH)
        with pipe:
            frames_hw3 = fn.external_source(name=_DALI_INPUT, device="cpu", dtype=types.UINT8, ndim=3, layout="HWC")
            if self._on_gpu:
                frames_hw3 = frames_hw3.gpu()
            pipe.set_outputs(
                fn.resize(
                    frames_hw3, size=[height, width], mode="stretch", interp_type=types.INTERP_LINEAR,
                    antialias=True,
                )  # uint8, rounded
            )
        pipe.build()
        return pipe

    def _pipeline(self, op: str, height: int, width: int) -> Any:
        key = (op, height, width)
        pipe = self._pipes.get(key)
        if pipe is None:
            pipe = self._build_decode(height, width) if op == "decode" else self._build_resize(height, width)
            self._pipes[key] = pipe
            while len(self._pipes) > MAX_CACHED_PIPELINES:
                self._pipes.popitem(last=False)
        self._pipes.move_to_end(key)
        return pipe

    def _run(self, key: tuple[str, int, int], batch: Any) -> np.ndarray:
        """Feed one batch to the cached pipeline for key and return its output as one host array (B, ...)."""
        pipe = self._pipeline(*key)
        try:
            pipe.feed_input(_DALI_INPUT, batch)
            (out,) = pipe.run()
        except Exception:
            self._pipes.pop(key, None)  # DALI marks a pipeline invalid after an operator error: rebuild
            raise
        if self._on_gpu:
            out = out.as_cpu()
        return np.array(out.as_array(), copy=True)  # DALI reuses its buffers on the next run

    # ------------------------------------------------------------------ FrameMedia
    def decode_seed_image(self, data: bytes, height: int, width: int) -> np.ndarray:
        height, width = _check_out_size(height, width, self.limits, "seed image target")
        kind = _sniff_image(data, self.limits)
        encoded_n = np.frombuffer(data, dtype=np.uint8)
        try:  # header only (parsed lazily, on first property access): size check before decoding pixels
            stream = self._mod.nvimgcodec.CodeStream(encoded_n)
            in_h, in_w = stream.height, stream.width
        except RuntimeError as exc:
            raise _undecodable(kind, "header unreadable") from exc
        _check_decoded_size(kind, in_h, in_w, self.limits)
        with self._lock:
            try:
                out_1hw3 = self._run(("decode", height, width), [encoded_n])
            except RuntimeError as exc:
                detail = str(exc).strip().splitlines()
                raise _undecodable(kind, f"DALI decoder: {detail[-1] if detail else 'error'}") from exc
        return out_1hw3[0]  # (height, width, 3) float32 in [-1, 1]

    def encode_frames(
        self, frames_fhw3: np.ndarray, height: int, width: int, fmt: str, jpeg_quality: int = 90
    ) -> list[bytes]:
        _check_fmt(fmt, jpeg_quality)
        height, width = _check_out_size(height, width, self.limits, "output frame")
        frames_fhw3 = _check_frames(frames_fhw3, self.limits)
        n_frames, in_h, in_w, _ = frames_fhw3.shape
        with self._lock:
            if (in_h, in_w) != (height, width):
                frames_fhw3 = np.concatenate(
                    [
                        self._run(("resize", height, width), frames_fhw3[i : i + EGRESS_MAX_BATCH])
                        for i in range(0, n_frames, EGRESS_MAX_BATCH)
                    ]
                )  # (F, height, width, 3) uint8
            if fmt == "raw_rgb":
                return [f_hw3.tobytes() for f_hw3 in frames_fhw3]
            return self._encode_jpeg(frames_fhw3, int(jpeg_quality))

    def _encode_jpeg(self, frames_fhw3: np.ndarray, quality: int) -> list[bytes]:
        nv = self._mod.nvimgcodec
        params = nv.EncodeParams(
            quality_type=nv.QualityType.QUALITY, quality_value=float(quality),
            chroma_subsampling=nv.ChromaSubsampling.CSS_420,
            jpeg_encode_params=nv.JpegEncodeParams(progressive=False, optimized_huffman=False),
        )
        streams = self._encoder.encode([nv.as_image(f_hw3) for f_hw3 in frames_fhw3], "jpeg", params=params)
        if any(s is None for s in streams):
            raise RuntimeError(f"nvImageCodec failed to encode {sum(s is None for s in streams)} frame(s) as JPEG")
        return [bytes(s) for s in streams]


# ----------------------------------------------------------------------------- choice
def make_media(prefer: str = "auto", device: str = "cpu", limits: MediaLimits = MediaLimits()) -> FrameMedia:
    """Pick the image backend.

    "auto": DALI when importable, else Pillow (logged at INFO). "dali": DALI, or ImportError saying how to
    install it. "pillow": the NumPy + Pillow fallback (always on the CPU, whatever ``device`` says).
    """
    if prefer not in ("auto", "dali", "pillow"):
        raise ValueError(f"prefer={prefer!r}; expected 'auto', 'dali' or 'pillow'")
    if prefer == "dali" or (prefer == "auto" and dali_available()):
        media: FrameMedia = DaliMedia(device=device, limits=limits)
    else:
        media = PillowMedia(limits=limits)
    log.info("bridge media backend: %s (device=%s, prefer=%s)", media.name, device, prefer)
    return media
