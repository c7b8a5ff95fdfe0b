"""bridge.media: DALI (real CPU pipelines, device_id=None) and Pillow agree on seed decode and frame encode."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bridge.media import (
    EGRESS_MAX_BATCH,
    DaliMedia,
    FrameMedia,
    ImageError,
    MediaLimits,
    PillowMedia,
    make_media,
)

# Tolerances, measured on the synthetic image below (DALI 2.4 vs Pillow 13) with a margin of about 2x-5x.
DECODE_MEAN_TOL = 2e-3  # mean |DALI - Pillow| in normalised units (measured <= 1.5e-4)
DECODE_MAX_TOL = 0.05  # max |DALI - Pillow| in normalised units, ~6 grey levels (measured <= 0.025)
RESIZE_MEAN_TOL = 0.5  # raw_rgb resize, grey levels (measured <= 0.23)
RESIZE_MAX_TOL = 8  # grey levels (measured <= 5, at one-pixel stripes under a 2x shrink)
JPEG_VS_SOURCE_MEAN_TOL = 8.0  # grey levels at quality 90, 4:2:0 (measured <= 5.6; saturated edges dominate)
JPEG_DALI_VS_PILLOW_MEAN_TOL = 1.5  # grey levels (measured 0 at the same size, <= 0.9 after a resize)

SRC_H, SRC_W = 80, 96


def synthetic_rgb(height: int, width: int) -> np.ndarray:
    """uint8 (H, W, 3): three gradients, a red box, a cyan disc and darker rows every 7 lines."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img_hw3 = np.stack(
        [xx / (width - 1) * 255, yy / (height - 1) * 255, (xx + yy) / (height + width - 2) * 255], axis=-1
    )
    img_hw3[height // 4 : height // 2, width // 4 : width // 2] = [250, 20, 30]
    disc = (xx - 0.7 * width) ** 2 + (yy - 0.6 * height) ** 2 < (min(height, width) / 5) ** 2
    img_hw3[disc] = [10, 200, 240]
    img_hw3[::7] *= 0.75
    return img_hw3.round().clip(0, 255).astype(np.uint8)


def encode(img: np.ndarray | Image.Image, fmt: str, **save_kwargs: object) -> bytes:
    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **save_kwargs)
    return buf.getvalue()


def normalised(img_hw3: np.ndarray) -> np.ndarray:
    return img_hw3.astype(np.float32) / 127.5 - 1.0


def grey_levels(payload: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"), dtype=np.float64)


@pytest.fixture(scope="module")
def src_hw3() -> np.ndarray:
    return synthetic_rgb(SRC_H, SRC_W)


@pytest.fixture(scope="module")
def seed_files(src_hw3: np.ndarray) -> dict[str, bytes]:
    return {"png": encode(src_hw3, "PNG"), "jpeg": encode(src_hw3, "JPEG", quality=95)}


@pytest.fixture(scope="module")
def dali() -> DaliMedia:
    return DaliMedia(device="cpu")


@pytest.fixture(scope="module")
def pillow() -> PillowMedia:
    return PillowMedia()


@pytest.fixture(scope="module", params=["dali", "pillow"])
def media(request: pytest.FixtureRequest, dali: DaliMedia, pillow: PillowMedia) -> FrameMedia:
    return dali if request.param == "dali" else pillow


# ----------------------------------------------------------------------------- decode
@pytest.mark.parametrize("kind", ["png", "jpeg"])
@pytest.mark.parametrize("size", [(64, 64), (120, 144), (50, 200)], ids=["shrink", "enlarge", "mixed"])
def test_dali_and_pillow_decode_agree(
    dali: DaliMedia, pillow: PillowMedia, seed_files: dict[str, bytes], kind: str, size: tuple[int, int]
) -> None:
    height, width = size
    out_dali = dali.decode_seed_image(seed_files[kind], height, width)
    out_pillow = pillow.decode_seed_image(seed_files[kind], height, width)
    for out in (out_dali, out_pillow):
        assert out.shape == (height, width, 3) and out.dtype == np.float32
        assert out.min() >= -1.0 and out.max() <= 1.0
    diff = np.abs(out_dali - out_pillow)
    assert diff.mean() <= DECODE_MEAN_TOL, f"mean |diff| {diff.mean():.5f}"
    assert diff.max() <= DECODE_MAX_TOL, f"max |diff| {diff.max():.5f}"


def test_same_size_png_decodes_to_exact_normalised_pixels(
    media: FrameMedia, seed_files: dict[str, bytes], src_hw3: np.ndarray
) -> None:
    out_hw3 = media.decode_seed_image(seed_files["png"], SRC_H, SRC_W)
    np.testing.assert_allclose(out_hw3, normalised(src_hw3), atol=1e-5)


def test_grayscale_and_rgba_png_become_rgb(media: FrameMedia, src_hw3: np.ndarray) -> None:
    gray_hw = src_hw3[..., 0]
    alpha_hw = np.linspace(0, 255, SRC_H * SRC_W).reshape(SRC_H, SRC_W).astype(np.uint8)
    gray = media.decode_seed_image(encode(gray_hw, "PNG"), SRC_H, SRC_W)
    gray16 = media.decode_seed_image(encode(gray_hw.astype(np.uint16) * 257, "PNG"), SRC_H, SRC_W)
    rgba = media.decode_seed_image(encode(np.dstack([src_hw3, alpha_hw]), "PNG"), SRC_H, SRC_W)
    expected_gray = np.repeat(normalised(gray_hw)[..., None], 3, axis=-1)
    np.testing.assert_allclose(gray, expected_gray, atol=1e-5)
    np.testing.assert_allclose(gray16, expected_gray, atol=1e-5)  # 16-bit scaled to 8 bits, not clipped
    np.testing.assert_allclose(rgba, normalised(src_hw3), atol=1e-5)  # alpha dropped, not composited
    assert media.decode_seed_image(encode(gray_hw, "PNG"), 32, 40).shape == (32, 40, 3)


def _bad_images(seed_files: dict[str, bytes], good: bytes) -> dict[str, tuple[bytes, MediaLimits, str]]:
    """name -> (data, limits under which it is refused but ``good`` is accepted, a phrase the message must hold)."""
    wide_png = encode(np.zeros((1, 4097, 3), np.uint8), "PNG")  # beyond the default max_side
    assert len(good) < len(seed_files["png"])
    return {
        "garbage": (b"definitely not an image", MediaLimits(), "neither JPEG nor PNG"),
        "empty": (b"", MediaLimits(), "empty"),
        "truncated_jpeg": (seed_files["jpeg"][: len(seed_files["jpeg"]) // 2], MediaLimits(), "truncated"),
        "jpeg_header_only": (seed_files["jpeg"][:40], MediaLimits(), "truncated"),
        "truncated_png": (seed_files["png"][: len(seed_files["png"]) // 2], MediaLimits(), "truncated"),
        "side_too_large": (wide_png, MediaLimits(), "max_side"),
        "side_over_custom_limit": (seed_files["png"], MediaLimits(max_side=64), "max_side"),
        "too_many_bytes": (seed_files["png"], MediaLimits(max_image_bytes=len(good)), "max_image_bytes"),
    }


@pytest.mark.parametrize("backend", ["dali", "pillow"])
def test_bad_seed_images_raise_image_error_and_backend_recovers(
    backend: str, seed_files: dict[str, bytes], src_hw3: np.ndarray
) -> None:
    good = encode(synthetic_rgb(24, 32), "JPEG", quality=80)
    by_limits: dict[MediaLimits, FrameMedia] = {}
    for name, (data, limits, phrase) in _bad_images(seed_files, good).items():
        if limits not in by_limits:
            by_limits[limits] = DaliMedia(limits=limits) if backend == "dali" else PillowMedia(limits=limits)
        media = by_limits[limits]
        with pytest.raises(ImageError, match=phrase) as info:
            media.decode_seed_image(data, 64, 64)
        assert "JPEG or PNG" in str(info.value) or "Media" in str(info.value), f"{name}: {info.value}"
        assert media.decode_seed_image(good, 48, 40).shape == (48, 40, 3), name  # still works afterwards


def test_decode_rejects_bad_target_size(media: FrameMedia, seed_files: dict[str, bytes]) -> None:
    for height, width in [(0, 64), (64, -1), (4097, 64)]:
        with pytest.raises(ValueError, match="max_side"):
            media.decode_seed_image(seed_files["png"], height, width)


# ----------------------------------------------------------------------------- encode
@pytest.fixture(scope="module")
def frames_fhw3(src_hw3: np.ndarray) -> np.ndarray:
    return np.stack([src_hw3, np.roll(src_hw3, 5, axis=1), src_hw3[::-1]])  # (3, 80, 96, 3) uint8


def test_raw_rgb_at_same_size_returns_the_exact_bytes(media: FrameMedia, frames_fhw3: np.ndarray) -> None:
    payloads = media.encode_frames(frames_fhw3, SRC_H, SRC_W, "raw_rgb")
    assert payloads == [f_hw3.tobytes() for f_hw3 in frames_fhw3]


@pytest.mark.parametrize("size", [(64, 64), (120, 144), (40, 48)], ids=["shrink", "enlarge", "half"])
def test_raw_rgb_resize_dali_matches_pillow(
    dali: DaliMedia, pillow: PillowMedia, frames_fhw3: np.ndarray, size: tuple[int, int]
) -> None:
    height, width = size
    out = {}
    for media in (dali, pillow):
        payloads = media.encode_frames(frames_fhw3, height, width, "raw_rgb")
        assert len(payloads) == len(frames_fhw3) and all(len(p) == height * width * 3 for p in payloads)
        out[media.name] = np.frombuffer(b"".join(payloads), np.uint8).astype(np.int16)
    diff = np.abs(out["dali"] - out["pillow"])
    assert diff.mean() <= RESIZE_MEAN_TOL and diff.max() <= RESIZE_MAX_TOL, (diff.mean(), diff.max())


def test_dali_egress_splits_long_chunks(dali: DaliMedia) -> None:
    n_frames = EGRESS_MAX_BATCH + 3
    frames = np.arange(n_frames, dtype=np.uint8)[:, None, None, None] * np.ones((1, 8, 8, 3), np.uint8) * 10
    payloads = dali.encode_frames(frames, 4, 4, "raw_rgb")  # flat frames stay flat after resizing
    assert [p[0] for p in payloads] == [10 * i for i in range(n_frames)]


@pytest.mark.parametrize("size", [(SRC_H, SRC_W), (64, 64)], ids=["same", "resized"])
def test_jpeg_frames_decode_close_to_source_and_across_backends(
    dali: DaliMedia, pillow: PillowMedia, frames_fhw3: np.ndarray, size: tuple[int, int]
) -> None:
    height, width = size
    decoded: dict[str, list[np.ndarray]] = {}
    for media in (dali, pillow):
        payloads = media.encode_frames(frames_fhw3, height, width, "jpeg", jpeg_quality=90)
        assert len(payloads) == len(frames_fhw3)
        for payload in payloads:
            assert payload[:3] == b"\xff\xd8\xff"
            with Image.open(io.BytesIO(payload)) as img:
                assert img.format == "JPEG" and img.size == (width, height)
                assert "progressive" not in img.info and "progression" not in img.info  # baseline
        decoded[media.name] = [grey_levels(p) for p in payloads]
        reference = media.encode_frames(frames_fhw3, height, width, "raw_rgb")  # this backend's resize
        for got, ref in zip(decoded[media.name], reference):
            ref_hw3 = np.frombuffer(ref, np.uint8).reshape(height, width, 3)
            assert np.abs(got - ref_hw3).mean() <= JPEG_VS_SOURCE_MEAN_TOL
    for got_dali, got_pillow in zip(decoded["dali"], decoded["pillow"]):
        assert np.abs(got_dali - got_pillow).mean() <= JPEG_DALI_VS_PILLOW_MEAN_TOL


def test_encode_rejects_bad_format_size_and_frames(media: FrameMedia, frames_fhw3: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown frame format"):
        media.encode_frames(frames_fhw3, 64, 64, "png")
    with pytest.raises(ValueError, match="jpeg_quality"):
        media.encode_frames(frames_fhw3, 64, 64, "jpeg", jpeg_quality=0)
    for height, width in [(0, 64), (64, 0), (5000, 64)]:
        with pytest.raises(ValueError, match="max_side"):
            media.encode_frames(frames_fhw3, height, width, "raw_rgb")
    with pytest.raises(ValueError, match="uint8"):
        media.encode_frames(frames_fhw3.astype(np.float32), 64, 64, "raw_rgb")
    with pytest.raises(ValueError, match=r"\(F, H, W, 3\)"):
        media.encode_frames(frames_fhw3[0], 64, 64, "raw_rgb")
    with pytest.raises(ValueError, match="F=0"):
        media.encode_frames(frames_fhw3[:0], 64, 64, "raw_rgb")


# ----------------------------------------------------------------------------- choice
def test_make_media_prefers_dali_when_installed_and_honours_pillow() -> None:
    auto = make_media("auto")
    assert isinstance(auto, DaliMedia) and auto.name == "dali" and isinstance(auto, FrameMedia)
    fallback = make_media("pillow")
    assert isinstance(fallback, PillowMedia) and fallback.name == "pillow" and isinstance(fallback, FrameMedia)
    with pytest.raises(ValueError, match="prefer"):
        make_media("opencv")
    with pytest.raises(ValueError, match="device"):
        make_media("dali", device="tpu")
