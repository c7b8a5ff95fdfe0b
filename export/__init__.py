"""ONNX export of a gf pipeline and an onnxruntime backend for it (the ``[export]`` extra).

    gf export onnx --model default --out exported/
    gf generate --backend onnx --model exported/ --prompt "a red ball in the desert"

``export_onnx`` writes the graphs and ``manifest.json``; ``load_onnx_pipeline`` loads such a folder as a
``gf_runtime`` Pipeline (also reachable as ``load_pipeline(folder, backend="onnx")`` through the ``gf.backends``
entry point). Imports point one way: export → gf_runtime.

The names below load on first use: every `gf` command imports ``export.cli`` and ``export.bench`` (this package
first) to build its parser, and that must not pull in torch, onnx and onnxruntime.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "MIN_OPSET": "export.manifest",
    "OPSET": "export.manifest",
    "ExportError": "export.exporter",
    "ExportFolderError": "export.manifest",
    "ExportManifest": "export.manifest",
    "export_onnx": "export.exporter",
    "export_pipeline": "export.exporter",
    "load_onnx_pipeline": "export.onnx_backend",
    "read_manifest": "export.manifest",
    "source_identity": "export.exporter",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'export' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
