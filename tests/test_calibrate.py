"""`avatar-driver calibrate` and `run --calibration` as real subprocesses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from avatar_driver.solver import load_profile
from tests.conftest import run_cli

pytestmark = pytest.mark.model


@pytest.fixture
def clip(model: Path, media: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real clip, with the real model for the commands (skips, or fails in CI, when
    either is missing)."""
    monkeypatch.setenv("AVATAR_DRIVER_MODEL", str(model))
    return media / "single_face.mp4"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args)


def test_calibrate_clip_then_run_with_the_profile(clip: Path, tmp_path: Path) -> None:
    profile = tmp_path / "me.toml"
    r = _cli("calibrate", "--source", str(clip), "--out", str(profile), "--neutral-seconds", "0.5")
    assert r.returncode == 0, r.stderr
    assert "profile written" in r.stdout
    p = load_profile(profile)
    assert p.frames == 15 and p.shapes["browInnerUp"][0] > 0.2
    out = tmp_path / "take.csv"
    r = _cli(
        "run", "--source", str(clip), "--calibration", str(profile),
        "--output", f"csv:{out}", "--fast", "--quiet", "--dynamics", "none",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0


def test_bad_profile_exits_2_naming_file_and_field(clip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[shapes]\nmouthSmileLeft = [0.2, 1.5]\n")
    r = _cli("run", "--source", str(clip), "--calibration", str(bad), "--output", "none",
             "--fast", "--quiet", "--max-frames", "2")  # fmt: skip
    assert r.returncode == 2
    assert str(bad) in r.stderr and "shapes" in r.stderr and "mouthSmileLeft" in r.stderr
    assert "Traceback" not in r.stderr


def test_calibrate_rejects_bad_options(clip: Path, tmp_path: Path) -> None:
    r = _cli("calibrate", "--source", str(clip), "--out", str(tmp_path / "p.toml"),
             "--neutral-seconds", "-1")  # fmt: skip
    assert r.returncode == 2 and "--neutral-seconds" in r.stderr
    r = _cli("calibrate", "--source", "demo", "--out", str(tmp_path / "p.toml"))
    assert r.returncode == 2 and "camera or a video" in r.stderr


def test_auto_calibrate_runs(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "take.csv"
    r = _cli("run", "--source", str(clip), "--auto-calibrate", "--output", f"csv:{out}",
             "--fast", "--quiet")  # fmt: skip
    assert r.returncode == 0, r.stderr
