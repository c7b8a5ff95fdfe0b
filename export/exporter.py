"""Export a pipeline to an ONNX folder: five graphs (``export.graphs``) and ``manifest.json``.

Uses the dynamo exporter (``torch.onnx.export(..., dynamo=True)``, which needs ``onnxscript``) at opset 18 or
newer. Weights of a graph go to an external data file next to it when they pass protobuf's 2 GB limit (the
Wan2.1-1.3B shape) or when asked to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import platform
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

from gf_runtime.codecs.base import FrameCodec, TextEncoder
from gf_runtime.codecs.random_codecs import HashedTextEncoder, RandomLinearVae
from gf_runtime.engine.pipeline import Pipeline, load_pipeline
from gf_runtime.world.files import WORLD_TEXT_ENCODER
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.vae import TinyVae

from export.graphs import (
    DIT_STEP,
    DIT_TEXT,
    FRAMES_AXIS,
    GRAPH_IO,
    GRAPH_NAMES,
    MEMORY_AXIS,
    TEXT_ENCODER,
    TOKENS_AXIS,
    VAE_DECODER,
    VAE_ENCODER,
    DitStepGraph,
    DitTextGraph,
    LinearVaeDecoderGraph,
    LinearVaeEncoderGraph,
    TinyVaeDecoderGraph,
    TinyVaeEncoderGraph,
    TokenTableGraph,
)
from export.manifest import (
    EXPORT_DTYPE,
    IDENTITY_KEY,
    MANIFEST_FILE,
    MIN_OPSET,
    OPSET,
    ExportManifest,
    GraphSpec,
    TokenizerSpec,
    tensor_specs,
)

logger = logging.getLogger(__name__)

EXTERNAL_DATA_MODES = ("auto", "always", "never")
PROTOBUF_LIMIT_BYTES = 2**31 - 1  # a single ONNX protobuf file holds at most 2 GB
HASHED_TEXT_ENCODER = "hashed-random"
TEXT_ENCODER_NOTE = (
    "text_encoder.onnx is the learned half of the text encoder (token ids → states). The words → ids step is a "
    "tokenizer (string parsing, no tensors), described under 'tokenizer' and run by the runtime before the graph, "
    "as any text model's tokenizer is."
)


class ExportError(ValueError):
    """The pipeline cannot be exported as asked (unknown codec, bad opset, too large for embedded weights)."""


@dataclass(frozen=True)
class GraphPlan:
    """One graph to export: its module, example inputs and dynamic axes (input index → {dim: axis name})."""

    name: str
    module: nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    dynamic_axes: dict[int, dict[int, str]]


def _text_table(encoder: TextEncoder) -> tuple[torch.Tensor, TokenizerSpec]:
    if isinstance(encoder, WorldTextEncoder):
        return encoder.embedding.weight, TokenizerSpec(kind=WORLD_TEXT_ENCODER, tokens=tuple(encoder.tokens))
    if isinstance(encoder, HashedTextEncoder):
        spec = TokenizerSpec(kind=HASHED_TEXT_ENCODER, buckets=encoder.buckets, max_tokens=encoder.max_tokens)
        return encoder.table_nd, spec
    raise ExportError(
        f"no ONNX export for text encoder {type(encoder).__name__}; exportable: WorldTextEncoder, HashedTextEncoder"
    )


def _vae_graphs(codec: FrameCodec) -> tuple[nn.Module, nn.Module]:
    if isinstance(codec, TinyVae):
        return TinyVaeDecoderGraph(codec), TinyVaeEncoderGraph(codec)
    if isinstance(codec, RandomLinearVae):
        return LinearVaeDecoderGraph(codec), LinearVaeEncoderGraph(codec)
    raise ExportError(f"no ONNX export for VAE {type(codec).__name__}; exportable: TinyVae, RandomLinearVae")


def plan_graphs(pipe: Pipeline) -> tuple[list[GraphPlan], TokenizerSpec]:
    """The five graphs of ``pipe`` with example inputs (batch 1, fp32, CPU)."""
    if pipe.model is None:
        raise ExportError(f"pipeline {pipe.name!r} runs on the {pipe.backend} backend; export a torch pipeline")
    spec = pipe.spec
    cfg = spec.model
    model = pipe.model
    if model.dtype != torch.float32 or model.device.type != "cpu":
        raise ExportError(
            f"export takes an fp32 pipeline on the CPU, got {model.dtype} on {model.device}; load it with "
            "load_pipeline(model, device='cpu', dtype='fp32') (export_onnx does)"
        )
    grid_h, grid_w = pipe.sampler.shape.grid_h, pipe.sampler.shape.grid_w
    channels, height, width = cfg.in_channels, spec.latent.height, spec.latent.width
    tokens = grid_h * grid_w
    layers, heads, head_dim = cfg.num_layers, cfg.num_heads, cfg.head_dim
    # Example inputs (values do not matter). Dynamic axes get at least 2, so that torch.export keeps them symbolic.
    n_frames, n_memory, n_tokens = max(2, spec.sampler.chunk_frames), 2, 2
    text_kv = torch.zeros(layers, 1, cfg.text_len, heads, head_dim)
    memory_kv = torch.zeros(layers, 1, n_memory, tokens, heads, head_dim)
    step = GraphPlan(
        DIT_STEP,
        DitStepGraph(model, grid_h, grid_w).eval(),
        (
            torch.zeros(1, n_frames, channels, height, width),
            torch.full((1, n_frames), 500.0),
            torch.arange(n_frames, dtype=torch.float32),
            text_kv,
            text_kv.clone(),
            memory_kv,
            memory_kv.clone(),
            torch.arange(n_memory, dtype=torch.float32),
            torch.ones(n_memory, dtype=torch.bool),
        ),
        {0: {1: FRAMES_AXIS}, 1: {1: FRAMES_AXIS}, 2: {0: FRAMES_AXIS},
         5: {2: MEMORY_AXIS}, 6: {2: MEMORY_AXIS}, 7: {0: MEMORY_AXIS}, 8: {0: MEMORY_AXIS}},
    )
    text = GraphPlan(DIT_TEXT, DitTextGraph(model).eval(), (torch.zeros(1, cfg.text_len, cfg.text_dim),), {})
    table_vd, tokenizer = _text_table(pipe.text_encoder)
    if table_vd.shape[1] != cfg.text_dim:
        raise ExportError(f"text encoder width {table_vd.shape[1]} differs from the model's text_dim={cfg.text_dim}")
    token_ids = torch.zeros(n_tokens, dtype=torch.long)
    text_encoder = GraphPlan(TEXT_ENCODER, TokenTableGraph(table_vd).eval(), (token_ids,), {0: {0: TOKENS_AXIS}})
    decoder, encoder = (graph.eval() for graph in _vae_graphs(pipe.codec))
    pixel_h, pixel_w = spec.latent.pixel_size
    vae_decoder = GraphPlan(
        VAE_DECODER, decoder, (torch.zeros(1, n_frames, channels, height, width),), {0: {1: FRAMES_AXIS}}
    )
    vae_encoder = GraphPlan(
        VAE_ENCODER, encoder, (torch.zeros(1, n_frames, pixel_h, pixel_w, 3),), {0: {1: FRAMES_AXIS}}
    )
    return [step, text, text_encoder, vae_decoder, vae_encoder], tokenizer


def source_identity(pipe: Pipeline) -> str:
    """SHA-256 over the pipeline spec and every tensor the exported graphs hold (DiT, text table, VAE)."""
    plans, tokenizer = plan_graphs(pipe)
    return _identity(pipe, plans, tokenizer)


def _identity(pipe: Pipeline, plans: list[GraphPlan], tokenizer: TokenizerSpec) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(pipe.spec.to_dict(), sort_keys=True).encode())
    digest.update(json.dumps(tokenizer.to_dict(), sort_keys=True).encode())
    for plan in plans:
        if plan.name == DIT_TEXT:
            continue  # the same DiT weights as dit_step
        for name, tensor in sorted(plan.module.state_dict().items()):
            data = tensor.detach().contiguous().cpu()
            digest.update(f"{plan.name}.{name}:{data.dtype}:{tuple(data.shape)}".encode())
            digest.update(data.flatten().view(torch.uint8).numpy())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "torch": torch.__version__}
    for package in ("grounded-forcing", "onnx", "onnxscript", "onnx-ir", "onnxruntime-gpu", "onnxruntime"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's notes that say nothing about this export: optional torchvision ops, an internal
    deprecation, dynamic axes shared between inputs (by design), and the optimizer's per-pass INFO lines."""
    quiet = {"torch.onnx._internal.exporter._registration": logging.ERROR, "onnx_ir": logging.WARNING,
             "onnxscript": logging.WARNING}
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*", category=FutureWarning)
            warnings.filterwarnings("ignore", message=r"# The axis name: .* will not be used", category=UserWarning)
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _export_graph(plan: GraphPlan, path: Path, opset: int, identity: str, external_data: str) -> GraphSpec:
    io = GRAPH_IO[plan.name]
    dims: dict[str, torch.export.Dim] = {}

    def dim(axis: str) -> Any:
        if axis not in dims:
            dims[axis] = torch.export.Dim(axis, min=1)
        return dims[axis]

    dynamic_shapes = tuple(
        {d: dim(axis) for d, axis in plan.dynamic_axes[i].items()} if i in plan.dynamic_axes else None
        for i in range(len(plan.example_inputs))
    )
    with torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(
            plan.module,
            plan.example_inputs,
            dynamo=True,
            opset_version=opset,
            input_names=list(io.inputs),
            output_names=list(io.outputs),
            dynamic_shapes=dynamic_shapes if plan.dynamic_axes else None,
            optimize=True,
            verbose=False,
        )
    if program is None:  # only the legacy exporter returns None
        raise ExportError(f"torch.onnx.export returned no program for {plan.name}")
    program.model.metadata_props[IDENTITY_KEY] = identity
    initializers = program.model.graph.initializers.values()
    weight_bytes = sum(value.const_value.nbytes for value in initializers if value.const_value is not None)
    if external_data == "never" and weight_bytes > PROTOBUF_LIMIT_BYTES:
        raise ExportError(
            f"{plan.name} holds {weight_bytes / 2**30:.1f} GiB of weights, past protobuf's 2 GB limit; "
            "use --external-data auto or always"
        )
    external = external_data == "always" or weight_bytes > PROTOBUF_LIMIT_BYTES
    data_file = path.with_name(path.name + ".data")
    data_file.unlink(missing_ok=True)
    program.save(path, external_data=external)
    proto = onnx.load(str(path), load_external_data=False)
    return GraphSpec(
        file=path.name,
        external_data=data_file.name if data_file.exists() else None,
        inputs=tuple(tensor_specs(proto.graph.input)),
        outputs=tuple(tensor_specs(proto.graph.output)),
    )


def _check_options(opset: int, external_data: str) -> None:
    if opset < MIN_OPSET:
        raise ExportError(
            f"opset {opset} is too old: the dynamo exporter's graphs need opset {MIN_OPSET} or newer for onnxruntime"
        )
    if external_data not in EXTERNAL_DATA_MODES:
        raise ExportError(f"external_data={external_data!r}; choose one of {', '.join(EXTERNAL_DATA_MODES)}")


def export_pipeline(
    pipe: Pipeline, out_dir: str | Path, source: str, opset: int = OPSET, external_data: str = "auto"
) -> ExportManifest:
    """Write ``pipe``'s five graphs and manifest.json into ``out_dir`` (created; earlier exports replaced)."""
    _check_options(opset, external_data)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_FILE).unlink(missing_ok=True)  # a half-written folder never looks complete
    plans, tokenizer = plan_graphs(pipe)
    identity = _identity(pipe, plans, tokenizer)
    graphs: dict[str, GraphSpec] = {}
    for plan in plans:
        start = time.perf_counter()
        graphs[plan.name] = _export_graph(plan, out / f"{plan.name}.onnx", opset, identity, external_data)
        logger.info("exported %s in %.1f s", plan.name, time.perf_counter() - start)
    assert tuple(graphs) == GRAPH_NAMES
    manifest = ExportManifest(
        spec=pipe.spec,
        source=source,
        identity=identity,
        opset=opset,
        tokenizer=tokenizer,
        graphs=graphs,
        versions={"exporter": "torch.onnx.export(dynamo=True)", **library_versions()},
        dtype=EXPORT_DTYPE,
        notes={"text_encoder": TEXT_ENCODER_NOTE},
    )
    manifest.write(out)
    return manifest


def export_onnx(
    model: str | Path, out_dir: str | Path, opset: int = OPSET, external_data: str = "auto"
) -> ExportManifest:
    """Load ``model`` (as ``load_pipeline`` does: 'default', a preset, a folder or a checkpoint) in fp32 on the
    CPU and export it."""
    _check_options(opset, external_data)
    pipe = load_pipeline(model, device="cpu", dtype=torch.float32)
    return export_pipeline(pipe, out_dir, source=str(model), opset=opset, external_data=external_data)
