"""The world frame classifier: the shipped weights read fresh frames; files load, fail clearly and reproduce."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from gf_runtime.world import BIOMES, COLORS, MOTIONS, SHAPES, WorldPrompt, WorldSim
from gf_runtime.world.classifier import (
    DEFAULT_PATH,
    HELD_OUT_SEED_BASE,
    AugmentConfig,
    ClassifierFileError,
    FrameClassifier,
    FramePredictions,
    augment,
    blur_frames,
    load_classifier,
    read_report,
    train_classifier,
    wrapped_distance,
)
from gf_runtime.world.render import FrameLabel

FRESH_SEED = 2 * HELD_OUT_SEED_BASE + 12_345  # neither a training nor a held-out evaluation world


@pytest.fixture(scope="module")
def shipped() -> FrameClassifier:
    return load_classifier()


@pytest.fixture(scope="module")
def fresh_frames() -> tuple[np.ndarray, list[FrameLabel]]:
    """One frame for every biome x shape x colour (night, motion and pan vary), from unseen seeds."""
    frames, labels = [], []
    for i, (biome, shape, color) in enumerate(itertools.product(BIOMES, SHAPES, COLORS)):
        prompt = WorldPrompt(biome=biome, shape=shape, color=color, night=i % 3 == 0, motion=MOTIONS[i % 4])
        world = WorldSim(prompt, seed=FRESH_SEED + i)
        for _ in range(i % 17):
            world.step()
        frame, label = world.step()
        frames.append(frame)
        labels.append(label)
    return np.stack(frames), labels


def _accuracy(p: FramePredictions, labels: list[FrameLabel]) -> dict[str, float]:
    return {
        "biome": float(np.mean([BIOMES[i] == lb.biome for i, lb in zip(p.biome, labels)])),
        "night": float(np.mean([n == lb.night for n, lb in zip(p.night, labels)])),
        "shape": float(np.mean([SHAPES[i] == lb.shape for i, lb in zip(p.shape, labels)])),
        "color": float(np.mean([COLORS[i] == lb.color for i, lb in zip(p.color, labels)])),
        "x_error_px": float(np.mean(wrapped_distance(p.x, [lb.x for lb in labels]))),
        "y_error_px": float(np.mean(np.abs(p.y - np.array([lb.y for lb in labels])))),
    }


def _assert_recognised(p: FramePredictions, labels: list[FrameLabel], min_shape: float) -> None:
    acc = _accuracy(p, labels)
    assert acc["biome"] == 1.0 and acc["night"] == 1.0 and acc["color"] == 1.0, acc
    assert acc["shape"] >= min_shape, acc
    assert acc["x_error_px"] < 2.0 and acc["y_error_px"] < 2.0, acc


# --------------------------------------------------------------------------------------------- shipped weights
def test_shipped_classifier_recognises_every_biome_shape_and_colour(shipped: FrameClassifier, fresh_frames) -> None:
    frames, labels = fresh_frames
    _assert_recognised(shipped.predict(frames), labels, min_shape=0.97)


def test_shipped_classifier_recognises_blurred_frames(shipped: FrameClassifier, fresh_frames) -> None:
    frames, labels = fresh_frames
    blurred = blur_frames(frames, sigma=1.2)
    assert np.abs(blurred.astype(int) - frames.astype(int)).mean() > 2  # the blur did something
    _assert_recognised(shipped.predict(blurred), labels, min_shape=0.95)


def test_shipped_classifier_recognises_augmented_frames(shipped: FrameClassifier, fresh_frames) -> None:
    frames, labels = fresh_frames
    x_bchw = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    degraded_bchw = augment(x_bchw, torch.Generator().manual_seed(7), AugmentConfig())
    degraded = (degraded_bchw.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()
    _assert_recognised(shipped.predict(degraded), labels, min_shape=0.9)


def test_predictions_carry_probabilities_that_agree_with_the_classes(shipped: FrameClassifier, fresh_frames) -> None:
    frames, _ = fresh_frames
    p = shipped.predict(frames[:10], batch=3)
    assert p.biome_probs.shape == (10, len(BIOMES)) and p.shape_probs.shape == (10, len(SHAPES))
    assert p.color_probs.shape == (10, len(COLORS)) and p.night.dtype == bool
    assert np.allclose(p.biome_probs.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(p.biome_probs.argmax(axis=1), p.biome)
    assert np.array_equal(p.night, p.night_prob > 0.5)
    assert np.all((p.x >= 0) & (p.x < 64) & (p.y >= 0) & (p.y <= 64))
    same = shipped.predict(frames[:10], batch=256)
    assert np.allclose(same.biome_probs, p.biome_probs, atol=1e-5)  # batching does not change the answer


def test_shipped_file_is_small_and_met_its_accuracy_targets() -> None:
    assert DEFAULT_PATH.stat().st_size < 2_000_000
    report = read_report()
    assert report is not None
    augmented = report["augmented"]
    assert augmented["biome"] >= 0.98 and augmented["color"] >= 0.98 and augmented["night"] >= 0.98, augmented
    assert augmented["shape"] >= 0.95, augmented
    assert augmented["x_error_px"] < 3 and augmented["y_error_px"] < 3, augmented


def test_predict_rejects_frames_of_the_wrong_type_or_shape(shipped: FrameClassifier) -> None:
    with pytest.raises(ValueError, match="uint8"):
        shipped.predict(np.zeros((2, 64, 64, 3), np.float32))
    with pytest.raises(ValueError, match=r"frames\[None\]"):
        shipped.predict(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 64, 64, 3\)"):
        shipped.predict(np.zeros((2, 3, 64, 64), np.uint8))


def test_predict_leaves_the_training_mode_as_it_was(fresh_frames) -> None:
    model = load_classifier()
    model.train()
    model.predict(fresh_frames[0][:2])
    assert model.training


# --------------------------------------------------------------------------------------------- files
def test_corrupt_classifier_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "world_classifier.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header at all")
    with pytest.raises(ClassifierFileError, match="not a readable safetensors file.*retrain"):
        load_classifier(bad)


def test_truncated_classifier_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(DEFAULT_PATH.read_bytes()[:5000])
    with pytest.raises(ClassifierFileError, match=str(bad.name)):
        load_classifier(bad)


def test_safetensors_file_that_is_not_a_classifier_is_a_clear_error(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other))
    with pytest.raises(ClassifierFileError, match="without world classifier metadata"):
        load_classifier(other)


def test_missing_classifier_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
        load_classifier(tmp_path / "nowhere.safetensors")


# --------------------------------------------------------------------------------------------- training
def test_short_training_run_writes_a_file_that_reloads_with_identical_predictions(
    tmp_path: Path, fresh_frames
) -> None:
    frames = fresh_frames[0][:8]
    kwargs = dict(steps=3, batch=4, progress=False, eval_frames=8)
    report_a = train_classifier(tmp_path / "a.safetensors", seed=1, **kwargs)
    report_b = train_classifier(tmp_path / "b.safetensors", seed=1, **kwargs)
    train_classifier(tmp_path / "c.safetensors", seed=2, **kwargs)
    a, b, c = (load_classifier(tmp_path / f"{n}.safetensors").predict(frames) for n in "abc")
    # same seed: same weights, same predictions, same report (timings aside)
    for field in ("biome_probs", "shape_probs", "color_probs", "night_prob", "x", "y"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert report_a["final_loss"] == report_b["final_loss"] and report_a["clean"] == report_b["clean"]
    # another seed trains another model
    assert not np.array_equal(a.biome_probs, c.biome_probs)
    # the report says what it measured
    assert report_a["steps"] == 3 and report_a["seconds"] >= 0
    for part in ("clean", "augmented"):
        assert set(report_a[part]) == {"biome", "night", "shape", "color", "x_error_px", "y_error_px"}
    assert read_report(tmp_path / "a.safetensors")["clean"] == report_a["clean"]


def test_training_leaves_the_global_rng_and_thread_count_alone(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_classifier(tmp_path / "w.safetensors", steps=1, batch=2, progress=False, eval_frames=2)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
