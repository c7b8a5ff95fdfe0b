"""Pipeline: a loaded model with its text encoder, VAE and sampler; opens sessions. ``load_pipeline`` builds one.

The DiT runs in torch by default. Other backends (``export``'s onnxruntime one) register a loader under the
``gf.backends`` entry-point group and are picked by name (``load_pipeline(..., backend="onnx")``); this runtime
never imports them.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import torch

from gf_runtime.codecs import FrameCodec, TextEncoder, build_frame_codec, build_text_encoder
from gf_runtime.codecs.base import ComposingTextEncoder
from gf_runtime.config import PIPELINE_PRESETS, MemoryConfig, PipelineSpec
from gf_runtime.engine.session import Session
from gf_runtime.model.checkpoint import (
    extract_generator_state,
    load_weights,
    merge_lora,
    read_checkpoint_spec,
    read_tensors,
)
from gf_runtime.model.dit import CausalWanDiT, TextContext
from gf_runtime.model.layers import init_random_weights
from gf_runtime.sampling.chunk_model import ChunkModel, TorchChunkModel
from gf_runtime.sampling.sampler import ChunkSampler, LatentShape
from gf_runtime.world.files import (
    DEFAULT_MODEL_DIR,
    DEFAULT_MODEL_NAME,
    MODEL_FILE,
    TEXT_FILE,
    VAE_FILE,
    WORLD_TEXT_ENCODER,
    WORLD_VAE,
)
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae

logger = logging.getLogger(__name__)

PRESET_WEIGHT_SEED = 0  # random preset weights are drawn from this seed, so every machine has the same model
TEXT_CONTEXT_CACHE_SIZE = 8
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
TORCH_BACKEND = "torch"
BACKEND_PLUGIN_GROUP = "gf.backends"  # name → a PipelineLoader of another package (export: "onnx")


@dataclass
class Pipeline:
    spec: PipelineSpec
    model: CausalWanDiT | None  # the torch DiT; None where another backend runs it (``chunk_model``)
    text_encoder: TextEncoder
    codec: FrameCodec
    device: torch.device
    default_policy: str = "grounded"
    name: str = ""
    chunk_model: ChunkModel[Any] | None = None  # what the sampler runs; None: ``model`` in torch
    backend: str = TORCH_BACKEND
    _text_cache: "collections.OrderedDict[str, TextContext]" = field(default_factory=collections.OrderedDict)

    def __post_init__(self) -> None:
        spec = self.spec
        _, p_h, p_w = spec.model.patch_size
        shape = LatentShape(
            channels=spec.model.in_channels,
            height=spec.latent.height,
            width=spec.latent.width,
            grid_h=spec.latent.height // p_h,
            grid_w=spec.latent.width // p_w,
        )
        if self.chunk_model is None:
            if self.model is None:
                raise ValueError("a Pipeline needs a torch model or a chunk_model to run")
            self.chunk_model = TorchChunkModel(self.model, shape.grid_h, shape.grid_w)
        self.sampler = ChunkSampler(self.chunk_model, spec.sampler, shape)

    @property
    def frame_size(self) -> tuple[int, int]:
        """Decoded frame (height, width) in pixels."""
        return self.spec.latent.pixel_size

    @property
    def tokens_per_frame(self) -> int:
        return self.spec.latent.tokens_per_frame(self.spec.model)

    def memory_config(self, policy: str | None = None, **overrides: Any) -> MemoryConfig:
        return self.spec.memory(policy or self.default_policy, **overrides)

    @torch.no_grad()
    def encode_prompt(self, text: str) -> TextContext:
        """Text → per-block cross-attention K/V, cached for the last few prompts."""
        if text in self._text_cache:
            self._text_cache.move_to_end(text)
            return self._text_cache[text]
        states = self.text_encoder.encode(text).to(self.device)
        context = self.sampler.model.embed_text(states)
        self._text_cache[text] = context
        while len(self._text_cache) > TEXT_CONTEXT_CACHE_SIZE:
            self._text_cache.popitem(last=False)
        return context

    def composing_text_encoder(self) -> ComposingTextEncoder:
        """The text encoder, where it composes prompts (what carrying prompts over needs); a clear error otherwise."""
        if not isinstance(self.text_encoder, ComposingTextEncoder):
            raise ValueError(f"carrying prompts over needs a text encoder that composes them (the embedded world's); "
                             f"{self.name}'s {type(self.text_encoder).__name__} reads free text: send whole prompts")
        return self.text_encoder

    def session(
        self,
        prompt: str,
        seed: int = 0,
        policy: str | None = None,
        memory: MemoryConfig | None = None,
        carry_over_prompts: bool = False,
        **memory_overrides: Any,
    ) -> Session:
        """Open a stream. ``policy`` and keyword overrides build the MemoryConfig unless ``memory`` is given;
        ``carry_over_prompts``: each new prompt keeps the earlier ones' words for what it leaves out (``Session``)."""
        config = memory if memory is not None else self.memory_config(policy, **memory_overrides)
        return Session(self, prompt=prompt, seed=seed, memory_config=config, carry_over_prompts=carry_over_prompts)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def warmup(self, chunks: int = 2) -> None:
        """Run a few chunks so that kernels, allocators and caches are ready before timing."""
        with self.session(prompt="warmup", seed=0) as s:
            for _ in range(chunks):
                s.next_chunk()


def _text_encoder(spec: PipelineSpec, folder: Path | None) -> TextEncoder:
    if spec.text_encoder == WORLD_TEXT_ENCODER:
        if folder is None:
            raise ValueError(f"text encoder {WORLD_TEXT_ENCODER!r} loads from a model folder; pass the folder path")
        return WorldTextEncoder.load(folder / TEXT_FILE)
    return build_text_encoder(spec.text_encoder, spec.model.text_dim, spec.model.text_len)


def _frame_codec(spec: PipelineSpec, folder: Path | None) -> FrameCodec:
    if spec.vae == WORLD_VAE:
        if folder is None:
            raise ValueError(f"VAE {WORLD_VAE!r} loads from a model folder; pass the folder path")
        return TinyVae.load(folder / VAE_FILE)
    return build_frame_codec(spec.vae, spec.model.out_channels, spec.latent.vae_scale)


def _build(
    spec: PipelineSpec, device: torch.device, policy: str, name: str, folder: Path | None = None
) -> tuple[Pipeline, CausalWanDiT]:
    model = CausalWanDiT(spec.model)
    model.eval().requires_grad_(False)
    pipe = Pipeline(
        spec=spec,
        model=model,
        text_encoder=_text_encoder(spec, folder),
        codec=_frame_codec(spec, folder),
        device=device,
        default_policy=policy,
        name=name,
    )
    return pipe, model


class PipelineLoader(Protocol):
    """What a ``gf.backends`` entry point loads: builds a Pipeline whose ``chunk_model`` runs in that backend."""

    def __call__(self, model: str | Path, device: torch.device, policy: str, dtype: torch.dtype) -> Pipeline: ...


def available_backends() -> tuple[str, ...]:
    """``torch`` and the backends other installed packages register (``gf.backends`` entry points)."""
    return (TORCH_BACKEND, *sorted({ep.name for ep in entry_points(group=BACKEND_PLUGIN_GROUP)}))


def _backend_loader(backend: str) -> PipelineLoader:
    found = [ep for ep in entry_points(group=BACKEND_PLUGIN_GROUP) if ep.name == backend]
    if not found:
        raise ValueError(
            f"unknown backend {backend!r}; available: {', '.join(available_backends())} (the onnx backend comes "
            "with the [export] extra: pip install -e '.[export]')"
        )
    try:
        loader: PipelineLoader = found[0].load()
    except ImportError as exc:
        raise ValueError(
            f"the {backend} backend is registered but cannot load ({exc}); install its extra, e.g. "
            "pip install -e '.[export]' for onnx"
        ) from exc
    return loader


def load_pipeline(
    model: str | Path,
    device: str | torch.device = "cpu",
    policy: str = "grounded",
    dtype: str | torch.dtype = torch.float32,
    spec: PipelineSpec | str | None = None,
    prefer_ema: bool = True,
    lora: str | Path | None = None,
    lora_alpha: float | None = None,
    backend: str = TORCH_BACKEND,
) -> Pipeline:
    """``default`` (the embedded world), a preset name (``tiny-random``…), a model folder or a checkpoint path.

    A gf checkpoint carries its own spec. Any other file (Wan, Self Forcing, LongLive) loads into ``spec``
    (default: the Wan2.1-T2V-1.3B shape); ``lora`` merges a PEFT LoRA (LongLive's ``lora.pt``) at load time.
    ``backend`` other than ``torch`` hands ``model`` (then that backend's own format, e.g. an ONNX export folder)
    to the loader registered under that name.
    """
    torch_device = torch.device(device)
    if isinstance(dtype, str) and dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    torch_dtype = DTYPES[dtype] if isinstance(dtype, str) else dtype
    if backend != TORCH_BACKEND:
        if spec is not None or lora is not None:
            raise ValueError(f"spec= and lora= apply to torch checkpoints; the {backend} backend's model carries its own")
        return _backend_loader(backend)(model, torch_device, policy, torch_dtype)
    if isinstance(spec, str):
        if spec not in PIPELINE_PRESETS:
            raise ValueError(f"unknown spec preset {spec!r}; choose one of {', '.join(PIPELINE_PRESETS)}")
        spec = PIPELINE_PRESETS[spec]
    name = str(model)
    if name in PIPELINE_PRESETS:
        pipe, dit = _build(PIPELINE_PRESETS[name], torch_device, policy, name)
        init_random_weights(dit, PRESET_WEIGHT_SEED)
    else:
        path = DEFAULT_MODEL_DIR if name == DEFAULT_MODEL_NAME else Path(model)
        folder = path if path.is_dir() else None
        if folder is not None:
            path = folder / MODEL_FILE
        if not path.exists():
            if name == DEFAULT_MODEL_NAME:
                raise FileNotFoundError(f"the default world model is missing from {path.parent}; run `gf train world`")
            raise FileNotFoundError(
                f"{model!r} is neither {DEFAULT_MODEL_NAME!r}, a preset ({', '.join(PIPELINE_PRESETS)}), "
                "a model folder nor an existing checkpoint path"
            )
        stored_spec = read_checkpoint_spec(path)
        if stored_spec is not None and spec is not None and spec != stored_spec:
            raise ValueError(f"{path} carries its own pipeline spec, which differs from the spec passed; drop spec=")
        chosen = stored_spec or spec or PIPELINE_PRESETS["wan2.1-t2v-1.3b-random"]
        pipe, dit = _build(chosen, torch_device, policy, name, folder)
        state = extract_generator_state(read_tensors(path), prefer_ema=prefer_ema)
        if lora is not None:
            raw_lora = read_tensors(lora)
            lora_tensors = raw_lora.get("generator_lora", raw_lora)  # LongLive nests it
            alpha = lora_alpha if lora_alpha is not None else _lora_rank(lora_tensors)
            state = merge_lora(state, lora_tensors, alpha=alpha)
        load_weights(dit, state, source=str(path))
    dit.to(device=torch_device, dtype=torch_dtype)
    return pipe


def _lora_rank(lora_tensors: Any) -> float:
    """alpha defaults to the rank (scale 1), which is LongLive's setting (rank 256, alpha 256)."""
    for key, value in lora_tensors.items():
        if "lora_A" in key:
            return float(value.shape[0])
    return 1.0
