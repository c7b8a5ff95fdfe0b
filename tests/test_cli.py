"""`gf generate`: files, JSON report and events, through the real command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gf_runtime.cli import main
from gf_runtime.video import read_mp4_frame_count


def _generate(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code = main(["generate", "--model", "micro-random", "--prompt", "a red ball", "--chunks", "5", "--json", *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_generate_writes_video_frames_and_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video, frames_path = tmp_path / "out.mp4", tmp_path / "frames.npy"
    report = _generate(capsys, "--out", str(video), "--save-frames", str(frames_path))
    frames = np.load(frames_path)
    assert frames.dtype == np.uint8 and frames.shape == (15, 64, 64, 3)
    assert report["frames"] == 15 and len(report["chunk_ms"]) == 5 and report["fps"] > 0
    assert report["frames_sha256"] == hashlib.sha256(frames.tobytes()).hexdigest()
    assert report["horizon"] == 12 and report["max_temporal_position"] < 12
    assert report["cache_frames_max"] <= 9
    assert read_mp4_frame_count(video) == 15


def test_generate_applies_events_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = _generate(capsys)
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"at_chunk": 2, "text": "snow falls"}, {"at_chunk": 3, "scene_cut": True}]))
    switched = _generate(capsys, "--events", str(events))
    assert switched["frames_sha256"] != plain["frames_sha256"]
    assert len(switched["events_ms"]) >= 1
    again = _generate(capsys, "--events", str(events))
    assert again["frames_sha256"] == switched["frames_sha256"]


def test_event_at_chunk_zero_is_the_opening_prompt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"at_chunk": 0, "text": "a red ball"}]))
    code = main(["generate", "--model", "micro-random", "--chunks", "5", "--json", "--events", str(events)])
    assert code == 0
    from_events = json.loads(capsys.readouterr().out.strip())
    assert from_events["frames_sha256"] == _generate(capsys)["frames_sha256"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not valid JSON"),
        ('{"at_chunk": 1}', "expected a JSON list"),
        ('[{"at_chunk": -1, "text": "x"}]', "at_chunk must be a non-negative integer"),
        ('[{"at_chunk": 1, "txt": "x"}]', "unknown fields"),
        ('[{"at_chunk": 1}]', "needs a text"),
    ],
)
def test_bad_events_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    events = tmp_path / "events.json"
    events.write_text(content)
    code = main(["generate", "--model", "micro-random", "--prompt", "x", "--chunks", "1", "--events", str(events)])
    assert code == 2
    assert message in capsys.readouterr().err


def test_gf_console_script_runs(tmp_path: Path) -> None:
    gf = Path(sys.executable).with_name("gf")
    out = subprocess.run(
        [str(gf), "generate", "--model", "micro-random", "--prompt", "x", "--chunks", "2", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert json.loads(out.stdout)["frames"] == 6
