"""manifest.json: what an export folder holds, and the checks that reject a bad or mismatched folder.

The manifest carries the pipeline spec (model shape, sampler, latent geometry, horizon), the tokenizer, every
graph's file, inputs and outputs (names, dtypes, shapes with named dynamic axes), the opset, the exporter and
library versions, and the identity of the source model (a SHA-256 over its weights and spec). Every ONNX file
carries the same identity in its metadata, so a manifest from another export is caught.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from gf_runtime.config import PipelineSpec

from export.graphs import GRAPH_IO, GRAPH_NAMES

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "gf-onnx-export"
MANIFEST_VERSION = 1
OPSET = 18  # the dynamo exporter's graphs at opset 17 are refused by onnxruntime
MIN_OPSET = 18
IDENTITY_KEY = "gf.source_identity"  # ONNX metadata_props key holding the source model's identity
EXPORT_DTYPE = "float32"
REEXPORT_HINT = "re-export it with `gf export onnx --model SOURCE --out FOLDER`"


class ExportFolderError(ValueError):
    """An export folder that cannot be loaded: missing files, a wrong opset, a manifest from another model."""


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str  # ONNX element type name: float32, int64, bool, uint8
    shape: tuple[int | str, ...]  # str: a named dynamic axis

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TensorSpec":
        return cls(name=str(data["name"]), dtype=str(data["dtype"]), shape=tuple(data["shape"]))


@dataclass(frozen=True)
class GraphSpec:
    file: str
    external_data: str | None  # weights file next to ``file`` (models over 2 GB), or None when embedded
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def files(self) -> tuple[str, ...]:
        return (self.file,) if self.external_data is None else (self.file, self.external_data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "external_data": self.external_data,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GraphSpec":
        return cls(
            file=str(data["file"]),
            external_data=data.get("external_data"),
            inputs=tuple(TensorSpec.from_dict(t) for t in data["inputs"]),
            outputs=tuple(TensorSpec.from_dict(t) for t in data["outputs"]),
        )


@dataclass(frozen=True)
class TokenizerSpec:
    """Prompt → token ids, run in the runtime before ``text_encoder``: ``kind`` is the spec's text encoder name.

    world-text: the world's prompt parser; ``tokens`` are the attribute tokens, id = position in the list.
    hashed-random: lower-case words, id = CRC32(word) mod ``buckets``, at most ``max_tokens`` words.
    """

    kind: str
    tokens: tuple[str, ...] = ()
    buckets: int = 0
    max_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokens": list(self.tokens), "buckets": self.buckets, "max_tokens": self.max_tokens}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TokenizerSpec":
        return cls(
            kind=str(data["kind"]),
            tokens=tuple(data.get("tokens", ())),
            buckets=int(data.get("buckets", 0)),
            max_tokens=int(data.get("max_tokens", 0)),
        )


@dataclass(frozen=True)
class ExportManifest:
    spec: PipelineSpec
    source: str  # what was exported: a model name, folder or checkpoint path
    identity: str  # SHA-256 over the source's weights and spec
    opset: int
    tokenizer: TokenizerSpec
    graphs: dict[str, GraphSpec]
    versions: dict[str, str]  # exporter and libraries
    dtype: str = EXPORT_DTYPE
    batch: int = 1
    format: str = MANIFEST_FORMAT
    format_version: int = MANIFEST_VERSION
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "format_version": self.format_version,
            "source": self.source,
            "identity": self.identity,
            "opset": self.opset,
            "dtype": self.dtype,
            "batch": self.batch,
            "spec": self.spec.to_dict(),
            "tokenizer": self.tokenizer.to_dict(),
            "graphs": {name: graph.to_dict() for name, graph in self.graphs.items()},
            "versions": dict(self.versions),
            "notes": dict(self.notes),
        }

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExportManifest":
        return cls(
            spec=PipelineSpec.from_dict(data["spec"]),
            source=str(data["source"]),
            identity=str(data["identity"]),
            opset=int(data["opset"]),
            tokenizer=TokenizerSpec.from_dict(data["tokenizer"]),
            graphs={name: GraphSpec.from_dict(g) for name, g in data["graphs"].items()},
            versions={str(k): str(v) for k, v in data["versions"].items()},
            dtype=str(data["dtype"]),
            batch=int(data["batch"]),
            format=str(data["format"]),
            format_version=int(data["format_version"]),
            notes={str(k): str(v) for k, v in data.get("notes", {}).items()},
        )


def read_manifest(folder: str | Path) -> ExportManifest:
    """Read and check ``folder/manifest.json`` (format, version, opset, dtype, graph list); files not yet."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportFolderError(f"{folder} is not a folder; the onnx backend loads the folder `gf export onnx` writes")
    path = folder / MANIFEST_FILE
    if not path.exists():
        raise ExportFolderError(f"{folder} has no {MANIFEST_FILE}, so it is not a gf ONNX export; {REEXPORT_HINT}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ExportFolderError(f"{path} is not valid JSON ({exc}); {REEXPORT_HINT}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ExportFolderError(f"{path} has format {found!r}, expected {MANIFEST_FORMAT!r}; {REEXPORT_HINT}")
    if data.get("format_version") != MANIFEST_VERSION:
        raise ExportFolderError(
            f"{path} is format version {data.get('format_version')}; this gf reads version {MANIFEST_VERSION}; "
            f"{REEXPORT_HINT}"
        )
    try:
        manifest = ExportManifest.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportFolderError(f"{path} is incomplete or malformed ({exc!r}); {REEXPORT_HINT}") from None
    if manifest.opset < MIN_OPSET:
        raise ExportFolderError(
            f"{path} was exported at opset {manifest.opset}; the onnxruntime backend needs opset {MIN_OPSET} or "
            f"newer (the dynamo exporter's opset-17 graphs are refused by onnxruntime); {REEXPORT_HINT}"
        )
    if manifest.dtype != EXPORT_DTYPE or manifest.batch != 1:
        raise ExportFolderError(
            f"{path} holds {manifest.dtype} graphs with batch {manifest.batch}; this backend runs {EXPORT_DTYPE}, "
            "batch 1"
        )
    missing = sorted(set(GRAPH_NAMES) - set(manifest.graphs))
    if missing:
        raise ExportFolderError(f"{path} lists no graph for {', '.join(missing)}; {REEXPORT_HINT}")
    for name in GRAPH_NAMES:
        graph = manifest.graphs[name]
        io = GRAPH_IO[name]
        found_io = (tuple(t.name for t in graph.inputs), tuple(t.name for t in graph.outputs))
        if found_io != (io.inputs, io.outputs):
            raise ExportFolderError(
                f"{path}: graph {name} has inputs/outputs {found_io}; this gf expects {(io.inputs, io.outputs)}; "
                f"{REEXPORT_HINT}"
            )
    return manifest


def check_files(folder: Path, manifest: ExportManifest) -> None:
    """Every file the manifest lists is there; each ONNX file has the manifest's opset, identity and inputs
    (checked before the weights files, so that a manifest from another export is named as such)."""
    def require(files: list[str]) -> None:
        missing = [f for f in files if not (folder / f).is_file()]
        if missing:
            raise ExportFolderError(
                f"export folder {folder} is missing {', '.join(missing)} (listed in {MANIFEST_FILE}); {REEXPORT_HINT}"
            )

    require([manifest.graphs[name].file for name in GRAPH_NAMES])
    for name in GRAPH_NAMES:
        graph = manifest.graphs[name]
        path = folder / graph.file
        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # a truncated or foreign file: onnx raises DecodeError and others
            raise ExportFolderError(f"{path} is not a readable ONNX model ({exc}); {REEXPORT_HINT}") from None
        opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
        if opset != manifest.opset:
            raise ExportFolderError(
                f"{path} is opset {opset} but {MANIFEST_FILE} says {manifest.opset}: the manifest does not belong to "
                f"these graphs; {REEXPORT_HINT}"
            )
        identity = {p.key: p.value for p in proto.metadata_props}.get(IDENTITY_KEY)
        if identity != manifest.identity:
            raise ExportFolderError(
                f"{path} was exported from model {_short(identity)}, but {MANIFEST_FILE} describes "
                f"{manifest.source!r} ({_short(manifest.identity)}): the manifest comes from another export; "
                f"{REEXPORT_HINT}"
            )
        found = tuple(tensor_specs(proto.graph.input))
        if found != graph.inputs:
            raise ExportFolderError(
                f"{path} takes {[dataclasses.astuple(t) for t in found]}; {MANIFEST_FILE} says "
                f"{[dataclasses.astuple(t) for t in graph.inputs]}; {REEXPORT_HINT}"
            )
    require([manifest.graphs[name].external_data or manifest.graphs[name].file for name in GRAPH_NAMES])


def tensor_specs(values: Any) -> list[TensorSpec]:
    """ONNX ValueInfos → TensorSpecs (named dynamic axes as strings)."""
    specs = []
    for value in values:
        tensor_type = value.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).name
        shape = tuple(d.dim_param if d.dim_param else int(d.dim_value) for d in tensor_type.shape.dim)
        specs.append(TensorSpec(name=value.name, dtype=dtype, shape=shape))
    return specs


def _short(identity: str | None) -> str:
    return "with no gf identity" if identity is None else f"identity {identity[:12]}…"
