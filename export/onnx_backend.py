"""The onnxruntime backend: an export folder as a gf ``Pipeline``, so sessions, events and the bridge run unchanged.

``load_onnx_pipeline`` is registered as the ``onnx`` entry of the ``gf.backends`` group (``gf generate --backend
onnx --model FOLDER``, ``gf serve --backend onnx``). The memory policies, the sampler loop and the noise stay in
the runtime; only the graphs run in onnxruntime (package ``onnxruntime-gpu``: CPU here, CUDA where a GPU is).

The step graph runs through IO binding without copies or per-chunk allocation of its large tensors: the memory
K/V are the session's own StreamMemory storage (allocated once per session, bound in place), the text K/V are the
cached TextContext, and the outputs land in buffers allocated once per frame count and reused for every call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch

from gf_runtime.codecs.random_codecs import HashedTextEncoder
from gf_runtime.config import PipelineSpec
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.memory.stream_memory import StreamMemory
from gf_runtime.model.dit import ChunkKV, TextContext
from gf_runtime.world.files import WORLD_TEXT_ENCODER
from gf_runtime.world.text import WorldTextEncoder

from export.exporter import HASHED_TEXT_ENCODER
from export.graphs import DIT_STEP, DIT_TEXT, GRAPH_IO, TEXT_ENCODER, VAE_DECODER, VAE_ENCODER
from export.manifest import EXPORT_DTYPE, ExportFolderError, ExportManifest, TokenizerSpec, check_files, read_manifest

logger = logging.getLogger(__name__)

BACKEND_NAME = "onnx"
ORT_LOG_ERRORS_ONLY = 3
NUMPY_DTYPES = {torch.float32: np.float32, torch.bool: np.bool_, torch.int64: np.int64}


# ----------------------------------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class OrtPlacement:
    """Where the graphs run: onnxruntime providers and the device its bound tensors live on."""

    torch_device: torch.device
    providers: tuple[str | tuple[str, dict[str, object]], ...]
    threads: int

    @property
    def device_type(self) -> str:
        return self.torch_device.type

    @property
    def device_id(self) -> int:
        return self.torch_device.index or 0

    @classmethod
    def for_torch_device(cls, device: torch.device, threads: int | None = None) -> "OrtPlacement":
        available = ort.get_available_providers()
        if device.type == "cpu":
            providers: tuple[str | tuple[str, dict[str, object]], ...] = ("CPUExecutionProvider",)
        elif device.type == "cuda":
            if "CUDAExecutionProvider" not in available:
                raise ValueError(
                    f"device {device} needs onnxruntime's CUDAExecutionProvider; this onnxruntime has {available} "
                    "(install onnxruntime-gpu, not onnxruntime, and a CUDA runtime)"
                )
            providers = (("CUDAExecutionProvider", {"device_id": device.index or 0}), "CPUExecutionProvider")
        else:
            raise ValueError(f"the onnx backend runs on cpu or cuda, got device {device}")
        return cls(device, providers, threads if threads is not None else torch.get_num_threads())

    def session(self, path: Path) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads  # follows torch's setting unless given
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = ORT_LOG_ERRORS_ONLY
        # Idle pool threads sleep instead of spinning: a spinning pool takes the cores the runtime's own Python (and
        # a game) needs between graph calls; on 2 cores it made the default world's chunks 1.7x slower.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=list(self.providers))


def _run(session: ort.InferenceSession, name: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    outputs = session.run(list(GRAPH_IO[name].outputs), inputs)
    return [np.asarray(o) for o in outputs]


# ----------------------------------------------------------------------------------------------- DiT
@dataclass(frozen=True)
class SlotMemory:
    """The memory as the step graph takes it: the StreamMemory's slot storage as it is (bound in place), which
    slots the chunk sees and at which temporal positions (set by the policy's plan)."""

    k_lbnthd: torch.Tensor  # (layers, 1, N, tokens, heads, head_dim) unrotated
    v_lbnthd: torch.Tensor
    pos_n: torch.Tensor  # float32 (N,)
    valid_n: torch.Tensor  # bool (N,)


@dataclass(frozen=True)
class StepOutputs:
    """The step graph's outputs for one frame count: allocated once, written by every call."""

    flow_bfchw: torch.Tensor
    k_lbshd: torch.Tensor
    v_lbshd: torch.Tensor


class OnnxChunkModel:
    """A ``ChunkModel`` running ``dit_step`` / ``dit_text`` in onnxruntime with IO binding."""

    def __init__(
        self, step: ort.InferenceSession, text: ort.InferenceSession, spec: PipelineSpec, placement: OrtPlacement
    ) -> None:
        cfg = spec.model
        self.spec = spec
        self._step = step
        self._text = text
        self._placement = placement
        self._binding = step.io_binding()
        self._frame_kv_shape = (cfg.num_layers, 1, spec.latent.tokens_per_frame(cfg), cfg.num_heads, cfg.head_dim)
        self._outputs: dict[int, StepOutputs] = {}  # frame count → buffers
        self._slot_buffers: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # memory frames → (pos_n, valid_n)
        # Before a session's first commit its memory has no storage: one masked-out frame stands in.
        layers, batch, tokens, heads, head_dim = self._frame_kv_shape
        self._no_memory_lbnthd = torch.zeros((layers, batch, 1, tokens, heads, head_dim), device=self.device)

    @property
    def device(self) -> torch.device:
        return self._placement.torch_device

    # ----------------------------------------------------------------- text
    def embed_text(self, text_bld: torch.Tensor) -> TextContext:
        batch, length, width = text_bld.shape
        cfg = self.spec.model
        if batch != 1 or width != cfg.text_dim:
            raise ValueError(f"text embeddings have shape {tuple(text_bld.shape)}; expected (1, L, {cfg.text_dim})")
        if length > cfg.text_len:
            raise ValueError(f"text has {length} tokens; this model takes at most text_len={cfg.text_len}")
        padded = np.zeros((1, cfg.text_len, width), dtype=np.float32)  # zero-padded as CausalWanDiT.embed_text
        padded[:, :length] = text_bld.detach().float().cpu().numpy()
        k, v = _run(self._text, DIT_TEXT, {GRAPH_IO[DIT_TEXT].inputs[0]: padded})
        return TextContext(
            k_lblhd=torch.from_numpy(k).to(self.device).contiguous(),
            v_lblhd=torch.from_numpy(v).to(self.device).contiguous(),
        )

    # ----------------------------------------------------------------- memory
    def _slot_buffer(self, n_slots: int) -> tuple[torch.Tensor, torch.Tensor]:
        if n_slots not in self._slot_buffers:
            self._slot_buffers[n_slots] = (
                torch.zeros(n_slots, dtype=torch.float32, device=self.device),
                torch.zeros(n_slots, dtype=torch.bool, device=self.device),
            )
        return self._slot_buffers[n_slots]

    def memory_context(self, memory: StreamMemory, slots: tuple[int, ...], positions: tuple[int, ...]) -> SlotMemory:
        if memory.k_lbnthd is None or memory.v_lbnthd is None:
            assert not slots, "slots planned in a memory without storage"
            k_lbnthd = v_lbnthd = self._no_memory_lbnthd
        else:
            k_lbnthd, v_lbnthd = memory.k_lbnthd, memory.v_lbnthd
        pos_n, valid_n = self._slot_buffer(k_lbnthd.shape[2])
        pos_n.zero_()
        valid_n.zero_()
        if slots:
            index = torch.tensor(slots, device=self.device)
            pos_n[index] = torch.tensor(positions, dtype=torch.float32, device=self.device)
            valid_n[index] = True
        return SlotMemory(k_lbnthd=k_lbnthd, v_lbnthd=v_lbnthd, pos_n=pos_n, valid_n=valid_n)

    # ----------------------------------------------------------------- the step
    def step_outputs(self, n_frames: int) -> StepOutputs:
        """The output buffers for chunks of ``n_frames`` (allocated on first use, then reused)."""
        if n_frames not in self._outputs:
            latent = self.spec.latent
            channels = self.spec.model.out_channels
            layers, batch, tokens, heads, head_dim = self._frame_kv_shape
            kv_shape = (layers, batch, n_frames * tokens, heads, head_dim)
            self._outputs[n_frames] = StepOutputs(
                flow_bfchw=torch.empty((batch, n_frames, channels, latent.height, latent.width), device=self.device),
                k_lbshd=torch.empty(kv_shape, device=self.device),
                v_lbshd=torch.empty(kv_shape, device=self.device),
            )
        return self._outputs[n_frames]

    def _bind(self, bind: Callable[..., None], name: str, tensor: torch.Tensor) -> None:
        if tensor.device != self.device or not tensor.is_contiguous() or tensor.dtype not in NUMPY_DTYPES:
            raise ValueError(
                f"{name}: a contiguous float32/bool tensor on {self.device} is bound in place; got {tensor.dtype} "
                f"on {tensor.device} (contiguous: {tensor.is_contiguous()})"
            )
        placement = self._placement
        bind(
            name, placement.device_type, placement.device_id, NUMPY_DTYPES[tensor.dtype], tuple(tensor.shape),
            tensor.data_ptr(),
        )

    def forward_chunk(
        self,
        x_bfchw: torch.Tensor,
        t_bf: torch.Tensor,
        text: TextContext,
        frame_pos_f: torch.Tensor,
        memory: SlotMemory | None,
    ) -> tuple[torch.Tensor, ChunkKV]:
        """Returns views of the reused output buffers: valid until the next call (the sampler consumes them)."""
        n_frames = x_bfchw.shape[1]
        if memory is None:
            raise ValueError("the onnx step graph always takes a memory buffer; build it with memory_context()")
        if t_bf.shape != x_bfchw.shape[:2] or frame_pos_f.shape != (n_frames,):
            raise ValueError(
                f"t {tuple(t_bf.shape)} and frame_pos {tuple(frame_pos_f.shape)} do not fit x {tuple(x_bfchw.shape)}"
            )
        out = self.step_outputs(n_frames)
        as_f32 = {"device": self.device, "dtype": torch.float32}
        inputs = (
            x_bfchw.to(**as_f32).contiguous(),
            t_bf.to(**as_f32).contiguous(),
            frame_pos_f.to(**as_f32).contiguous(),
            text.k_lblhd,
            text.v_lblhd,
            memory.k_lbnthd,
            memory.v_lbnthd,
            memory.pos_n,
            memory.valid_n,
        )
        io = GRAPH_IO[DIT_STEP]
        for name, tensor in zip(io.inputs, inputs):
            self._bind(self._binding.bind_input, name, tensor)
        for name, tensor in zip(io.outputs, (out.flow_bfchw, out.k_lbshd, out.v_lbshd)):
            self._bind(self._binding.bind_output, name, tensor)
        if self.device.type == "cuda":  # the bound tensors were written on torch's stream; onnxruntime has its own
            torch.cuda.current_stream(self.device).synchronize()
        self._step.run_with_iobinding(self._binding)
        return out.flow_bfchw, ChunkKV(k_lbshd=out.k_lbshd, v_lbshd=out.v_lbshd)


# ----------------------------------------------------------------------------------------------- codecs
def build_tokenizer(spec: TokenizerSpec) -> Callable[[str], list[int]]:
    """The runtime's own tokenizers (prompt → ids), rebuilt from the manifest. Only their tokenizing half is used
    (``text_encoder.onnx`` holds the table), hence the one-wide tables."""
    if spec.kind == WORLD_TEXT_ENCODER:
        return WorldTextEncoder(text_dim=1, tokens=spec.tokens).token_ids
    if spec.kind == HASHED_TEXT_ENCODER:
        return HashedTextEncoder(text_dim=1, max_tokens=spec.max_tokens, buckets=spec.buckets).tokenize
    raise ExportFolderError(f"unknown tokenizer {spec.kind!r} in the manifest; known: world-text, hashed-random")


class OnnxTextEncoder:
    """A ``TextEncoder``: the runtime's tokenizer, then ``text_encoder.onnx`` (ids → states)."""

    def __init__(self, session: ort.InferenceSession, tokenizer: Callable[[str], list[int]], text_dim: int) -> None:
        self.text_dim = text_dim
        self._session = session
        self._tokenizer = tokenizer

    def encode(self, prompt: str) -> torch.Tensor:
        ids = self._tokenizer(prompt)
        if not ids:  # no known word: no tokens (the DiT pads with zeros)
            return torch.zeros((1, 0, self.text_dim))
        (states,) = _run(self._session, TEXT_ENCODER, {GRAPH_IO[TEXT_ENCODER].inputs[0]: np.array(ids, np.int64)})
        return torch.from_numpy(states)


class OnnxFrameCodec:
    """A ``FrameCodec``: ``vae_decoder.onnx`` and ``vae_encoder.onnx`` (one stream: batch 1)."""

    def __init__(self, decoder: ort.InferenceSession, encoder: ort.InferenceSession, spec: PipelineSpec) -> None:
        self.latent_channels = spec.model.out_channels
        self.scale = spec.latent.vae_scale
        self._decoder = decoder
        self._encoder = encoder

    def decode(self, latents_bfchw: torch.Tensor) -> np.ndarray:
        latents = np.ascontiguousarray(latents_bfchw.detach().float().cpu().numpy())
        (frames,) = _run(self._decoder, VAE_DECODER, {GRAPH_IO[VAE_DECODER].inputs[0]: latents})
        return frames

    def encode(self, frames_bfhw3: np.ndarray) -> torch.Tensor:
        return self.encode_pixels(frames_bfhw3.astype(np.float32) / 127.5 - 1.0)

    def encode_pixels(self, pixels_bfhw3: np.ndarray) -> torch.Tensor:
        pixels = np.ascontiguousarray(pixels_bfhw3, dtype=np.float32)
        (latents,) = _run(self._encoder, VAE_ENCODER, {GRAPH_IO[VAE_ENCODER].inputs[0]: pixels})
        return torch.from_numpy(latents)


# ----------------------------------------------------------------------------------------------- loading
def load_onnx_pipeline(
    model: str | Path,
    device: torch.device | str = "cpu",
    policy: str = "grounded",
    dtype: torch.dtype = torch.float32,
    threads: int | None = None,
) -> Pipeline:
    """An export folder (``gf export onnx``) → a Pipeline running on onnxruntime. Checks the folder first."""
    folder = Path(model)
    if not folder.exists():
        raise ExportFolderError(
            f"the onnx backend loads an export folder, got {str(model)!r}; write one with "
            f"`gf export onnx --model {model} --out exported/` and pass --model exported/"
        )
    manifest: ExportManifest = read_manifest(folder)
    check_files(folder, manifest)
    if dtype != torch.float32:
        raise ValueError(f"{folder} holds {EXPORT_DTYPE} graphs; pass dtype fp32 (got {dtype})")
    placement = OrtPlacement.for_torch_device(torch.device(device), threads)
    sessions = {name: placement.session(folder / graph.file) for name, graph in manifest.graphs.items()}
    spec = manifest.spec
    tokenizer = build_tokenizer(manifest.tokenizer)
    return Pipeline(
        spec=spec,
        model=None,
        text_encoder=OnnxTextEncoder(sessions[TEXT_ENCODER], tokenizer, spec.model.text_dim),
        codec=OnnxFrameCodec(sessions[VAE_DECODER], sessions[VAE_ENCODER], spec),
        device=placement.torch_device,
        default_policy=policy,
        name=str(folder),
        chunk_model=OnnxChunkModel(sessions[DIT_STEP], sessions[DIT_TEXT], spec, placement),
        backend=BACKEND_NAME,
    )
