"""The shipped default world: it loads, its VAE round-trips, and its frames are recognised by the classifier."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gf_runtime import CheckpointError, load_pipeline
from gf_runtime.engine.pipeline import Pipeline
from gf_runtime.world import BIOMES, COLORS, SHAPES, WorldSim
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.files import DEFAULT_MODEL_DIR, MODEL_FILE, TEXT_FILE, VAE_FILE
from gf_runtime.world.text import WorldTextEncoder
from gf_runtime.world.train import WORLD_RECIPES, config_fields
from gf_runtime.world.vae import TinyVae

VAE_MAX_MEAN_ABS_ERROR = 12.0  # grey levels, over rendered frames of every biome
SHIPPED_MAX_BYTES = 25 * 2**20


@pytest.fixture(scope="module")
def default_pipe() -> Pipeline:
    return load_pipeline("default")


def test_shipped_default_model_is_complete_and_small() -> None:
    files = [DEFAULT_MODEL_DIR / name for name in (MODEL_FILE, VAE_FILE, TEXT_FILE, "MODEL_CARD.md", "loss.png")]
    assert all(f.is_file() for f in files), [str(f) for f in files if not f.is_file()]
    total = sum(f.stat().st_size for f in DEFAULT_MODEL_DIR.iterdir())
    assert total <= SHIPPED_MAX_BYTES


def test_default_pipeline_loads_with_its_own_spec(default_pipe: Pipeline) -> None:
    spec = default_pipe.spec
    assert spec.model.num_layers == 6 and spec.model.dim == 192
    assert spec.latent.pixel_size == (64, 64) and spec.horizon_frames == 12
    assert isinstance(default_pipe.codec, TinyVae) and isinstance(default_pipe.text_encoder, WorldTextEncoder)


def test_vae_round_trip_error_is_bounded() -> None:
    vae = TinyVae.load(DEFAULT_MODEL_DIR / VAE_FILE)
    frames = np.stack(
        [WorldSim(f"a {COLORS[i % 4]} {SHAPES[i % 4]} in the {biome}", seed=1000 + i).clip(4)[0] for i, biome in enumerate(BIOMES)]
    )  # (6, 4, 64, 64, 3)
    latents = vae.encode(frames)
    assert latents.shape == (6, 4, 16, 8, 8)
    recon = vae.decode(latents)
    error = np.abs(recon.astype(np.float32) - frames.astype(np.float32)).mean()
    assert error < VAE_MAX_MEAN_ABS_ERROR
    assert abs(float(latents.mean())) < 0.5 and 0.5 < float(latents.std()) < 2.0  # normalised latents


def test_vae_round_trip_keeps_what_the_classifier_sees() -> None:
    vae = TinyVae.load(DEFAULT_MODEL_DIR / VAE_FILE)
    clf = load_classifier()
    frames, labels = WorldSim("a blue star moving left in the city at night", seed=77).clip(8)
    pred = clf.predict(vae.decode(vae.encode(frames[None]))[0])
    assert (pred.biome == BIOMES.index("city")).mean() >= 0.75
    assert (pred.color == COLORS.index("blue")).mean() >= 0.75


@pytest.mark.parametrize("biome", ["grassland", "desert", "snow", "city"])
def test_short_generation_is_recognised_as_the_prompted_biome(default_pipe: Pipeline, biome: str) -> None:
    clf = load_classifier()
    with default_pipe.session(prompt=f"a red ball bouncing in the {biome} by day", seed=0) as s:
        frames = np.concatenate([s.next_chunk().frames for _ in range(4)])
    pred = clf.predict(frames)
    assert (pred.biome == BIOMES.index(biome)).mean() >= 0.75
    assert (pred.color == COLORS.index("red")).mean() >= 0.75  # the subject is drawn, in its colour


@pytest.mark.parametrize("biome", ["desert", "lava"])
def test_the_world_continues_from_a_seed_image(default_pipe: Pipeline, biome: str) -> None:
    """A game view written into memory (no biome in the prompt) decides where the stream goes on."""
    clf = load_classifier()
    with default_pipe.session(prompt="a red ball", seed=1) as s:
        before = clf.predict(s.next_chunk().frames)
        if np.bincount(before.biome).argmax() == BIOMES.index(biome):  # the seed chose this biome: move elsewhere
            biome = BIOMES[(BIOMES.index(biome) + 1) % len(BIOMES)]
        view_hw3 = WorldSim(f"a red ball in the {biome} by day", seed=3).render()
        s.seed_image(view_hw3.astype(np.float32) / 127.5 - 1.0)
        after = clf.predict(np.concatenate([s.next_chunk().frames for _ in range(3)]))
    assert (before.biome == BIOMES.index(biome)).mean() < 0.5  # it was somewhere else
    assert (after.biome == BIOMES.index(biome)).mean() >= 0.8


def test_a_corrupt_vae_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "vae.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="cannot read"):
        TinyVae.load(bad)
    text = tmp_path / "text.safetensors"
    from safetensors.torch import save_file

    save_file({"embedding.weight": torch.zeros(3, 4)}, str(text))
    with pytest.raises(CheckpointError, match="not a gf world text encoder"):
        WorldTextEncoder.load(text)


def test_model_card_records_training_time_and_machine() -> None:
    report = json.loads((DEFAULT_MODEL_DIR / "train_report.json").read_text())
    assert report["total_seconds"] == pytest.approx(report["vae_seconds"] + report["dit_seconds"], abs=60)
    assert "CPU" in report["machine"]
    assert "MODEL_CARD" not in report  # the card is its own file
    assert "loss.png" in (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()


def test_the_shipped_model_is_what_the_default_recipe_trains() -> None:
    report = json.loads((DEFAULT_MODEL_DIR / "train_report.json").read_text())
    recipe = dataclasses.replace(WORLD_RECIPES["default"], seed=report["config"]["seed"],
                                 bf16_autocast=report["config"]["bf16_autocast"])
    assert config_fields(report["config"]) == dataclasses.asdict(recipe)
    assert report["dit_steps_done"] == recipe.dit_steps
    assert "`gf train world --seed 0 --precision bf16`" in (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()


def test_unknown_words_are_reported(caplog: pytest.LogCaptureFixture) -> None:
    encoder = WorldTextEncoder.load(DEFAULT_MODEL_DIR / TEXT_FILE)
    with caplog.at_level("WARNING"):
        ids = encoder.token_ids("a purple dragon in the desert")
    assert len(ids) == 1  # only "desert" is understood
    assert "purple" in caplog.text and "dragon" in caplog.text


def test_carried_over_prompts_keep_the_subject_named_and_change_what_conditions_the_frames(
    default_pipe: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    opening = "a red ball bouncing in the grassland by day with a static camera"
    def stream(carry: bool) -> tuple[list[str], np.ndarray]:
        with default_pipe.session(prompt=opening, seed=2, carry_over_prompts=carry) as session:
            chunks = [session.next_chunk()]
            for text in ("the desert", "moving left", "the desert moving left"):
                session.set_prompt(text)
                chunks.append(session.next_chunk())
        return [c.prompt for c in chunks], np.concatenate([c.frames for c in chunks])
    carried, carried_frames = stream(True)
    plain, plain_frames = stream(False)
    assert plain[1:] == ["the desert", "moving left", "the desert moving left"]
    assert carried[1] == "by day a red ball bounces in the desert with a static camera"
    assert carried[2] == carried[3] == "by day a red ball moving left in the desert with a static camera"
    assert not np.array_equal(carried_frames[3:], plain_frames[3:])  # the composed text is what conditions
    assert np.array_equal(carried_frames[:3], plain_frames[:3])  # the opening is the same either way
    with caplog.at_level("WARNING"):  # the composed sentence leaves unknown words out: they are reported first
        composed = default_pipe.text_encoder.compose(opening, "a purple dragon in the lava")
    assert "purple" in caplog.text and "dragon" in caplog.text
    assert composed == "by day a red ball bounces in the lava with a static camera"


def test_a_session_refuses_to_carry_prompts_over_for_free_text_encoders() -> None:
    pipe = load_pipeline("tiny-random")
    with pytest.raises(ValueError, match="composes them.*reads free text: send whole prompts"):
        pipe.session(prompt="a castle", carry_over_prompts=True)
