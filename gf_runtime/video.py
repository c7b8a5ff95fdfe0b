"""Writing frames to MP4 (H.264 through PyAV, which bundles FFmpeg)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np

VIDEO_CODEC = "libx264"
VIDEO_PIXEL_FORMAT = "yuv420p"


class Mp4Writer:
    """Streams uint8 (H, W, 3) frames into an MP4 file. ``scale`` enlarges each pixel (nearest) for viewing."""

    def __init__(self, path: str | Path, fps: float, scale: int = 1) -> None:
        import av

        if scale < 1:
            raise ValueError(f"scale={scale} must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.scale = scale
        self._container = av.open(str(self.path), mode="w")
        self._stream = self._container.add_stream(VIDEO_CODEC, rate=int(round(fps)))
        self._stream.pix_fmt = VIDEO_PIXEL_FORMAT
        self._stream.options = {"crf": "18"}
        self._opened = False
        self.frames_written = 0

    def write(self, frames_fhw3: np.ndarray) -> None:
        import av

        if frames_fhw3.ndim == 3:
            frames_fhw3 = frames_fhw3[None]
        if self.scale > 1:
            frames_fhw3 = frames_fhw3.repeat(self.scale, axis=1).repeat(self.scale, axis=2)
        height, width = frames_fhw3.shape[1:3]
        if not self._opened:
            # H.264 with 4:2:0 chroma needs even sizes.
            self._stream.height, self._stream.width = height - height % 2, width - width % 2
            self._opened = True
        for frame in frames_fhw3:
            image = np.ascontiguousarray(frame[: self._stream.height, : self._stream.width])
            video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
            self.frames_written += 1

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self) -> "Mp4Writer":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_mp4_frame_count(path: str | Path) -> int:
    """Decoded frame count of a video file (for tests and checks)."""
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))
