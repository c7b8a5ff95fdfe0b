"""A small CNN that reads a world frame back into its attributes: the yardstick for generated frames.

Heads: biome (``BIOMES`` order), night, shape (``SHAPES``), colour (``COLORS``) and the subject centre (x, y).
It is trained on frames rendered by ``WorldSim`` and degraded the way generated frames are (blur, a
downsample-upsample round trip, noise, slight colour jitter), so that it can measure frames that came through a
small 8x-downsampling VAE.

    from gf_runtime.world.classifier import load_classifier
    predictions = load_classifier().predict(frames_nhw3_uint8)  # the shipped weights
    predictions.biome, predictions.x, …

The shipped weights are ``gf_runtime/assets/world_classifier.safetensors``; rebuild them with
``python -m gf_runtime.world.classifier`` (about 3 minutes on 2 CPU cores; the run's report is stored in the
file's metadata, see ``read_report``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from gf_runtime.world.prompt import BIOMES, COLORS, MOTIONS, PANS, SHAPES, WorldPrompt
from gf_runtime.world.render import FRAME_SIZE, FrameLabel, WorldSim

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
METADATA_FORMAT_KEY = "gf_world_classifier_format"
METADATA_CONFIG_KEY = "gf_world_classifier_config"
METADATA_REPORT_KEY = "gf_world_classifier_report"
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "assets" / "world_classifier.safetensors"
HELD_OUT_SEED_BASE = 2**30
"""Training worlds draw seeds below this, held-out evaluation worlds at or above it (tests use ≥ 2**31)."""
TRAIN_THREADS = 2
SHIPPED_STEPS = 1800  # the shipped weights' training run (batch 64, seed 0)


class ClassifierFileError(ValueError):
    """A file that is not a world classifier this runtime can read; nothing was loaded."""


# --------------------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class ClassifierConfig:
    """Shape of the network and the vocabulary it was trained on (stored in every weights file)."""

    frame_size: int = FRAME_SIZE
    widths: tuple[int, ...] = (16, 32, 64, 96)  # one stage per entry; a 2x max-pool between stages
    convs: tuple[int, ...] = (1, 1, 2, 2)  # 3x3 conv + batch norm + ReLU layers per stage
    hidden: int = 128  # MLP width of each head
    position_channels: int = 16  # 1x1 conv before the position head flattens the last feature map
    biomes: tuple[str, ...] = BIOMES
    shapes: tuple[str, ...] = SHAPES
    colors: tuple[str, ...] = COLORS

    def __post_init__(self) -> None:
        if not self.widths or len(self.widths) != len(self.convs):
            raise ValueError(f"widths={self.widths} and convs={self.convs} must be non-empty and of equal length")
        if min(self.widths) < 1 or min(self.convs) < 1 or self.hidden < 1 or self.position_channels < 1:
            raise ValueError(f"widths={self.widths}, convs={self.convs}, hidden={self.hidden} and "
                             f"position_channels={self.position_channels} must be positive")
        if self.frame_size % 2 ** (len(self.widths) - 1):
            raise ValueError(f"frame_size={self.frame_size} must be divisible by 2**(len(widths) - 1)")

    @property
    def feature_size(self) -> int:
        """Side of the last feature map."""
        return self.frame_size // 2 ** (len(self.widths) - 1)

    @property
    def n_class_outputs(self) -> int:
        return len(self.biomes) + 2 + len(self.shapes) + len(self.colors)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "ClassifierConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown classifier config fields {unknown}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})  # type: ignore[arg-type]


@dataclass(frozen=True)
class AugmentConfig:
    """How training (and the augmented evaluation) degrades frames; each part is applied per sample."""

    p_blur: float = 0.6
    max_blur_sigma: float = 1.5  # pixels; sigma is uniform in [0, max]
    p_resample: float = 0.6
    resample_sizes: tuple[int, ...] = (32, 24, 16)  # down to this side (antialiased), then bilinear back up
    resample_weights: tuple[float, ...] = (0.45, 0.35, 0.2)
    max_noise: float = 0.05  # std of additive Gaussian noise, fraction of full scale
    brightness: float = 0.06  # ± offset, fraction of full scale
    contrast: float = 0.15  # ± relative
    channel_gain: float = 0.05  # ± per RGB channel

    def __post_init__(self) -> None:
        for name in ("p_blur", "p_resample"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)} must be a probability in [0, 1]")
        if self.max_blur_sigma < 0 or self.max_noise < 0:
            raise ValueError(f"max_blur_sigma={self.max_blur_sigma} and max_noise={self.max_noise} must be >= 0")
        if not self.resample_sizes or min(self.resample_sizes) < 2:
            raise ValueError(f"resample_sizes={self.resample_sizes} must name sides of at least 2 pixels")
        if len(self.resample_weights) != len(self.resample_sizes) or min(self.resample_weights) < 0:
            raise ValueError(f"resample_weights={self.resample_weights} must be one weight >= 0 per resample size")


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch: int = 64
    seed: int = 0
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.03
    position_weight: float = 2.0
    eval_frames: int = 2048
    worlds: int = 192  # live worlds the training stream samples from
    max_skip: int = 6  # frames a world advances between two samples of it
    switch_probability: float = 0.08  # a sampled world gets a new random (partial) prompt
    cut_probability: float = 0.03
    renew_probability: float = 0.02  # a sampled world is replaced by a fresh one

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1:
            raise ValueError(f"steps={self.steps} and batch={self.batch} must be positive")
        if self.eval_frames < 1 or self.worlds < 1 or self.max_skip < 1:
            raise ValueError(f"eval_frames={self.eval_frames}, worlds={self.worlds}, max_skip={self.max_skip} "
                             "must be positive")


# --------------------------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class FrameLogits:
    """Raw head outputs for a batch of B frames."""

    biome_bk: torch.Tensor
    night_b2: torch.Tensor
    shape_bk: torch.Tensor
    color_bk: torch.Tensor
    position_b3: torch.Tensor  # (cos 2πx/S, sin 2πx/S, 2πy/S): x wraps around the frame, so it is an angle


@dataclass(frozen=True)
class FramePredictions:
    """What the classifier reads from N frames (numpy arrays, first axis N)."""

    biome: np.ndarray  # int64 index into BIOMES
    night: np.ndarray  # bool
    shape: np.ndarray  # int64 index into SHAPES
    color: np.ndarray  # int64 index into COLORS
    x: np.ndarray  # float32 subject centre, pixels in [0, frame_size)
    y: np.ndarray  # float32
    biome_probs: np.ndarray  # (N, len(BIOMES)) float32
    shape_probs: np.ndarray  # (N, len(SHAPES))
    color_probs: np.ndarray  # (N, len(COLORS))
    night_prob: np.ndarray  # (N,) float32, probability of night


class FrameClassifier(nn.Module):
    """Conv stages (3x3 conv, batch norm, ReLU; 2x max-pool between stages), then two heads: an MLP on globally
    pooled features for the attributes, and an MLP on the flattened last feature map for the position."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = 3
        for stage, (out, n_convs) in enumerate(zip(config.widths, config.convs)):
            if stage:
                layers.append(nn.MaxPool2d(2))
            for _ in range(n_convs):
                layers += [nn.Conv2d(width, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
                width = out
        self.features = nn.Sequential(*layers)
        # attributes do not depend on where the subject is: global pooling; the position does: a flat map
        self.class_head = nn.Sequential(
            nn.Linear(2 * width, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.n_class_outputs)
        )
        self.position_head = nn.Sequential(
            nn.Conv2d(width, config.position_channels, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(config.position_channels * config.feature_size**2, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 3),
        )

    def forward(self, x_bchw: torch.Tensor) -> FrameLogits:
        """Frames as floats in [0, 1], (B, 3, S, S) → logits."""
        c = self.config
        # 1. Features
        f_bcff = self.features(x_bchw - 0.5)  # (B, C, F, F)
        # 2. Attribute heads from globally pooled features
        pooled_b2c = torch.cat([f_bcff.amax(dim=(2, 3)), f_bcff.mean(dim=(2, 3))], dim=1)
        classes_bk = self.class_head(pooled_b2c)
        biome, night, shape, color = torch.split(classes_bk, (len(c.biomes), 2, len(c.shapes), len(c.colors)), 1)
        # 3. Position head from the spatial map
        position_b3 = self.position_head(f_bcff)
        return FrameLogits(biome, night, shape, color, position_b3)

    @torch.no_grad()
    def predict(self, frames_nhw3_uint8: np.ndarray, batch: int = 256) -> FramePredictions:
        """Classify uint8 frames (N, S, S, 3); eval mode, no gradients; restores the previous mode."""
        frames = _check_frames(frames_nhw3_uint8, self.config.frame_size)
        if batch < 1:
            raise ValueError(f"batch={batch} must be at least 1")
        was_training = self.training
        self.eval()
        try:
            starts = range(0, max(len(frames), 1), batch)  # one empty batch for N = 0
            parts = [self(_to_float(frames[i : i + batch])) for i in starts]
        finally:
            self.train(was_training)
        cat = lambda name: torch.cat([getattr(p, name) for p in parts])  # noqa: E731
        biome_probs = cat("biome_bk").softmax(-1)
        shape_probs = cat("shape_bk").softmax(-1)
        color_probs = cat("color_bk").softmax(-1)
        night_prob = cat("night_b2").softmax(-1)[:, 1]
        x, y = _decode_position(cat("position_b3").reshape(-1, 3), self.config.frame_size)
        return FramePredictions(
            biome=biome_probs.argmax(-1).numpy(),
            night=(night_prob > 0.5).numpy(),
            shape=shape_probs.argmax(-1).numpy(),
            color=color_probs.argmax(-1).numpy(),
            x=x.numpy(),
            y=y.numpy(),
            biome_probs=biome_probs.numpy(),
            shape_probs=shape_probs.numpy(),
            color_probs=color_probs.numpy(),
            night_prob=night_prob.numpy(),
        )


def _check_frames(frames: np.ndarray, size: int) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        got = frames.dtype if isinstance(frames, np.ndarray) else type(frames).__name__
        raise ValueError(f"frames must be a uint8 numpy array (N, {size}, {size}, 3), got {got}; "
                         "convert with np.clip(x, 0, 255).astype(np.uint8)")
    if frames.ndim != 4 or frames.shape[1:] != (size, size, 3):
        raise ValueError(f"frames have shape {frames.shape}; expected (N, {size}, {size}, 3) "
                         "(pass frames[None] for a single frame)")
    return frames


def _to_float(frames_nhw3: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) → float (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames_nhw3)).permute(0, 3, 1, 2).float() / 255.0


def _to_uint8(x_bchw: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [0, 1] → uint8 (N, H, W, 3)."""
    return (x_bchw.permute(0, 2, 3, 1) * 255).round().clamp(0, 255).to(torch.uint8).numpy()


def _encode_position(x: torch.Tensor, y: torch.Tensor, size: int) -> torch.Tensor:
    """Pixels → (N, 3) targets: x as a point on the unit circle (it wraps), y as an angle-scaled value."""
    angle = x * (2 * math.pi / size)
    return torch.stack([angle.cos(), angle.sin(), y * (2 * math.pi / size)], dim=1)


def _decode_position(position_n3: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.atan2(position_n3[:, 1], position_n3[:, 0]) * (size / (2 * math.pi)) % size
    y = (position_n3[:, 2] * (size / (2 * math.pi))).clamp(0, size)
    return x.float(), y.float()


def wrapped_distance(a: np.ndarray, b: np.ndarray, size: int = FRAME_SIZE) -> np.ndarray:
    """|a - b| along a wrapping axis of length ``size`` (the subject wraps around the frame's left/right edges)."""
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % size
    return np.minimum(d, size - d)


# --------------------------------------------------------------------------------------------- degradations
def _gaussian_blur(x_bchw: torch.Tensor, sigma_b: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur with a per-sample sigma (pixels; 0 leaves the frame unchanged).

    Each axis is one (S, S) matrix per sample whose rows are Gaussians renormalised at the borders, so the whole
    batch is two batched matmuls.
    """
    b, c, h, w = x_bchw.shape
    assert h == w, "square frames"
    pos = torch.arange(h, dtype=x_bchw.dtype)
    d2_ss = (pos[:, None] - pos[None, :]) ** 2
    exponent_bss = -d2_ss[None] / (2 * sigma_b.clamp(min=1e-3)[:, None, None] ** 2)
    kernel_bss = torch.exp(exponent_bss.clamp(min=-60.0))  # no denormals (slow on CPUs); e^-60 ≈ 0
    kernel_bss = kernel_bss / kernel_bss.sum(dim=2, keepdim=True)
    kernel_b1ss = kernel_bss[:, None]  # (B, 1, S, S), broadcast over channels
    return kernel_b1ss @ x_bchw @ kernel_b1ss.transpose(-1, -2)  # rows along H, then columns along W


def _resample(x_bchw: torch.Tensor, side: int) -> torch.Tensor:
    """Down to ``side`` (antialiased bilinear) and back up (bilinear): the loss of detail of a small latent grid."""
    h, w = x_bchw.shape[-2:]
    small = F.interpolate(x_bchw, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def augment(x_bchw: torch.Tensor, generator: torch.Generator, config: AugmentConfig) -> torch.Tensor:
    """Degrade float frames in [0, 1] like generated ones; random per sample, reproducible by ``generator``."""
    b = x_bchw.shape[0]
    rand = lambda *shape: torch.rand(shape, generator=generator)  # noqa: E731
    # 1. Blur
    blur = rand(b) < config.p_blur
    sigma_b = torch.where(blur, rand(b) * config.max_blur_sigma, torch.zeros(b))
    x_bchw = _gaussian_blur(x_bchw, sigma_b)
    # 2. Downsample-upsample
    resample = rand(b) < config.p_resample
    which = torch.multinomial(torch.tensor(config.resample_weights), b, replacement=True, generator=generator)
    for k, side in enumerate(config.resample_sizes):
        rows = torch.nonzero(resample & (which == k)).flatten()
        if len(rows):
            x_bchw = x_bchw.index_copy(0, rows, _resample(x_bchw[rows], side))
    # 3. Brightness, contrast, per-channel gain
    mean_b111 = x_bchw.mean(dim=(1, 2, 3), keepdim=True)
    contrast_b111 = 1 + (rand(b, 1, 1, 1) * 2 - 1) * config.contrast
    offset_b111 = (rand(b, 1, 1, 1) * 2 - 1) * config.brightness
    gain_b311 = 1 + (rand(b, 3, 1, 1) * 2 - 1) * config.channel_gain
    x_bchw = ((x_bchw - mean_b111) * contrast_b111 + mean_b111 + offset_b111) * gain_b311
    # 4. Noise
    noise_b111 = rand(b, 1, 1, 1) * config.max_noise
    x_bchw = x_bchw + torch.randn(x_bchw.shape, generator=generator) * noise_b111
    return x_bchw.clamp(0.0, 1.0)


def blur_frames(frames_nhw3_uint8: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of uint8 frames (N, S, S, 3), sigma in pixels; for robustness checks."""
    if sigma < 0:
        raise ValueError(f"sigma={sigma} must be >= 0 pixels")
    x_bchw = _to_float(frames_nhw3_uint8)
    return _to_uint8(_gaussian_blur(x_bchw, torch.full((x_bchw.shape[0],), float(sigma))))


# --------------------------------------------------------------------------------------------- data
def random_prompt(rng: np.random.Generator, p_named: float = 0.7) -> WorldPrompt:
    """A prompt naming a random subset of the attributes (uniform values; night in half the named cases)."""
    named = lambda: rng.random() < p_named  # noqa: E731
    return WorldPrompt(
        biome=str(rng.choice(BIOMES)) if named() else None,
        night=bool(rng.random() < 0.5) if named() else None,
        shape=str(rng.choice(SHAPES)) if named() else None,
        color=str(rng.choice(COLORS)) if named() else None,
        motion=str(rng.choice(MOTIONS)) if named() else None,
        pan=str(rng.choice(PANS)) if named() else None,
    )


class _WorldStream:
    """Frames from a population of live worlds that move on, switch prompts, cut and get renewed at random.

    Sampling a world advances it by 1..max_skip frames, so subjects are seen at every position, bounce
    height and pan offset; prompt switches spread still and bouncing subjects across the width too.
    """

    def __init__(self, rng: np.random.Generator, config: TrainConfig, seed_low: int, seed_high: int,
                 worlds: int) -> None:
        self.rng, self.config = rng, config
        self.seed_low, self.seed_high = seed_low, seed_high
        self.worlds = [self._new_world() for _ in range(worlds)]

    def _new_world(self) -> WorldSim:
        return WorldSim(random_prompt(self.rng), seed=int(self.rng.integers(self.seed_low, self.seed_high)))

    def sample(self, n: int) -> tuple[np.ndarray, list[FrameLabel]]:
        c, rng = self.config, self.rng
        frames, labels = [], []
        for i in rng.integers(len(self.worlds), size=n):
            u = rng.random()
            if u < c.renew_probability:
                self.worlds[i] = self._new_world()
            elif u < c.renew_probability + c.switch_probability:
                self.worlds[i].set_prompt(random_prompt(rng, p_named=0.4))
            elif u < c.renew_probability + c.switch_probability + c.cut_probability:
                self.worlds[i].scene_cut()
            world = self.worlds[i]
            for _ in range(int(rng.integers(c.max_skip))):
                world.step()
            frame, label = world.step()
            frames.append(frame)
            labels.append(label)
        return np.stack(frames), labels


@dataclass(frozen=True)
class _Targets:
    biome: torch.Tensor
    night: torch.Tensor
    shape: torch.Tensor
    color: torch.Tensor
    position_b3: torch.Tensor
    x: np.ndarray
    y: np.ndarray


def _targets(labels: list[FrameLabel], config: ClassifierConfig) -> _Targets:
    x = np.array([lb.x for lb in labels], np.float32)
    y = np.array([lb.y for lb in labels], np.float32)
    return _Targets(
        biome=torch.tensor([config.biomes.index(lb.biome) for lb in labels]),
        night=torch.tensor([int(lb.night) for lb in labels]),
        shape=torch.tensor([config.shapes.index(lb.shape) for lb in labels]),
        color=torch.tensor([config.colors.index(lb.color) for lb in labels]),
        position_b3=_encode_position(torch.from_numpy(x), torch.from_numpy(y), config.frame_size),
        x=x,
        y=y,
    )


def _loss(logits: FrameLogits, t: _Targets, position_weight: float) -> torch.Tensor:
    return (
        F.cross_entropy(logits.biome_bk, t.biome)
        + F.cross_entropy(logits.night_b2, t.night)
        + F.cross_entropy(logits.shape_bk, t.shape)
        + F.cross_entropy(logits.color_bk, t.color)
        + position_weight * F.mse_loss(logits.position_b3, t.position_b3) * 3
    )


def _scores(model: FrameClassifier, frames_nhw3: np.ndarray, t: _Targets) -> dict[str, float]:
    p = model.predict(frames_nhw3)
    size = model.config.frame_size
    return {
        "biome": float(np.mean(p.biome == t.biome.numpy())),
        "night": float(np.mean(p.night == t.night.numpy().astype(bool))),
        "shape": float(np.mean(p.shape == t.shape.numpy())),
        "color": float(np.mean(p.color == t.color.numpy())),
        "x_error_px": float(np.mean(wrapped_distance(p.x, t.x, size))),
        "y_error_px": float(np.mean(np.abs(p.y - t.y))),
    }


def _augmented_uint8(frames_nhw3: np.ndarray, generator: torch.Generator, config: AugmentConfig) -> np.ndarray:
    return _to_uint8(augment(_to_float(frames_nhw3), generator, config))


# --------------------------------------------------------------------------------------------- training
def train_classifier(
    out_path: Path,
    steps: int,
    seed: int = 0,
    batch: int = 64,
    progress: bool = True,
    *,
    eval_frames: int = 2048,
    model_config: ClassifierConfig = ClassifierConfig(),
    augment_config: AugmentConfig = AugmentConfig(),
) -> dict[str, object]:
    """Train on freshly rendered, degraded frames; evaluate on held-out worlds; save safetensors to ``out_path``.

    Deterministic by ``seed``. Returns (and stores in the file's metadata) a report: steps, seconds, final
    loss, and per-head held-out accuracy and position error on clean and on augmented frames.
    """
    config = TrainConfig(steps=steps, batch=batch, seed=seed, eval_frames=eval_frames,
                         worlds=min(TrainConfig.worlds, 4 * batch))
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(TRAIN_THREADS)
    try:
        report = _train(Path(out_path), config, model_config, augment_config, progress)
    finally:
        torch.set_num_threads(previous_threads)
    return report


def _train(out_path: Path, config: TrainConfig, model_config: ClassifierConfig, augment_config: AugmentConfig,
           progress: bool) -> dict[str, object]:
    start = time.perf_counter()
    # 1. Seeded sources: weights, augmentation, training worlds, held-out worlds
    with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG alone
        torch.manual_seed(config.seed)
        model = FrameClassifier(model_config)
    generator = torch.Generator().manual_seed(config.seed)
    train_rng, eval_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2))
    stream = _WorldStream(train_rng, config, 0, HELD_OUT_SEED_BASE, config.worlds)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    warmup = max(1, int(config.steps * config.warmup_fraction))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, i / config.steps))),
    )

    # 2. Train
    model.train()
    losses: list[float] = []
    bar = tqdm(range(config.steps), desc="world classifier", disable=not progress, mininterval=1.0)
    for _ in bar:
        frames, labels = stream.sample(config.batch)
        x_bchw = augment(_to_float(frames), generator, augment_config)
        loss = _loss(model(x_bchw), _targets(labels, model_config), config.position_weight)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
    model.eval()
    train_seconds = time.perf_counter() - start

    # 3. Held-out evaluation, clean and augmented
    held_out = _WorldStream(eval_rng, config, HELD_OUT_SEED_BASE, 2 * HELD_OUT_SEED_BASE,
                            min(config.worlds, config.eval_frames))
    frames, labels = held_out.sample(config.eval_frames)
    targets = _targets(labels, model_config)
    eval_generator = torch.Generator().manual_seed(config.seed + 1)
    worst_case = _resample(_gaussian_blur(_to_float(frames), torch.full((len(frames),), augment_config.max_blur_sigma)),
                           min(augment_config.resample_sizes))
    report: dict[str, object] = {
        "steps": config.steps,
        "batch": config.batch,
        "seed": config.seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(train_seconds, 2),
        "final_loss": float(np.mean(losses[-max(1, min(50, len(losses) // 10)):])),
        "eval_frames": config.eval_frames,
        "clean": _scores(model, frames, targets),
        "augmented": _scores(model, _augmented_uint8(frames, eval_generator, augment_config), targets),
        "worst_case": _scores(model, _to_uint8(worst_case), targets),  # strongest blur, then the smallest resample
        "train_config": asdict(config),
        "augment_config": asdict(augment_config),
    }
    logger.info("world classifier: %s", json.dumps(report))

    # 4. Save
    save_classifier(model, out_path, report)
    return report


def save_classifier(model: FrameClassifier, path: Path, report: dict[str, object] | None = None) -> None:
    """Safetensors weights with the config (and optionally a training report) in the metadata."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {METADATA_FORMAT_KEY: str(FORMAT_VERSION), METADATA_CONFIG_KEY: json.dumps(model.config.to_dict())}
    if report is not None:
        metadata[METADATA_REPORT_KEY] = json.dumps(report)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def load_classifier(path: Path | None = None) -> FrameClassifier:
    """The classifier stored at ``path`` (default: the shipped weights), in eval mode on the CPU."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = DEFAULT_PATH if path is None else Path(path)
    fix = "retrain it with `python -m gf_runtime.world.classifier --out PATH` or restore the shipped file"
    if not path.is_file():
        raise FileNotFoundError(f"world classifier {path} does not exist; {fix}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ClassifierFileError(f"{path} is not a readable safetensors file ({exc}); {fix}") from exc
    version = metadata.get(METADATA_FORMAT_KEY)
    if version is None or METADATA_CONFIG_KEY not in metadata:
        raise ClassifierFileError(f"{path} is a safetensors file without world classifier metadata "
                                  f"({METADATA_FORMAT_KEY}, {METADATA_CONFIG_KEY}); {fix}")
    if version != str(FORMAT_VERSION):
        raise ClassifierFileError(f"{path} has world classifier format {version}; this runtime reads "
                                  f"{FORMAT_VERSION}; {fix}")
    try:
        config = ClassifierConfig.from_dict(json.loads(metadata[METADATA_CONFIG_KEY]))
    except (ValueError, TypeError) as exc:
        raise ClassifierFileError(f"{path} has an invalid classifier config ({exc}); {fix}") from exc
    vocabulary = (BIOMES, SHAPES, COLORS)
    if (config.biomes, config.shapes, config.colors) != vocabulary:
        raise ClassifierFileError(
            f"{path} was trained on biomes/shapes/colors {(config.biomes, config.shapes, config.colors)}, but the "
            f"world now has {vocabulary}; {fix}"
        )
    model = FrameClassifier(config)
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    misshaped = sorted(k for k in set(expected) & set(state) if state[k].shape != expected[k].shape)
    if missing or unexpected or misshaped:
        raise ClassifierFileError(f"{path} does not fit its config: missing {missing}, unexpected {unexpected}, "
                                  f"mis-shaped {misshaped}; {fix}")
    model.load_state_dict(state, strict=True)
    return model.eval()


def read_report(path: Path | None = None) -> dict[str, object] | None:
    """The training report stored in a classifier file (None if it has none)."""
    from safetensors import safe_open

    with safe_open(str(DEFAULT_PATH if path is None else path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    return json.loads(metadata[METADATA_REPORT_KEY]) if METADATA_REPORT_KEY in metadata else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the world frame classifier on rendered frames.")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--steps", type=int, default=SHIPPED_STEPS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-frames", type=int, default=2048)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    report = train_classifier(args.out, args.steps, seed=args.seed, batch=args.batch, eval_frames=args.eval_frames)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
