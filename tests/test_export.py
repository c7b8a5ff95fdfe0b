"""ONNX export and the onnxruntime backend: parity with torch through the session API, the CLI, bad folders.

Two exports, made once per module: ``tiny-random`` through `gf export onnx` (embedded weights) and
``micro-random`` through the API with every graph's weights in external data files (the Wan2.1-1.3B path).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime", reason="the [export] extra (onnxruntime-gpu) is not installed")
pytest.importorskip("onnxscript", reason="the [export] extra (onnxscript) is not installed")

from gf_runtime import load_pipeline  # noqa: E402
from gf_runtime.cli import main  # noqa: E402
from gf_runtime.codecs.random_codecs import RandomLinearVae  # noqa: E402
from gf_runtime.config import PIPELINE_PRESETS  # noqa: E402
from gf_runtime.engine.pipeline import Pipeline, available_backends  # noqa: E402
from gf_runtime.world.files import DEFAULT_MODEL_DIR, TEXT_FILE, WORLD_TEXT_ENCODER  # noqa: E402
from gf_runtime.world.text import WorldTextEncoder  # noqa: E402
from gf_runtime.world.vae import TinyVae  # noqa: E402

from export import (  # noqa: E402
    ExportError,
    ExportFolderError,
    export_onnx,
    load_onnx_pipeline,
    read_manifest,
    source_identity,
)
from export.bench import run_onnx_benchmark  # noqa: E402
from export.graphs import (  # noqa: E402
    DIT_STEP,
    GRAPH_IO,
    GRAPH_NAMES,
    MEMORY_AXIS,
    LinearVaeDecoderGraph,
    LinearVaeEncoderGraph,
    TinyVaeDecoderGraph,
    TinyVaeEncoderGraph,
)
from export.manifest import MANIFEST_FILE, TokenizerSpec  # noqa: E402
from export.onnx_backend import build_tokenizer  # noqa: E402

LATENT_TOL = 1e-3
GREY_LEVELS = 1
PROMPT = "a red ball bouncing in a desert"


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "tiny"
    assert main(["export", "onnx", "--model", "tiny-random", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def micro_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "micro"
    export_onnx("micro-random", out, external_data="always")
    return out


@pytest.fixture(scope="module")
def micro_onnx(micro_export: Path) -> Pipeline:
    return load_onnx_pipeline(micro_export)


@pytest.fixture(scope="module")
def micro_torch() -> Pipeline:
    return load_pipeline("micro-random")


def _stream(pipe: Pipeline, policy: str, chunks: int, events: dict[int, Any]) -> tuple[torch.Tensor, np.ndarray, list]:
    """Latents (N, C, H, W), frames (N, H, W, 3) and the chunks' records; ``events``: chunk → a prompt, "cut" or
    a seed image."""
    latents, frames, records = [], [], []
    with pipe.session(prompt=PROMPT, seed=5, policy=policy) as s:
        for index in range(chunks):
            event = events.get(index)
            if isinstance(event, np.ndarray):
                s.seed_image(event)
            elif event == "cut":
                s.scene_cut()
            elif event is not None:
                s.set_prompt(event)
            chunk = s.next_chunk()
            latents.append(chunk.latents)
            frames.append(chunk.frames)
            records.append((chunk.prompt_id, chunk.memory_frames, chunk.max_temporal_position))
    return torch.cat(latents), np.concatenate(frames), records


def _assert_parity(expected: tuple, got: tuple) -> None:
    latents_t, frames_t, records_t = expected
    latents_o, frames_o, records_o = got
    assert records_o == records_t  # same prompts applied, same memory sizes and positions chunk by chunk
    assert (latents_o - latents_t).abs().max().item() < LATENT_TOL
    assert np.abs(frames_o.astype(np.int16) - frames_t.astype(np.int16)).max() <= GREY_LEVELS


# ----------------------------------------------------------------------------------------------- parity
def test_onnx_matches_torch_over_a_stream_with_prompt_switch_and_scene_cut(
    micro_torch: Pipeline, micro_onnx: Pipeline
) -> None:
    events = {3: "snow falls on the ball", 5: "cut", 7: "the city at night"}
    expected = _stream(micro_torch, "grounded", 9, events)
    got = _stream(micro_onnx, "grounded", 9, events)
    _assert_parity(expected, got)
    assert [r[0] for r in got[2]] == [0, 0, 0, 1, 1, 1, 1, 2, 2]


@pytest.mark.parametrize("policy", ["self_forcing", "longlive", "full"])
def test_one_exported_step_graph_serves_every_policy(micro_torch: Pipeline, micro_onnx: Pipeline, policy: str) -> None:
    events = {3: "snow falls on the ball"}  # longlive: hard recache of the window; full: the memory grows
    _assert_parity(_stream(micro_torch, policy, 6, events), _stream(micro_onnx, policy, 6, events))


def test_seed_image_runs_through_the_exported_vae_encoder(micro_torch: Pipeline, micro_onnx: Pipeline) -> None:
    height, width = micro_torch.frame_size
    image = np.random.default_rng(0).uniform(-1, 1, (height, width, 3)).astype(np.float32)
    events = {2: image}
    _assert_parity(_stream(micro_torch, "grounded", 4, events), _stream(micro_onnx, "grounded", 4, events))


def test_exported_text_encoder_matches_torch(micro_torch: Pipeline, micro_onnx: Pipeline) -> None:
    for prompt in (PROMPT, "snow", ""):
        expected = micro_torch.text_encoder.encode(prompt)
        got = micro_onnx.text_encoder.encode(prompt)
        assert got.shape == expected.shape and torch.allclose(got, expected)


def test_step_graph_writes_reused_buffers_and_reads_the_memory_in_place(micro_onnx: Pipeline) -> None:
    chunk_model = micro_onnx.sampler.model
    n_frames = micro_onnx.spec.sampler.chunk_frames
    with micro_onnx.session(prompt=PROMPT, seed=0) as s:
        s.next_chunk()
        outputs = chunk_model.step_outputs(n_frames)
        pointers = [t.data_ptr() for t in (outputs.flow_bfchw, outputs.k_lbshd, outputs.v_lbshd)]
        storage = s.memory.k_lbnthd.data_ptr()
        for _ in range(6):
            s.next_chunk()
        again = chunk_model.step_outputs(n_frames)
        assert [t.data_ptr() for t in (again.flow_bfchw, again.k_lbshd, again.v_lbshd)] == pointers
        assert s.memory.k_lbnthd.data_ptr() == storage  # the bounded memory was allocated once
        plan = s.memory.plan_context(n_frames)
        bound = chunk_model.memory_context(s.memory, plan.slots, plan.slot_pos)
        assert bound.k_lbnthd.data_ptr() == storage  # bound as it is, no gather copy
        assert int(bound.valid_n.sum()) == len(plan.slots)


def test_masked_memory_buffer_equals_the_gathered_memory(micro_torch: Pipeline) -> None:
    """The step graph's form of the memory (every stored frame, a validity mask) attends exactly as torch's
    gathered form (only the visible frames)."""
    model = micro_torch.model
    assert model is not None
    gen = torch.Generator().manual_seed(0)
    cfg, grid = model.config, micro_torch.sampler.shape
    tokens = grid.grid_h * grid.grid_w
    k, v = (torch.randn(cfg.num_layers, 1, 5, tokens, cfg.num_heads, cfg.head_dim, generator=gen) for _ in range(2))
    pos_n = torch.tensor([0.0, 3.0, 4.0, 5.0, 99.0])
    valid_n = torch.tensor([True, False, True, True, False])
    text = micro_torch.encode_prompt(PROMPT)
    x = torch.randn(1, 3, 16, 8, 8, generator=gen)
    t, frame_pos = torch.full((1, 3), 600.0), torch.tensor([6.0, 7.0, 8.0])
    masked = model.rotate_memory(k.flatten(2, 3), v.flatten(2, 3), pos_n, grid.grid_h, grid.grid_w, valid_f=valid_n)
    keep = valid_n.nonzero()[:, 0]
    gathered = model.rotate_memory(k[:, :, keep].flatten(2, 3), v[:, :, keep].flatten(2, 3), pos_n[keep],
                                   grid.grid_h, grid.grid_w)
    flow_masked, kv_masked = model.forward_chunk(x, t, text, frame_pos, masked)
    flow_gathered, kv_gathered = model.forward_chunk(x, t, text, frame_pos, gathered)
    assert torch.allclose(flow_masked, flow_gathered, atol=1e-5)
    assert torch.allclose(kv_masked.k_lbshd, kv_gathered.k_lbshd, atol=1e-5)


VAE_GRAPHS = {
    "world-vae": (lambda: TinyVae().eval(), TinyVaeDecoderGraph, TinyVaeEncoderGraph),
    "random-linear": (lambda: RandomLinearVae(16), LinearVaeDecoderGraph, LinearVaeEncoderGraph),
}


@pytest.mark.parametrize("vae", sorted(VAE_GRAPHS))
def test_vae_graphs_compute_what_the_codecs_do(vae: str) -> None:
    """The exported VAE graphs restate the tensor half of each codec's decode / encode_pixels: they must agree."""
    make_codec, decoder, encoder = VAE_GRAPHS[vae]
    codec = make_codec()
    gen = torch.Generator().manual_seed(1)
    latents = torch.randn(1, 3, 16, 8, 8, generator=gen)
    pixels = torch.rand(1, 3, 64, 64, 3, generator=gen) * 2 - 1
    with torch.no_grad():
        assert np.array_equal(decoder(codec)(latents).numpy(), codec.decode(latents))
        assert torch.allclose(encoder(codec)(pixels), codec.encode_pixels(pixels.numpy()), atol=1e-5)


def test_world_tokenizer_rebuilt_from_the_manifest_matches_the_world_text_encoder() -> None:
    encoder = WorldTextEncoder.load(DEFAULT_MODEL_DIR / TEXT_FILE)
    tokenizer = build_tokenizer(TokenizerSpec(kind=WORLD_TEXT_ENCODER, tokens=tuple(encoder.tokens)))
    for prompt in (PROMPT, "snow falls at night, camera pans left", "a purple dragon"):
        assert tokenizer(prompt) == encoder.token_ids(prompt)


# ----------------------------------------------------------------------------------------------- the export
def test_export_writes_every_graph_and_a_manifest(tiny_export: Path) -> None:
    manifest = read_manifest(tiny_export)
    assert manifest.spec == PIPELINE_PRESETS["tiny-random"] and manifest.source == "tiny-random"
    assert manifest.opset >= 18 and manifest.dtype == "float32"
    assert manifest.identity == source_identity(load_pipeline("tiny-random"))
    assert {"torch", "onnx", "onnxscript", "onnxruntime-gpu"} <= set(manifest.versions)
    assert manifest.tokenizer.kind == "hashed-random" and "tokenizer" in manifest.notes["text_encoder"]
    for name in GRAPH_NAMES:
        graph = manifest.graphs[name]
        assert (tiny_export / graph.file).is_file() and graph.external_data is None
        assert tuple(t.name for t in graph.inputs) == GRAPH_IO[name].inputs
        assert tuple(t.name for t in graph.outputs) == GRAPH_IO[name].outputs
    step_inputs = {t.name: t for t in manifest.graphs[DIT_STEP].inputs}
    cfg = manifest.spec.model
    assert step_inputs["memory_k_lbnthd"].shape == (cfg.num_layers, 1, MEMORY_AXIS, 16, cfg.num_heads, cfg.head_dim)
    assert step_inputs["memory_valid_n"].dtype == "bool"


def test_large_weights_go_to_external_data_files(micro_export: Path) -> None:
    manifest = read_manifest(micro_export)
    for graph in manifest.graphs.values():
        assert graph.external_data == graph.file + ".data"
        assert (micro_export / graph.external_data).stat().st_size > 0


def test_export_refuses_opsets_onnxruntime_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="opset 17"):
        export_onnx("micro-random", tmp_path, opset=17)


# ----------------------------------------------------------------------------------------------- the CLI
def test_cli_generate_on_onnx_matches_torch(tiny_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"at_chunk": 2, "text": "snow falls"}, {"at_chunk": 4, "scene_cut": True}]))
    common = ["generate", "--prompt", PROMPT, "--chunks", "6", "--seed", "3", "--events", str(events), "--json"]
    onnx_frames, torch_frames = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main([*common, "--backend", "onnx", "--model", str(tiny_export), "--save-frames", str(onnx_frames)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["backend"] == "onnx"
    assert main([*common, "--model", "tiny-random", "--save-frames", str(torch_frames)]) == 0
    a, b = np.load(onnx_frames), np.load(torch_frames)
    assert a.shape == b.shape == (18, 64, 64, 3)
    assert np.abs(a.astype(np.int16) - b.astype(np.int16)).max() <= GREY_LEVELS


def test_bench_onnx_reports_both_backends_and_their_parity(micro_export: Path) -> None:
    rows = run_onnx_benchmark("micro-random", micro_export, "cpu", "grounded", chunks=4, rounds=1, threads=None)
    assert [r.get("backend") for r in rows[:2]] == ["torch", "onnx"]
    assert all(r["p50_chunk_ms"] > 0 for r in rows[:2])
    assert rows[2]["max_latent_diff"] < LATENT_TOL and rows[2]["max_frame_diff"] <= GREY_LEVELS


def test_bench_onnx_refuses_an_export_of_another_model(micro_export: Path) -> None:
    with pytest.raises(ExportFolderError, match="not exported from 'tiny-random'"):
        run_onnx_benchmark("tiny-random", micro_export, "cpu", "grounded", chunks=2, rounds=1, threads=None)


# ----------------------------------------------------------------------------------------------- bad folders
def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / "copy"))


def _edit_manifest(folder: Path, **changes: Any) -> None:
    data = json.loads((folder / MANIFEST_FILE).read_text())
    data.update(changes)
    (folder / MANIFEST_FILE).write_text(json.dumps(data))


def test_missing_graph_file_is_named(tiny_export: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_export, tmp_path)
    (folder / "vae_decoder.onnx").unlink()
    with pytest.raises(ExportFolderError, match=r"missing vae_decoder\.onnx .*re-export"):
        load_pipeline(folder, backend="onnx")


def test_missing_external_data_file_is_named(micro_export: Path, tmp_path: Path) -> None:
    folder = _copy(micro_export, tmp_path)
    (folder / "dit_step.onnx.data").unlink()
    with pytest.raises(ExportFolderError, match=r"missing dit_step\.onnx\.data"):
        load_onnx_pipeline(folder)


def test_wrong_opset_is_a_clear_error(tiny_export: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_export, tmp_path)
    _edit_manifest(folder, opset=17)
    with pytest.raises(ExportFolderError, match="exported at opset 17; .*needs opset 18 or newer"):
        load_onnx_pipeline(folder)
    _edit_manifest(folder, opset=19)
    with pytest.raises(ExportFolderError, match="is opset 18 but manifest.json says 19"):
        load_onnx_pipeline(folder)


def test_manifest_from_another_model_is_rejected(tiny_export: Path, micro_export: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_export, tmp_path)
    shutil.copy(micro_export / MANIFEST_FILE, folder / MANIFEST_FILE)
    with pytest.raises(ExportFolderError, match="manifest comes from another export"):
        load_onnx_pipeline(folder)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "nothing-here", "gf export onnx --model"),
        (lambda d: d, "has no manifest.json, so it is not a gf ONNX export"),
        (lambda d: (d / MANIFEST_FILE).write_text("{oops") and d, "is not valid JSON"),
    ],
)
def test_not_an_export_folder_is_a_clear_error(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(ExportFolderError, match=message):
        load_onnx_pipeline(make(tmp_path))


def test_cli_reports_a_bad_export_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--backend", "onnx", "--model", "default", "--prompt", "x", "--chunks", "1"])
    assert code == 2
    assert "the onnx backend loads an export folder" in capsys.readouterr().err


def test_gf_loads_the_export_plugins_without_torch() -> None:
    """Every `gf` command loads the export and bench plugins to build its parser: they must stay light."""
    code = "import sys, export.cli, export.bench; sys.exit('torch' in sys.modules or 'onnx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_backends_are_plugins_of_the_runtime() -> None:
    assert available_backends() == ("torch", "onnx")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'; available: torch, onnx"):
        load_pipeline("micro-random", backend="tensorrt")
