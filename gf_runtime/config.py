"""Frozen configuration: the only place model sizes, sampler settings and memory-policy knobs live.

Standard library only. Every dataclass validates itself in ``__post_init__`` and derives sizes as properties.
The method's defaults and formulas are documented in ``shared/docs/METHOD.md``; knobs marked "our choice"
there are fields here so they can be ablated.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

POLICY_NAMES = ("self_forcing", "longlive", "grounded", "full")
"""Memory policies. ``full`` keeps every frame at absolute positions: the unbounded reference / baseline."""


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a causal Wan2.1 DiT. Field names follow Wan's own config."""

    dim: int = 1536
    ffn_dim: int = 8960
    num_layers: int = 30
    num_heads: int = 12
    freq_dim: int = 256
    text_dim: int = 4096
    text_len: int = 512
    in_channels: int = 16
    out_channels: int = 16
    patch_size: tuple[int, int, int] = (1, 2, 2)
    eps: float = 1e-6
    rope_theta: float = 10000.0
    cross_attn_norm: bool = True

    def __post_init__(self) -> None:
        if self.dim % self.num_heads:
            raise ValueError(f"dim={self.dim} is not divisible by num_heads={self.num_heads}")
        if self.head_dim % 2:
            raise ValueError(f"head_dim={self.head_dim} must be even for RoPE pairs")
        if self.patch_size[0] != 1:
            raise ValueError(f"temporal patch {self.patch_size[0]} unsupported: the causal model patchifies (1, p, p)")
        if min(self.rope_pairs) < 1:
            raise ValueError(f"head_dim={self.head_dim} too small for 3-axis RoPE (pairs {self.rope_pairs})")
        if self.freq_dim % 2:
            raise ValueError(f"freq_dim={self.freq_dim} must be even")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    @property
    def rope_pairs(self) -> tuple[int, int, int]:
        """Rotary pairs per axis (frame, height, width); Wan splits head_dim d as d-4(d//6), 2(d//6), 2(d//6)."""
        d = self.head_dim
        return ((d - 4 * (d // 6)) // 2, (d // 6), (d // 6))

    @property
    def patch_channels(self) -> int:
        """Values per token at the head's output: out_channels × prod(patch)."""
        p_t, p_h, p_w = self.patch_size
        return self.out_channels * p_t * p_h * p_w

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {unknown}; known fields are {sorted(known)}")
        values = dict(data)
        if "patch_size" in values:
            values["patch_size"] = tuple(values["patch_size"])
        return cls(**values)


MODEL_PRESETS: dict[str, ModelConfig] = {
    # The real Wan2.1-T2V-1.3B shape (Self Forcing and LongLive checkpoints load into it).
    "wan2.1-t2v-1.3b": ModelConfig(),
    # A few million parameters: the shape of the embedded default world and of the tests' pipelines.
    "tiny": ModelConfig(dim=192, ffn_dim=768, num_layers=6, num_heads=4, freq_dim=64, text_dim=64, text_len=16),
    # About 5x tiny's parameters: the world model's larger variant, trained on a GPU (`gf train world --recipe large`).
    "small": ModelConfig(dim=384, ffn_dim=1536, num_layers=8, num_heads=6, freq_dim=64, text_dim=64, text_len=16),
    # The smallest sensible shape: unit tests (2 layers, dim 64).
    "micro": ModelConfig(dim=64, ffn_dim=128, num_layers=2, num_heads=2, freq_dim=32, text_dim=32, text_len=8),
}


def _warp_timestep(t: float, shift: float, num_train_timesteps: int) -> float:
    """Self Forcing's warp: t → σ = t/T, σ' = sσ / (1 + (s-1)σ), back to the 0–T scale."""
    sigma = t / num_train_timesteps
    return num_train_timesteps * shift * sigma / (1.0 + (shift - 1.0) * sigma)


SAMPLER_SOLVERS = ("renoise", "euler")


@dataclass(frozen=True)
class SamplerConfig:
    """Few-step flow matching over chunks of ``chunk_frames`` latent frames.

    ``opening_denoising_steps`` and ``opening_solver`` apply to a chunk with nothing in memory to attend to (a
    stream's first chunk): empty steps mean ``denoising_steps``. Solvers between steps: ``renoise`` re-noises the
    predicted x0 with fresh noise (Self Forcing's few-step sampler), ``euler`` follows the predicted flow
    (deterministic; the plain flow-matching ODE for a model not distilled to few steps).
    """

    chunk_frames: int = 3
    denoising_steps: tuple[float, ...] = (1000.0, 750.0, 500.0, 250.0)
    shift: float = 5.0
    warp: bool = True
    num_train_timesteps: int = 1000
    opening_denoising_steps: tuple[float, ...] = ()
    opening_solver: str = "renoise"

    def __post_init__(self) -> None:
        if self.chunk_frames < 1:
            raise ValueError(f"chunk_frames={self.chunk_frames} must be at least 1")
        if not self.denoising_steps:
            raise ValueError("denoising_steps is empty; pass at least one timestep, e.g. (1000, 750, 500, 250)")
        for name in ("denoising_steps", "opening_denoising_steps"):
            steps = tuple(float(s) for s in getattr(self, name))
            object.__setattr__(self, name, steps)
            if any(not 0.0 < s <= self.num_train_timesteps for s in steps):
                raise ValueError(f"{name} {steps} must lie in (0, {self.num_train_timesteps}]")
            if any(a <= b for a, b in zip(steps, steps[1:])):
                raise ValueError(f"{name} {steps} must be strictly decreasing")
        if self.opening_solver not in SAMPLER_SOLVERS:
            raise ValueError(f"opening_solver={self.opening_solver!r}; choose one of {SAMPLER_SOLVERS}")
        if self.shift <= 0:
            raise ValueError(f"shift={self.shift} must be positive")

    def _warped(self, steps: tuple[float, ...]) -> tuple[float, ...]:
        if not self.warp:
            return steps
        return tuple(_warp_timestep(t, self.shift, self.num_train_timesteps) for t in steps)

    @property
    def timesteps(self) -> tuple[float, ...]:
        """The model's timesteps, on the 0–num_train_timesteps scale (warped when ``warp``)."""
        return self._warped(self.denoising_steps)

    def _sigmas(self, timesteps: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(t / self.num_train_timesteps for t in timesteps)

    @property
    def sigmas(self) -> tuple[float, ...]:
        """Noise level σ of each step: x_t = (1-σ)·x0 + σ·ε."""
        return self._sigmas(self.timesteps)

    @property
    def opening_timesteps(self) -> tuple[float, ...]:
        """The timesteps of a chunk with an empty context (``timesteps`` unless opening steps are set)."""
        return self._warped(self.opening_denoising_steps) if self.opening_denoising_steps else self.timesteps

    @property
    def opening_sigmas(self) -> tuple[float, ...]:
        return self._sigmas(self.opening_timesteps)


@dataclass(frozen=True)
class MemoryConfig:
    """Every knob of the memory policies (METHOD.md). Build with :meth:`for_policy` to get per-policy defaults.

    Attributes:
        policy: one of ``POLICY_NAMES``.
        horizon_frames: H, the trained clip length in latent frames (21 for Wan). DR-RoPE keeps positions < H.
        chunk_frames: C, latent frames per chunk (must equal the sampler's).
        local_frames: frames of rolling local memory (LTM for grounded, the window for the baselines).
        anchor_slots: K, global anchor frames (GCM) for grounded; 0 elsewhere.
        sink_frames: frames kept forever as an attention sink (longlive: the first chunk).
        anchor_position: the temporal RoPE index of every anchor under DR-RoPE.
        dual_memory: grounded: keep the GCM anchors. Off: local window only.
        dr_rope: grounded: relative positions inside the horizon. Off: absolute positions.
        apr: grounded: Asymmetric Proximity Recache at prompt switches. Off: only the text context changes.
        apr_alpha_max: α_max of APR.
        apr_distance_scale: D of APR's α = min(α_max, 1 - d/D); None means local_frames (our choice).
            ``math.inf`` makes α = α_max for every frame.
        recache_on_switch: longlive: hard recache of the window at a prompt switch.
        anchor_every_frame: grounded: every committed frame is an anchor candidate (METHOD.md's wording). Off (our
            choice, the default): only each chunk's newest frame is. A chunk's frames are near-identical, so with
            every frame a candidate the GCM fills with one chunk whose redundancy (≈ 1) no novelty can beat, and
            the anchors never change (EVAL.md).
        anchor_skip_chunks: grounded: the first chunks never become anchors (our choice: 1). The first chunk is
            generated without any context and is the stream's least reliable rendering of its subject.
    """

    policy: str = "grounded"
    horizon_frames: int = 21
    chunk_frames: int = 3
    local_frames: int = 6
    anchor_slots: int = 3
    sink_frames: int = 0
    anchor_position: int = 0
    dual_memory: bool = True
    dr_rope: bool = True
    apr: bool = True
    apr_alpha_max: float = 0.8
    apr_distance_scale: float | None = None
    recache_on_switch: bool = False
    anchor_every_frame: bool = False
    anchor_skip_chunks: int = 1

    def __post_init__(self) -> None:
        if self.policy not in POLICY_NAMES:
            raise ValueError(f"unknown policy {self.policy!r}; choose one of {', '.join(POLICY_NAMES)}")
        if self.chunk_frames < 1 or self.horizon_frames < self.chunk_frames:
            raise ValueError(
                f"horizon_frames={self.horizon_frames} must be at least chunk_frames={self.chunk_frames} (>= 1)"
            )
        if self.local_frames < 0 or self.anchor_slots < 0 or self.sink_frames < 0 or self.anchor_skip_chunks < 0:
            raise ValueError("local_frames, anchor_slots, sink_frames and anchor_skip_chunks must be >= 0")
        if not 0.0 <= self.apr_alpha_max <= 1.0:
            raise ValueError(f"apr_alpha_max={self.apr_alpha_max} must lie in [0, 1]")
        if self.apr_distance_scale is not None and self.apr_distance_scale <= 0:
            raise ValueError(f"apr_distance_scale={self.apr_distance_scale} must be positive (or None)")
        if self.policy == "grounded" and self.dr_rope:
            used = self.local_frames + self.chunk_frames
            if used > self.horizon_frames:
                raise ValueError(
                    f"DR-RoPE needs local_frames + chunk_frames = {used} positions below horizon_frames="
                    f"{self.horizon_frames}; lower local_frames or raise horizon_frames"
                )
            if not 0 <= self.anchor_position < self.horizon_frames:
                raise ValueError(f"anchor_position={self.anchor_position} must lie in [0, {self.horizon_frames})")

    @classmethod
    def for_policy(cls, policy: str, horizon_frames: int = 21, chunk_frames: int = 3, **overrides: Any) -> "MemoryConfig":
        """Defaults per policy, with a total attention span of at most the horizon for the baselines.

        - self_forcing: a rolling window of H - C frames at absolute positions.
        - longlive: the first chunk as a sink plus a window of H - 2C frames; hard recache at a switch.
        - grounded: 6 local frames + 3 anchors, DR-RoPE, APR.
        - full: every frame kept (unbounded; a reference and a benchmark baseline).
        """
        if policy not in POLICY_NAMES:
            raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICY_NAMES)}")
        base: dict[str, Any] = dict(policy=policy, horizon_frames=horizon_frames, chunk_frames=chunk_frames)
        if policy == "self_forcing":
            base.update(local_frames=max(horizon_frames - chunk_frames, 0), anchor_slots=0, dr_rope=False,
                        dual_memory=False, apr=False)
        elif policy == "longlive":
            base.update(local_frames=max(horizon_frames - 2 * chunk_frames, 0), anchor_slots=0,
                        sink_frames=chunk_frames, dr_rope=False, dual_memory=False, apr=False,
                        recache_on_switch=True)
        elif policy == "grounded":
            base.update(local_frames=6, anchor_slots=3)
        elif policy == "full":
            base.update(local_frames=0, anchor_slots=0, dr_rope=False, dual_memory=False, apr=False)
        base.update(overrides)
        return cls(**base)

    @property
    def uses_anchors(self) -> bool:
        return self.policy == "grounded" and self.dual_memory and self.anchor_slots > 0

    def is_anchor_candidate(self, frame_index: int) -> bool:
        """Whether a committed frame goes through the GCM update rule (see anchor_every_frame/anchor_skip_chunks)."""
        if frame_index < self.anchor_skip_chunks * self.chunk_frames:
            return False
        return self.anchor_every_frame or frame_index % self.chunk_frames == self.chunk_frames - 1

    @property
    def bounded(self) -> bool:
        return self.policy != "full"

    @property
    def max_memory_frames(self) -> int | None:
        """Frames held in memory at most (None when unbounded)."""
        if not self.bounded:
            return None
        return (self.anchor_slots if self.uses_anchors else 0) + self.sink_frames + self.local_frames

    @property
    def apr_scale(self) -> float:
        return float(self.local_frames) if self.apr_distance_scale is None else float(self.apr_distance_scale)

    def with_overrides(self, **overrides: Any) -> "MemoryConfig":
        return dataclasses.replace(self, **overrides)


@dataclass(frozen=True)
class LatentGeometry:
    """Latent frame size of a stream; pixels are ``vae_scale`` times larger."""

    height: int = 60
    width: int = 104
    vae_scale: int = 8

    def tokens_per_frame(self, model: ModelConfig) -> int:
        _, p_h, p_w = model.patch_size
        if self.height % p_h or self.width % p_w:
            raise ValueError(f"latent {self.height}x{self.width} is not divisible by patch {p_h}x{p_w}")
        return (self.height // p_h) * (self.width // p_w)

    @property
    def pixel_size(self) -> tuple[int, int]:
        return self.height * self.vae_scale, self.width * self.vae_scale


@dataclass(frozen=True)
class PipelineSpec:
    """Everything needed to rebuild a pipeline: stored next to the weights in every gf checkpoint."""

    model: ModelConfig = field(default_factory=ModelConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    latent: LatentGeometry = field(default_factory=LatentGeometry)
    horizon_frames: int = 21
    fps: float = 16.0
    text_encoder: str = "hashed-random"
    vae: str = "random-linear"

    def __post_init__(self) -> None:
        if self.horizon_frames < self.sampler.chunk_frames:
            raise ValueError(
                f"horizon_frames={self.horizon_frames} < chunk_frames={self.sampler.chunk_frames}"
            )
        if not math.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"fps={self.fps} must be positive")
        self.latent.tokens_per_frame(self.model)  # validates divisibility

    def memory(self, policy: str, **overrides: Any) -> MemoryConfig:
        return MemoryConfig.for_policy(
            policy, horizon_frames=self.horizon_frames, chunk_frames=self.sampler.chunk_frames, **overrides
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PipelineSpec":
        values = dict(data)
        values["model"] = ModelConfig.from_dict(values["model"])
        sampler = dict(values["sampler"])
        sampler["denoising_steps"] = tuple(sampler["denoising_steps"])
        sampler["opening_denoising_steps"] = tuple(sampler.get("opening_denoising_steps", ()))
        values["sampler"] = SamplerConfig(**sampler)
        values["latent"] = LatentGeometry(**values["latent"])
        return cls(**values)


PIPELINE_PRESETS: dict[str, PipelineSpec] = {
    # Random weights, small random text encoder and VAE: everything runs now, deterministic by construction.
    "tiny-random": PipelineSpec(
        model=MODEL_PRESETS["tiny"], latent=LatentGeometry(height=8, width=8), horizon_frames=12
    ),
    "micro-random": PipelineSpec(
        model=MODEL_PRESETS["micro"], latent=LatentGeometry(height=8, width=8), horizon_frames=12
    ),
    # The real shape at 832x480 with random weights: the GPU speed benchmark.
    "wan2.1-t2v-1.3b-random": PipelineSpec(
        model=MODEL_PRESETS["wan2.1-t2v-1.3b"], latent=LatentGeometry(height=60, width=104), horizon_frames=21
    ),
}
