"""`gf export onnx`: plugged into the `gf` command through the ``gf.commands`` entry points.

Imports only the standard library at load time: every `gf` command loads this module to build its parser.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export a model for other runtimes (ONNX)")
    formats = p.add_subparsers(dest="export", required=True)
    onnx = formats.add_parser(
        "onnx",
        help="write the DiT step and text graphs, the VAE decoder and encoder, the text encoder and manifest.json",
    )
    onnx.add_argument("--model", default="default", help="'default', a preset, a model folder or a checkpoint")
    onnx.add_argument("--out", type=Path, required=True, help="folder to write (created; an earlier export is replaced)")
    onnx.add_argument("--opset", type=int, default=None, help="ONNX opset (default: export.manifest.OPSET)")
    onnx.add_argument(
        "--external-data",
        default="auto",
        help="auto, always or never: weights in a .data file next to each graph (auto: past protobuf's 2 GB "
        "limit, e.g. Wan2.1-1.3B)",
    )
    onnx.add_argument("--json", action="store_true", help="print the manifest")
    onnx.set_defaults(handler=_run_export_onnx)


def _run_export_onnx(args: argparse.Namespace) -> int:
    from export.exporter import export_onnx
    from export.manifest import MANIFEST_FILE, OPSET

    opset = OPSET if args.opset is None else args.opset
    manifest = export_onnx(args.model, args.out, opset=opset, external_data=args.external_data)
    if args.json:
        print(json.dumps(manifest.to_dict()))
        return 0
    sizes = {
        name: sum((args.out / f).stat().st_size for f in graph.files) / 2**20 for name, graph in manifest.graphs.items()
    }
    print(f"exported {args.model!r} to {args.out} (opset {manifest.opset}, identity {manifest.identity[:12]}…):")
    for name, graph in manifest.graphs.items():
        extra = f" + {graph.external_data}" if graph.external_data else ""
        print(f"  {graph.file}{extra}: {sizes[name]:.1f} MiB")
    print(f"  {MANIFEST_FILE}; run it with: gf generate --backend onnx --model {args.out}")
    return 0
