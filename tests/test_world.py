"""The procedural world: the prompt parser and the renderer's frames and ground-truth labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gf_runtime.world import BIOMES, COLORS, SHAPES, WorldPrompt, WorldSim, parse_prompt
from gf_runtime.world.render import BOUNCE_HEIGHT_FRACTION, FRAME_SIZE, SUBJECT_RGB, SUBJECT_SPEED


def _wrapped_delta(after: float, before: float, size: int = FRAME_SIZE) -> float:
    """Signed x change along the wrapping frame width, in (-size/2, size/2]."""
    return (after - before + size / 2) % size - size / 2


def _attributes(world: WorldSim) -> WorldPrompt:
    """The world's current attributes, without the last prompt's unknown words."""
    return dataclasses.replace(world.attrs, unknown_words=())


def _full(**named: object) -> WorldPrompt:
    """A prompt naming every attribute (defaults overridden by ``named``)."""
    base = dict(biome="grassland", night=False, shape="ball", color="red", motion="still", pan="none")
    base.update(named)
    return WorldPrompt(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- parser
def test_parser_reads_subject_motion_and_biome_from_a_free_sentence() -> None:
    p = parse_prompt("a red ball bouncing in a desert")
    assert (p.color, p.shape, p.motion, p.biome) == ("red", "ball", "bounces", "desert")
    assert p.night is None and p.pan is None and p.unknown_words == ()


def test_parser_gives_a_direction_after_a_pan_word_to_the_camera() -> None:
    p = parse_prompt("camera pans left over the snowy field at night")
    assert p.pan == "left" and p.night is True
    assert p.motion is None and p.shape is None and p.color is None and p.unknown_words == ()


def test_parser_keeps_the_biome_adjective_in_snowy_field() -> None:
    assert parse_prompt("camera pans left over the snowy field at night").biome == "snow"


def test_parser_gives_a_direction_without_a_pan_word_to_the_subject() -> None:
    p = parse_prompt("the blue cube rolling right through the city")
    assert (p.color, p.shape, p.motion, p.biome, p.pan) == ("blue", "cube", "right", "city", None)


def test_parser_reports_unknown_words_in_order() -> None:
    p = parse_prompt("a purple ball flying over the ocean with dragons")
    assert p.unknown_words == ("purple", "flying", "dragons")
    assert (p.shape, p.biome, p.color) == ("ball", "ocean", None)


def test_parser_reads_synonyms_and_static_camera() -> None:
    p = parse_prompt("A Yellow sphere hopping across the dunes, static camera, midnight.")
    assert (p.color, p.shape, p.motion, p.biome) == ("yellow", "ball", "bounces", "desert")
    assert (p.pan, p.night) == ("none", True)


def test_prompt_text_parses_back_to_the_same_prompt() -> None:
    for prompt in (_full(), _full(biome="lava", night=True, shape="star", color="green", motion="left", pan="right"),
                   WorldPrompt(shape="triangle", pan="left"), WorldPrompt(biome="ocean", motion="bounces")):
        assert parse_prompt(prompt.text()) == prompt


# --------------------------------------------------------------------------------------------- prompts and labels
@pytest.mark.parametrize("biome", BIOMES)
def test_labels_match_the_prompt_attributes(biome: str) -> None:
    prompt = _full(biome=biome, night=True, shape="triangle", color="yellow", motion="bounces", pan="left")
    _, labels = WorldSim(prompt, seed=3).clip(4)
    for label in labels:
        assert (label.biome, label.night, label.shape, label.color, label.motion, label.pan) == (
            biome, True, "triangle", "yellow", "bounces", "left")
    assert [label.t for label in labels] == [0, 1, 2, 3]


def test_unnamed_attributes_are_chosen_by_the_seed_and_named_ones_are_kept() -> None:
    a = WorldSim("a green star", seed=1).label()
    b = WorldSim("a green star", seed=1).label()
    assert a == b and (a.shape, a.color) == ("star", "green")
    others = {WorldSim("a green star", seed=s).label().biome for s in range(20)}
    assert len(others) > 1  # the seed picks the biome


def test_identity_persists_when_only_the_biome_changes() -> None:
    world = WorldSim("a blue cube moving left in the grassland at night, camera pans right", seed=5)
    world.clip(3)
    parsed = world.set_prompt("in the lava")
    assert parsed.biome == "lava" and parsed.shape is None
    label = world.label()
    assert (label.biome, label.shape, label.color, label.motion, label.pan, label.night) == (
        "lava", "cube", "blue", "left", "right", True)


def test_set_prompt_changes_only_what_it_names() -> None:
    world = WorldSim(_full(), seed=0)
    world.set_prompt("a star bouncing")
    world.set_prompt("by day with a static camera")
    assert _attributes(world) == _full(shape="star", motion="bounces")


def test_unknown_words_are_reported_by_set_prompt_and_change_nothing() -> None:
    world = WorldSim(_full(), seed=0)
    parsed = world.set_prompt("teleporting unicorns")
    assert parsed.unknown_words == ("teleporting", "unicorns")
    assert _attributes(world) == _full()


# --------------------------------------------------------------------------------------------- motion
def test_subject_moving_left_decreases_x_modulo_the_width() -> None:
    _, labels = WorldSim(_full(motion="left"), seed=2).clip(60)  # more than one wrap around the frame
    steps = [_wrapped_delta(b.x, a.x) for a, b in zip(labels, labels[1:])]
    assert np.allclose(steps, -SUBJECT_SPEED)
    assert any(b.x > a.x for a, b in zip(labels, labels[1:]))  # it wrapped
    assert all(0 <= lb.x < FRAME_SIZE for lb in labels)


def test_subject_moving_right_increases_x_modulo_the_width() -> None:
    _, labels = WorldSim(_full(motion="right"), seed=2).clip(60)
    assert np.allclose([_wrapped_delta(b.x, a.x) for a, b in zip(labels, labels[1:])], SUBJECT_SPEED)
    assert all(0 <= lb.x < FRAME_SIZE for lb in labels)


def test_bouncing_subject_moves_up_and_down_in_place() -> None:
    world = WorldSim(_full(motion="bounces"), seed=2)
    _, labels = world.clip(30)
    ys = np.array([lb.y for lb in labels])
    assert len({lb.x for lb in labels}) == 1
    assert ys.max() - ys.min() > 0.2 * FRAME_SIZE
    assert np.all(ys <= world.ground_y() + 1e-6)  # never below the ground


@pytest.mark.parametrize("height", [0.0, 0.3, 1.0])
def test_place_in_bounce_puts_the_subject_at_that_height_and_it_keeps_bouncing(height: float) -> None:
    world = WorldSim(_full(motion="bounces"), seed=5)
    world.place_in_bounce(height)
    assert world.label().y == pytest.approx(world.ground_y() - height * BOUNCE_HEIGHT_FRACTION * FRAME_SIZE)
    _, labels = world.clip(12)
    assert max(lb.y for lb in labels) - min(lb.y for lb in labels) > 0.2 * FRAME_SIZE


def test_place_in_bounce_refuses_a_subject_that_does_not_bounce_and_heights_outside_the_bounce() -> None:
    with pytest.raises(ValueError, match="bounces"):
        WorldSim(_full(motion="still"), seed=0).place_in_bounce(0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        WorldSim(_full(motion="bounces"), seed=0).place_in_bounce(1.5)


def test_still_subject_keeps_its_position() -> None:
    _, labels = WorldSim(_full(motion="still", pan="left"), seed=2).clip(10)
    assert len({(lb.x, lb.y) for lb in labels}) == 1


def test_subject_lands_when_it_stops_bouncing() -> None:
    world = WorldSim(_full(motion="bounces"), seed=4)
    ground = world.ground_y()
    world.clip(3)
    assert world.label().y < ground
    world.set_prompt("still")
    world.step()
    assert world.label().y == ground


def _background_shift(a: np.ndarray, b: np.ndarray, rows: slice) -> int:
    """The horizontal shift s (pixels) that best maps frame a's rows onto frame b's: b[:, c] ≈ a[:, c + s]."""
    errors = {s: np.abs(b[rows, 8:-8].astype(int) - np.roll(a, -s, axis=1)[rows, 8:-8].astype(int)).mean()
              for s in range(-4, 5)}
    return min(errors, key=errors.__getitem__)


@pytest.mark.parametrize("pan, direction", [("left", -1), ("right", 1)])
def test_pan_scrolls_the_background_but_not_the_subject(pan: str, direction: int) -> None:
    world = WorldSim(_full(biome="city", pan=pan, motion="still"), seed=7)
    frames, labels = world.clip(3)
    assert labels[0].x == labels[2].x and labels[0].y == labels[2].y
    # camera moves 2 × 1.5 = 3 px: scenery seen at column c + 3·direction moves to column c
    assert _background_shift(frames[0], frames[2], slice(0, 20)) == 3 * direction
    # the subject's pixels stay put
    rows, cols = np.nonzero(np.all(frames[0] == SUBJECT_RGB["red"], axis=-1))
    assert len(rows) > 20
    assert np.all(np.all(frames[2][rows, cols] == SUBJECT_RGB["red"], axis=-1))


def test_static_camera_keeps_the_background() -> None:
    frames, _ = WorldSim(_full(biome="city", pan="none"), seed=7).clip(3)
    assert np.array_equal(frames[0], frames[2])


def test_scene_cut_changes_the_background_and_keeps_the_subject() -> None:
    world = WorldSim(_full(biome="city", shape="star", color="green", motion="bounces"), seed=8)
    before_frame, before = world.step()
    world.scene_cut()
    after_frame, after = world.step()
    assert (after.biome, after.shape, after.color, after.motion, after.x) == (
        before.biome, before.shape, before.color, before.motion, before.x)
    changed = np.any(after_frame[:30] != before_frame[:30], axis=-1)  # the skyline, above the subject
    assert changed.mean() > 0.2


# --------------------------------------------------------------------------------------------- frames
def test_same_seed_gives_identical_frames_and_another_seed_differs() -> None:
    a, la = WorldSim("a ball in the snow", seed=11).clip(5)
    b, lb = WorldSim("a ball in the snow", seed=11).clip(5)
    c, _ = WorldSim("a ball in the snow", seed=12).clip(5)
    assert np.array_equal(a, b) and la == lb
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("biome", BIOMES)
def test_frames_are_uint8_rgb_of_the_frame_size(biome: str) -> None:
    frames, _ = WorldSim(biome, seed=0).clip(2)
    assert frames.dtype == np.uint8 and frames.shape == (2, FRAME_SIZE, FRAME_SIZE, 3)
    assert frames.std() > 5  # not a blank frame


@pytest.mark.parametrize("color", COLORS)
@pytest.mark.parametrize("shape", SHAPES)
def test_subject_colour_is_drawn_at_the_labelled_position(shape: str, color: str) -> None:
    world = WorldSim(_full(biome="ocean", shape=shape, color=color, motion="bounces"), seed=6)
    world.clip(2)
    frame, label = world.step()
    rows, cols = np.nonzero(np.all(frame == SUBJECT_RGB[color], axis=-1))
    assert len(rows) > 30
    assert abs(rows.mean() - label.y) < 3 and abs(cols.mean() - label.x) < 3


def test_subject_is_drawn_across_the_frame_edge_when_it_wraps() -> None:
    world = WorldSim(_full(shape="cube", color="blue", motion="right"), seed=0)
    while not (FRAME_SIZE - 3 < world.label().x or world.label().x < 3):
        world.step()
    frame, label = world.step()
    cols = np.nonzero(np.all(frame == SUBJECT_RGB["blue"], axis=-1))[1]
    assert cols.min() == 0 and cols.max() == FRAME_SIZE - 1


def test_night_dims_the_subject_colour() -> None:
    frame, label = WorldSim(_full(color="green", night=True), seed=1).step()
    night_rgb = np.array(SUBJECT_RGB["green"], np.float32) * 0.8
    cy, cx = int(round(label.y)), int(round(label.x))
    assert np.abs(frame[cy, cx].astype(np.float32) - night_rgb).max() <= 1


@pytest.mark.parametrize("biome", BIOMES)
def test_night_frames_are_darker_than_day_frames_of_the_same_biome(biome: str) -> None:
    day, _ = WorldSim(_full(biome=biome, night=False), seed=9).clip(2)
    night, _ = WorldSim(_full(biome=biome, night=True), seed=9).clip(2)
    assert night.mean() < 0.7 * day.mean()
