"""The Unity client's C# core, end to end: `unity_client/Tests~/run_tests.sh` compiles it with Mono's mcs and runs
its tests against a live `gf serve --model micro-random`. Skipped where mcs or mono is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "unity_client" / "Tests~" / "run_tests.sh"
TIMEOUT_S = 600


@pytest.mark.skipif(shutil.which("mcs") is None or shutil.which("mono") is None, reason="needs mcs and mono (apt-get install mono-mcs mono-runtime)")
def test_unity_client_core_passes_its_tests_against_a_live_server() -> None:
    gf = Path(sys.executable).with_name("gf")  # the gf of the environment running pytest
    env = {**os.environ, "GF": str(gf) if gf.exists() else os.environ.get("GF", str(REPO / ".venv" / "bin" / "gf"))}
    result = subprocess.run(["bash", str(RUNNER)], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"run_tests.sh exited with {result.returncode}:\n{output[-6000:]}"
    assert " 0 failed" in output, f"no '0 failed' summary:\n{output[-6000:]}"


def test_unity_package_files_have_unique_meta_files() -> None:
    """Unity ignores files without a .meta in an immutable (git or tarball) package; folders ending in ~ are skipped."""
    package = REPO / "unity_client"
    guids: dict[str, Path] = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.suffix == ".meta" or any(part.endswith("~") or part.startswith(".") for part in relative.parts):
            continue
        meta = path.with_name(path.name + ".meta")
        assert meta.is_file(), f"{relative} has no .meta file"
        guid = next(line.split(":", 1)[1].strip() for line in meta.read_text().splitlines() if line.startswith("guid:"))
        assert guid not in guids, f"{relative} and {guids[guid]} share the guid {guid}"
        guids[guid] = relative


def test_unity_core_assembly_has_no_engine_references() -> None:
    import json

    core = json.loads((REPO / "unity_client" / "Runtime" / "Core" / "Gf.Client.Core.asmdef").read_text())
    assert core["name"] == "Gf.Client.Core" and core["noEngineReferences"] is True and core["references"] == []
    for source in (REPO / "unity_client" / "Runtime" / "Core").rglob("*.cs"):
        assert "UnityEngine" not in source.read_text(), f"{source.name} mentions UnityEngine"
    manifest = json.loads((REPO / "unity_client" / "package.json").read_text())
    assert manifest["name"].startswith("com.") and manifest["dependencies"] == {}
