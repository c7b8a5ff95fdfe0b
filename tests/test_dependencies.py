"""Imports point one way: bridge/export → gf_runtime; engine → sampling → model → config."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("gf_runtime", ("bridge", "export", "zmq", "msgpack", "onnx", "onnxruntime", "unity_client")),
        ("gf_runtime/model", ("gf_runtime.engine", "gf_runtime.memory", "gf_runtime.sampling")),
        ("gf_runtime/memory", ("gf_runtime.engine", "gf_runtime.sampling", "gf_runtime.model")),
        ("gf_runtime/sampling", ("gf_runtime.engine",)),
    ],
)
def test_imports_point_one_way(folder: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(folder, forbidden) == []


def test_config_and_events_use_only_the_standard_library() -> None:
    for rel in ("gf_runtime/config.py", "gf_runtime/engine/events.py"):
        third_party = {n for n in _imports(ROOT / rel) if n.split(".")[0] not in {"__future__", "dataclasses", "enum", "json", "math", "pathlib", "typing"}}
        assert third_party == set(), rel


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import bridge.server\nfrom export import onnx\n")
    assert _imports(bad) == {"bridge.server", "export"}
