"""WorldSim: an endless procedural video world (64×64 by default) with ground-truth labels for every frame.

A biome background (panorama, scrolled by the camera pan, with per-frame dynamics: snowfall, waves, lava
glow, lit windows at night) and one subject (shape, colour) that moves left/right, bounces, or stays still.
Prompt switches change what they name and carry over the rest: the subject's identity persists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gf_runtime.world.prompt import BIOMES, COLORS, MOTIONS, PANS, SHAPES, WorldPrompt, parse_prompt

FRAME_SIZE = 64
PANORAMA_WIDTH = 256  # background repeats every this many pixels
HORIZON_FRACTION = 0.62  # sky above, ground below
SUBJECT_SIZE_FRACTION = 0.32
SUBJECT_SPEED = 1.5  # pixels per frame (left / right)
PAN_SPEED = 1.5  # pixels per frame
BOUNCE_HEIGHT_FRACTION = 0.3
BOUNCE_PHASE_STEP = 0.35  # radians per frame
NIGHT_DIMMING = 0.35
NIGHT_TINT_RGB = (0, 0, 25)  # added to the dimmed background at night
SKY_GRADIENT_DROP = 0.25  # the sky darkens by this share from the top of the frame to the horizon
SUBJECT_NIGHT_SCALE = 0.8  # the subject is lit a little at night, the background dimmed more

SUBJECT_RGB = {
    "red": (225, 40, 40),
    "blue": (40, 90, 235),
    "yellow": (245, 215, 35),
    "green": (45, 205, 70),
}
SKY_RGB = {
    "grassland": (135, 195, 245),
    "desert": (240, 215, 160),
    "snow": (205, 215, 228),
    "ocean": (110, 175, 235),
    "lava": (70, 22, 18),
    "city": (150, 185, 220),
}
GROUND_RGB = {
    "grassland": (70, 150, 60),
    "desert": (215, 175, 100),
    "snow": (245, 248, 252),
    "ocean": (25, 80, 160),
    "lava": (45, 30, 28),
    "city": (70, 70, 78),
}


def subject_rgb(color: str, night: bool) -> np.ndarray:
    """The subject's colour as the renderer paints it, (3,) float32."""
    return np.array(SUBJECT_RGB[color], np.float32) * (SUBJECT_NIGHT_SCALE if night else 1.0)


def night_dimmed(rgb: np.ndarray) -> np.ndarray:
    """Background colours (..., 3) as night dims them (lit windows and lava glow are kept bright by the renderer)."""
    return rgb * NIGHT_DIMMING + np.array(NIGHT_TINT_RGB, np.float32)


@dataclass(frozen=True)
class FrameLabel:
    """Ground truth of one frame."""

    t: int
    biome: str
    night: bool
    shape: str
    color: str
    motion: str
    pan: str
    x: float  # subject centre, pixels
    y: float


@dataclass
class WorldState:
    attrs: WorldPrompt  # every attribute set
    x: float
    y: float
    phase: float
    camera: float
    t: int
    layout_seed: int


def ground_line_y(size: int = FRAME_SIZE) -> float:
    """The subject's centre row when it stands on the ground (still, moving, or at the bottom of a bounce)."""
    horizon = int(round(size * HORIZON_FRACTION))
    return horizon + (size - horizon) * 0.45


def _shape_mask(shape: str, size: int) -> np.ndarray:
    """(size, size) bool mask of a subject shape."""
    coords = (np.arange(size) + 0.5) / size * 2 - 1  # [-1, 1]
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    if shape == "ball":
        return xx**2 + yy**2 <= 0.95
    if shape == "cube":
        return (np.abs(xx) <= 0.8) & (np.abs(yy) <= 0.8)
    if shape == "triangle":
        # apex at the top, base at the bottom
        return (yy >= -0.85) & (yy <= 0.85) & (np.abs(xx) <= (yy + 0.85) / 1.7 * 0.95)
    if shape == "star":
        angle = np.arctan2(yy, xx)
        radius = np.sqrt(xx**2 + yy**2)
        # a five-pointed star: the boundary radius oscillates between inner and outer radius
        boundary = 0.45 + 0.5 * np.abs(np.cos(2.5 * (angle + np.pi / 2))) ** 2
        return radius <= boundary
    raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")


class WorldSim:
    """One endless world. ``step()`` renders the current frame and advances time."""

    def __init__(self, prompt: str | WorldPrompt, seed: int, size: int = FRAME_SIZE) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        parsed = parse_prompt(prompt) if isinstance(prompt, str) else prompt
        defaults = WorldPrompt(
            biome=str(self.rng.choice(BIOMES)),
            night=bool(self.rng.random() < 0.25),
            shape=str(self.rng.choice(SHAPES)),
            color=str(self.rng.choice(COLORS)),
            motion=str(self.rng.choice(MOTIONS)),
            pan=str(self.rng.choice(PANS)),
        )
        self.subject_size = max(4, int(round(size * SUBJECT_SIZE_FRACTION)))
        self.horizon = int(round(size * HORIZON_FRACTION))
        self.state = WorldState(
            attrs=parsed.merged_over(defaults),
            x=float(self.rng.uniform(0.25, 0.75) * size),
            y=float(self.ground_y()),
            phase=float(self.rng.uniform(0, np.pi)),
            camera=float(self.rng.uniform(0, PANORAMA_WIDTH)),
            t=0,
            layout_seed=int(self.rng.integers(2**31)),
        )
        if self.state.attrs.motion == "bounces":
            self.state.y = self._bounce_y()
        self._panoramas: dict[tuple[str, bool, int], np.ndarray] = {}
        self._masks = {s: _shape_mask(s, self.subject_size) for s in SHAPES}

    # ----------------------------------------------------------------- control
    @property
    def attrs(self) -> WorldPrompt:
        return self.state.attrs

    def set_prompt(self, prompt: str | WorldPrompt) -> WorldPrompt:
        """Apply what the prompt names; keep the rest. Returns the parsed prompt."""
        parsed = parse_prompt(prompt) if isinstance(prompt, str) else prompt
        self.state.attrs = parsed.merged_over(self.state.attrs)
        return parsed

    def scene_cut(self) -> None:
        """A new place in the same biome: new background layout and camera, the subject stays."""
        self.state.layout_seed = int(self.rng.integers(2**31))
        self.state.camera = float(self.rng.uniform(0, PANORAMA_WIDTH))

    def ground_y(self) -> float:
        return ground_line_y(self.size)

    def place_in_bounce(self, height_fraction: float) -> None:
        """Put a bouncing subject at ``height_fraction`` (0 = on the ground, 1 = the apex) of its bounce, rising."""
        if self.state.attrs.motion != "bounces":
            raise ValueError("place_in_bounce needs a bouncing subject; set its motion to 'bounces' first")
        if not 0.0 <= height_fraction <= 1.0:
            raise ValueError(f"height_fraction must be in [0, 1], got {height_fraction}")
        self.state.phase = float(np.arcsin(height_fraction))
        self.state.y = self._bounce_y()

    def _bounce_y(self) -> float:
        return self.ground_y() - abs(np.sin(self.state.phase)) * self.size * BOUNCE_HEIGHT_FRACTION

    def label(self) -> FrameLabel:
        s, a = self.state, self.state.attrs
        assert a.biome and a.shape and a.color and a.motion and a.pan and a.night is not None
        return FrameLabel(s.t, a.biome, a.night, a.shape, a.color, a.motion, a.pan, s.x, s.y)

    def step(self) -> tuple[np.ndarray, FrameLabel]:
        """Render the current frame (uint8 (H, W, 3)) with its label, then advance one frame."""
        frame = self.render()
        label = self.label()
        self._advance()
        return frame, label

    def advance(self, n_frames: int) -> None:
        """Let ``n_frames`` pass without rendering them."""
        for _ in range(n_frames):
            self._advance()

    def clip(self, n_frames: int) -> tuple[np.ndarray, list[FrameLabel]]:
        frames, labels = zip(*(self.step() for _ in range(n_frames)))
        return np.stack(frames), list(labels)

    def _advance(self) -> None:
        s, a = self.state, self.state.attrs
        if a.motion == "left":
            s.x = (s.x - SUBJECT_SPEED) % self.size
        elif a.motion == "right":
            s.x = (s.x + SUBJECT_SPEED) % self.size
        if a.motion == "bounces":
            s.phase += BOUNCE_PHASE_STEP
            s.y = self._bounce_y()
        else:
            s.y = self.ground_y()  # lands at once when it stops bouncing
        if a.pan == "left":
            s.camera -= PAN_SPEED
        elif a.pan == "right":
            s.camera += PAN_SPEED
        s.t += 1

    # ----------------------------------------------------------------- rendering
    def _panorama(self, biome: str, night: bool, layout_seed: int) -> np.ndarray:
        key = (biome, night, layout_seed)
        if key not in self._panoramas:
            if len(self._panoramas) > 16:
                self._panoramas.clear()
            self._panoramas[key] = self._build_panorama(biome, night, layout_seed)
        return self._panoramas[key]

    def _build_panorama(self, biome: str, night: bool, layout_seed: int) -> np.ndarray:
        """Static background, (H, PANORAMA_WIDTH, 3) float32 in [0, 255]."""
        rng = np.random.default_rng(layout_seed)
        h, w, horizon = self.size, PANORAMA_WIDTH, self.horizon
        img = np.zeros((h, w, 3), np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        sky = np.array(SKY_RGB[biome], np.float32)
        ground = np.array(GROUND_RGB[biome], np.float32)
        sky_gradient = 1.0 - SKY_GRADIENT_DROP * (yy[:horizon] / horizon)
        img[:horizon] = sky * sky_gradient[..., None]
        img[horizon:] = ground
        period = 2 * np.pi / w
        if biome == "grassland":
            stripes = 0.85 + 0.15 * np.sin(xx[horizon:] * period * 16 + yy[horizon:] * 0.9)
            img[horizon:] *= stripes[..., None]
            for _ in range(3):  # clouds
                cx, cy = rng.uniform(0, w), rng.uniform(4, horizon - 10)
                d = ((xx - cx + w / 2) % w - w / 2) ** 2 / 60 + (yy - cy) ** 2 / 12
                img[d < 1] = img[d < 1] * 0.3 + 255 * 0.7
        elif biome == "desert":
            dune = horizon + 3 + 3 * np.sin(xx[0] * period * 3 + rng.uniform(0, 6))
            shade = (yy > dune[None, :]) & (yy < dune[None, :] + 2)
            img[shade] *= 0.8
            sun = (xx - rng.uniform(20, w - 20)) ** 2 + (yy - 8) ** 2 < 25
            img[sun] = (255, 245, 200)
        elif biome == "snow":
            bumps = horizon - 2 + 2 * np.sin(xx[0] * period * 5 + rng.uniform(0, 6))
            hill = (yy >= bumps[None, :]) & (yy < horizon)
            img[hill] = ground * 0.95
            img[horizon:] *= (0.92 + 0.08 * np.sin(xx[horizon:] * period * 9))[..., None]
        elif biome == "ocean":
            pass  # waves are dynamic
        elif biome == "lava":
            cracks = np.abs(np.sin(xx[horizon:] * period * 11 + 3 * np.sin(yy[horizon:] * 0.5))) < 0.18
            img[horizon:][cracks] = (255, 110, 20)
        elif biome == "city":
            x = 0
            while x < w:
                bw, bh = int(rng.integers(10, 22)), int(rng.integers(10, horizon - 4))
                tone = rng.uniform(90, 140)
                img[horizon - bh : horizon, x : x + bw - 2] = (tone, tone, tone + 10)
                for wy in range(horizon - bh + 3, horizon - 3, 5):
                    for wx in range(x + 2, x + bw - 4, 4):
                        lit = rng.random() < (0.7 if night else 0.25)
                        img[wy : wy + 2, wx : wx + 2] = (250, 225, 110) if lit else (60, 70, 90)
                x += bw
            img[horizon + 8 : horizon + 10, ::6] = (230, 230, 230)  # road markings
        if night:
            lit = (img[..., 0] > 240) & (img[..., 1] > 200) & (img[..., 2] < 130)  # keep windows / lava bright
            glow = img[horizon:, :, 0] > 240
            dim = night_dimmed(img)
            if biome in ("city",):
                dim[lit] = img[lit]
            if biome == "lava":
                dim[horizon:][glow] = img[horizon:][glow]
            img = dim
        return img

    def render(self) -> np.ndarray:
        s, a = self.state, self.state.attrs
        assert a.biome is not None and a.night is not None and a.shape is not None and a.color is not None
        h, size = self.size, self.size
        pano = self._panorama(a.biome, a.night, s.layout_seed)
        offset = int(round(s.camera)) % PANORAMA_WIDTH
        cols = (np.arange(size) + offset) % PANORAMA_WIDTH
        img = pano[:, cols].copy()
        self._dynamics(img, a.biome, a.night, s.t, s.camera)
        self._draw_subject(img, a.shape, a.color, a.night, s.x, s.y)
        return np.clip(img, 0, 255).astype(np.uint8)

    def _dynamics(self, img: np.ndarray, biome: str, night: bool, t: int, camera: float) -> None:
        h, w = img.shape[:2]
        horizon = self.horizon
        dim = NIGHT_DIMMING if night else 1.0
        if biome == "ocean":
            yy, xx = np.mgrid[horizon:h, 0:w].astype(np.float32)
            wave = np.sin((xx + camera) * 0.35 + yy * 0.8 - t * 0.5)
            crest = wave > 0.8
            img[horizon:][crest] = np.array((200, 225, 255), np.float32) * dim
        elif biome == "snow":
            flake_rng = np.random.default_rng(1234)
            fx = flake_rng.uniform(0, w, 40)
            fy = flake_rng.uniform(0, h, 40)
            ys = ((fy + t * 1.2) % h).astype(int)
            xs = ((fx - camera * 0.5 + 2 * np.sin(t * 0.2 + fy)) % w).astype(int)
            img[ys, xs] = 255 * (0.7 if night else 1.0)
        elif biome == "lava":
            glow = 0.85 + 0.15 * np.sin(t * 0.6)
            bright = img[horizon:, :, 0] > 200
            img[horizon:][bright] *= glow

    def _draw_subject(self, img: np.ndarray, shape: str, color: str, night: bool, x: float, y: float) -> None:
        mask = self._masks[shape]
        size = self.subject_size
        rgb = subject_rgb(color, night)
        outline = np.zeros_like(mask)
        outline[1:] |= mask[:-1]
        outline[:-1] |= mask[1:]
        outline[:, 1:] |= mask[:, :-1]
        outline[:, :-1] |= mask[:, 1:]
        outline &= ~mask
        top = int(round(y - size / 2))
        for dx in (-self.size, 0, self.size):  # wrap around the frame edges
            left = int(round(x - size / 2)) + dx
            x0, x1 = max(left, 0), min(left + size, self.size)
            y0, y1 = max(top, 0), min(top + size, self.size)
            if x0 >= x1 or y0 >= y1:
                continue
            sub_mask = mask[y0 - top : y1 - top, x0 - left : x1 - left]
            sub_outline = outline[y0 - top : y1 - top, x0 - left : x1 - left]
            region = img[y0:y1, x0:x1]
            region[sub_outline] = (20, 20, 20)
            region[sub_mask] = rgb
