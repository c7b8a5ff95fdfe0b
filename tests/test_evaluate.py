"""The long-horizon metrics: exact on the renderer's own frames, and they notice what they should."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gf_runtime.cli import main
from gf_runtime import load_pipeline
from gf_runtime.config import PipelineSpec
from gf_runtime.engine.events import load_schedule, parse_schedule
from gf_runtime.engine.stream import opening_prompt
from gf_runtime.world.classifier import load_classifier
from gf_runtime.world.evaluate import (UNCOUNTABLE_SUBJECTS, chunk_motion, count_subjects, extra_subject_share, moving_average,
                                      render_truth, schedule_targets, score_stream, stream_chunks)
from gf_runtime.world.prompt import BIOMES, COLORS, SHAPES, WorldPrompt, parse_prompt
from gf_runtime.world.render import WorldSim

SCHEDULE = parse_schedule(
    [
        {"at_chunk": 0, "text": "a red ball bouncing in the grassland by day with a static camera"},
        {"at_chunk": 6, "text": "the desert"},
        {"at_chunk": 12, "text": "moving left"},
        {"at_chunk": 18, "text": "snowy field"},
    ]
)
HORIZON, CHUNK = 12, 3


def test_stream_runs_ten_horizons_or_past_the_last_event() -> None:
    assert stream_chunks(SCHEDULE, HORIZON, CHUNK) == 40
    late = parse_schedule([{"at_chunk": 0, "text": "ball"}, {"at_chunk": 50, "text": "snow"}])
    assert stream_chunks(late, HORIZON, CHUNK) == 54


def test_targets_merge_named_attributes_over_time() -> None:
    targets = schedule_targets(SCHEDULE, 24)
    assert targets.switch_chunks == [6, 12, 18]
    assert targets.switch_changes == [("biome",), ("motion",), ("biome",)]
    last = targets.prompts[-1]
    assert (last.biome, last.color, last.shape, last.motion) == ("snow", "red", "ball", "left")


def test_the_renderer_itself_scores_perfectly() -> None:
    n_chunks = stream_chunks(SCHEDULE, HORIZON, CHUNK)
    truth = render_truth(SCHEDULE, n_chunks, CHUNK, seed=0)
    pred = load_classifier().predict(truth)
    result = score_stream(truth, pred, schedule_targets(SCHEDULE, n_chunks), truth, HORIZON, CHUNK)
    assert result.consistency > 0.95 and result.consistency_late > 0.95 and result.identity > 0.95
    assert result.drift == pytest.approx(0.0, abs=1e-6)
    assert result.switch_response_chunks == 0.0
    assert result.switch_smoothness < 20
    assert result.extra_subject == 0.0


def _world(biome: str, night: bool, color: str, shape: str, seed: int) -> WorldSim:
    return WorldSim(WorldPrompt(biome=biome, night=night, color=color, shape=shape, motion="still", pan="left"), seed=seed)


def _one_and_two_subjects(sim: WorldSim) -> tuple[np.ndarray, np.ndarray]:
    """A frame with the subject at x = 16, and the same frame with a second one at x = 46 (the same background)."""
    sim.state.x = 16.0
    one = sim.render()
    sim.state.x = 46.0
    return one, np.concatenate([one[:, :32], sim.render()[:, 32:]], axis=1)


def _countable() -> list[tuple[str, bool, str, str]]:
    return [(b, n, c, s) for b in BIOMES for n in (False, True) for c in COLORS for s in SHAPES
            if (b, c) not in UNCOUNTABLE_SUBJECTS]


def test_one_subject_is_counted_once_anywhere_in_the_frame() -> None:
    wrong = []
    for k, (biome, night, color, shape) in enumerate(_countable()):
        sim = _world(biome, night, color, shape, seed=k)
        for x in (0.0, 8.0, 32.0, 60.0):  # 0 and 60: the subject wraps around the frame's edge
            sim.state.x = x
            if count_subjects(sim.render(), color, night, biome) != 1:
                wrong.append((biome, night, color, shape, x))
    assert not wrong, wrong


def test_a_second_subject_is_counted() -> None:
    missed = []
    for k, (biome, night, color, shape) in enumerate(_countable()):
        _, two = _one_and_two_subjects(_world(biome, night, color, shape, seed=k))
        if count_subjects(two, color, night, biome) != 2:
            missed.append((biome, night, color, shape))
    assert not missed, missed


def test_extra_subject_share_counts_frames_and_skips_uncountable_ones() -> None:
    one, two = _one_and_two_subjects(_world("grassland", False, "red", "ball", seed=0))
    red_ball = WorldPrompt(biome="grassland", night=False, color="red", shape="ball")
    assert extra_subject_share(np.stack([one, two, two, one]), [red_ball] * 4) == 0.5
    in_lava = WorldPrompt(biome="lava", night=False, color="red", shape="ball")
    assert extra_subject_share(np.stack([two, one]), [in_lava, red_ball]) == 0.0  # the lava frame is left out


@pytest.mark.parametrize(
    ("opening", "switch", "expected"),
    [("a ball bouncing", "still", "still"), ("a ball bouncing", "moving left", "left"),
     ("a ball bouncing", "moving right", "right"), ("a still ball", "bouncing", "bounces")],
)
def test_chunk_motion_reads_the_first_chunk_after_a_motion_switch(opening: str, switch: str, expected: str) -> None:
    # the first frame after a switch still shows where the old motion left the subject (a bounce lands between
    # the first and second frame); every phase of the bounce is tried
    classifier = load_classifier()
    for seed in range(12):
        sim = WorldSim(opening + " in the grassland with a static camera", seed=seed)
        sim.advance(seed)
        sim.set_prompt(switch)
        frames, _ = sim.clip(CHUNK)
        assert chunk_motion(classifier.predict(frames), slice(0, CHUNK)) == expected, seed


def test_chunk_motion_reads_every_chunk_of_a_bounce_including_its_apex() -> None:
    # near the apex the subject hardly moves within a chunk; it is still off the ground
    sim = WorldSim("a blue cube bouncing in the desert with a static camera", seed=3)
    frames, _ = sim.clip(CHUNK * 24)  # several whole bounces
    pred = load_classifier().predict(frames)
    motions = [chunk_motion(pred, slice(c * CHUNK, (c + 1) * CHUNK)) for c in range(24)]
    assert motions == ["bounces"] * 24


def test_plotted_curves_do_not_dip_at_the_ends() -> None:
    # the per-chunk curves are smoothed for the PNG; a flat curve must stay flat up to its first and last chunk
    flat = np.full(10, 0.9)
    assert np.allclose(moving_average(flat, 3), flat)
    assert np.allclose(moving_average(np.array([0.0, 3.0, 0.0, 3.0]), 3), [1.5, 1.0, 2.0, 1.5])


def test_metrics_notice_a_stream_that_ignores_the_switches() -> None:
    n_chunks = stream_chunks(SCHEDULE, HORIZON, CHUNK)
    truth = render_truth(SCHEDULE, n_chunks, CHUNK, seed=0)
    frozen = SCHEDULE[:1]  # the opening prompt only
    stuck = render_truth(frozen, n_chunks, CHUNK, seed=0)
    pred = load_classifier().predict(stuck)
    result = score_stream(stuck, pred, schedule_targets(SCHEDULE, n_chunks), truth, HORIZON, CHUNK)
    assert result.consistency_late < 0.1  # still grassland when snow was asked for
    assert result.identity > 0.95  # …but the subject itself is right
    assert result.switch_response_chunks >= 5
    assert result.drift > 0.01


def test_eval_long_cli_writes_table_json_and_plot(tmp_path, capsys) -> None:
    schedule = tmp_path / "schedule.json"
    schedule.write_text(json.dumps([{"at_chunk": 0, "text": "a red ball in the desert"}, {"at_chunk": 3, "text": "snow"}]))
    code = main(["eval", "long", "--model", "default", "--schedule", str(schedule), "--policies", "grounded,self_forcing",
                 "--out", str(tmp_path / "eval"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["horizon_frames"] == 12 and report["stream_frames"] >= 120
    assert set(report["policies"]) == {"grounded", "self_forcing"}
    for row in report["policies"].values():
        assert {"consistency_early", "consistency_late", "consistency", "identity", "drift",
                "switch_response_chunks", "switch_smoothness"} <= set(row)
    assert all((tmp_path / "eval" / f"eval_long.{ext}").is_file() for ext in ("json", "md", "png"))
    curves = json.loads((tmp_path / "eval" / "eval_long_curves.json").read_text())
    n_chunks = report["stream_frames"] // curves["chunk_frames"]
    for name, row in report["policies"].items():
        per_chunk = curves["policies"][name]["consistency"]
        assert len(per_chunk) == n_chunks  # the curve the plot draws: one value per chunk, its mean the figure
        assert float(np.mean(per_chunk)) == pytest.approx(row["consistency"], abs=1e-6)


def test_eval_long_over_several_seeds_reports_their_means(tmp_path, capsys) -> None:
    schedule = tmp_path / "schedule.json"
    schedule.write_text(json.dumps([{"at_chunk": 0, "text": "a blue cube in the city"}, {"at_chunk": 2, "text": "lava"}]))
    reports = []
    for seeds in ("0", "1", "0,1"):
        assert main(["eval", "long", "--model", "default", "--schedule", str(schedule), "--policies", "grounded",
                     "--seeds", seeds, "--out", str(tmp_path / seeds), "--json"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    single = [r["policies"]["grounded"] for r in reports[:2]]
    both = reports[2]
    assert both["seeds"] == [0, 1]
    for metric in ("consistency", "drift", "identity"):
        assert both["per_seed"]["grounded"][metric] == pytest.approx([s[metric] for s in single])
        assert both["policies"]["grounded"][metric] == pytest.approx((single[0][metric] + single[1][metric]) / 2)


def test_eval_long_with_carried_over_prompts_is_the_schedule_with_each_prompt_restated(tmp_path, capsys) -> None:
    events = [{"at_chunk": 0, "text": "a yellow star moving left in the snow"}, {"at_chunk": 2, "text": "the ocean"}]
    restated = [events[0], {"at_chunk": 2, "text": "a yellow star moving left in the ocean"}]
    reports = {}
    for name, schedule_events, flags in (("carried", events, ["--carry-over-prompts"]), ("restated", restated, []),
                                         ("plain", events, [])):
        schedule = tmp_path / f"{name}.json"
        schedule.write_text(json.dumps(schedule_events))
        assert main(["eval", "long", "--model", "default", "--schedule", str(schedule), "--policies", "grounded",
                     "--out", str(tmp_path / name), "--json", *flags]) == 0
        reports[name] = json.loads(capsys.readouterr().out)
    assert reports["carried"]["carry_over_prompts"] is True and reports["plain"]["carry_over_prompts"] is False
    assert reports["carried"]["policies"] == reports["restated"]["policies"]  # the same text conditioned every chunk
    assert reports["carried"]["policies"] != reports["plain"]["policies"]


SHIPPED_SCHEDULES = sorted(Path(__file__).resolve().parents[1].glob("examples/eval_schedule*.json"))


def test_the_shipped_eval_schedules_are_all_found() -> None:
    # the parametrized test below collects nothing if the glob finds nothing
    names = {p.name for p in SHIPPED_SCHEDULES}
    assert {"eval_schedule.json", "eval_schedule_long.json", "eval_schedule_cube.json"} <= names


@pytest.fixture(scope="module")
def default_spec() -> PipelineSpec:
    return load_pipeline("default").spec


@pytest.mark.parametrize("path", SHIPPED_SCHEDULES, ids=lambda p: p.name)
def test_shipped_eval_schedules_name_the_identity_once_and_the_renderer_passes_them(
    path: Path, default_spec: PipelineSpec
) -> None:
    horizon, chunk = default_spec.horizon_frames, default_spec.sampler.chunk_frames
    schedule = load_schedule(path)
    opening = parse_prompt(opening_prompt(None, schedule))
    assert opening.shape is not None and opening.color is not None
    switches = [e for e in schedule if e.at_chunk > 0 and e.text is not None]
    for event in switches:
        named = parse_prompt(event.text or "")
        assert named.shape is None and named.color is None, f"{path.name}: {event.text!r} renames the subject"
    # identity must persist across switches past the training horizon, not only inside it
    assert max(e.at_chunk for e in switches) * chunk >= horizon
    n_chunks = stream_chunks(schedule, horizon, chunk)
    targets = schedule_targets(schedule, n_chunks)
    classifier = load_classifier()
    responses = []
    for seed in range(4):
        truth = render_truth(schedule, n_chunks, chunk, seed=seed)
        result = score_stream(truth, classifier.predict(truth), targets, truth, horizon, chunk)
        assert result.consistency > 0.95 and result.identity > 0.95
        responses.append(result.switch_response_chunks)
    # The renderer follows every switch at once; the motion reader misreads the odd chunk of it (a bounce resumed
    # just before its landing, a two-frame landing), which adds a chunk of delay to a switch now and then: on 16
    # seeds at most one chunk over a schedule's switches (a mean of 1/6 on the six-switch cube and star schedules,
    # 0.08 on the long one; EVAL.md). A reader or renderer that lags a whole chunk on every switch scores >= 1.
    assert max(responses) <= 1 / 3 and float(np.mean(responses)) <= 1 / 6
