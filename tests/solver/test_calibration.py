"""Calibration profiles: round trip, application, and bad files named precisely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avatar_driver.errors import CalibrationError
from avatar_driver.frame import Frame
from avatar_driver.shapes import INDEX, N_SHAPES
from avatar_driver.solver import TrackingSolver, load_profile, profile_from_neutral, save_profile
from avatar_driver.solver.measures import DEFAULT_NEUTRAL, N_MEASURES


def _profile() -> object:
    rng = np.random.default_rng(0)
    w = rng.random((20, N_SHAPES)) * 0.1
    w[:, INDEX["browInnerUp"]] += 0.4
    m = np.tile(DEFAULT_NEUTRAL, (20, 1)) + rng.normal(0, 0.002, (20, N_MEASURES))
    return profile_from_neutral(w, m, source='clip "a"\\b')


def test_round_trip_and_apply(tmp_path: Path) -> None:
    profile = _profile()
    path = save_profile(profile, tmp_path / "me.toml")  # type: ignore[arg-type]
    back = load_profile(path)
    assert back.source == profile.source  # type: ignore[attr-defined]
    assert back.shapes == profile.shapes  # type: ignore[attr-defined]
    assert back.geometry == profile.geometry  # type: ignore[attr-defined]
    neutral, full = back.shapes["browInnerUp"]
    assert 0.4 < neutral < 0.5 and full == 1.0
    solver = TrackingSolver(back)
    raw = np.zeros(N_SHAPES, dtype=np.float32)
    raw[INDEX["browInnerUp"]] = (neutral + 1.0) / 2
    out = solver.remap(raw.astype(np.float64))
    assert out[INDEX["browInnerUp"]] == pytest.approx(0.5, abs=1e-4)
    np.testing.assert_allclose(solver.neutral_weights(), 0.0)
    # Frames without a face pass through untouched.
    f = Frame(timestamp=0.0)
    assert solver(f) is f


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("version = 2\n", "version"),
        ("[shapes]\nbrowInnerUp = [0.5, 0.3]\n", "shapes"),
        ("[shapes]\nbrowInnerUpp = [0.1, 1.0]\n", "browInnerUpp"),
        ("[shapes]\nbrowInnerUp = [0.1]\n", "shapes.browInnerUp"),
        ("[geometry]\nupperLidLeft = 9.0\n", "geometry"),
        ("[gain]\nmouths = 1.0\n", "mouths"),
        ("[gain]\nmouth = 9.0\n", "gain"),
        ("colour = 1\n", "colour"),
        ("[shapes\n", "not valid TOML"),
    ],
)
def test_bad_profiles_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(CalibrationError) as e:
        load_profile(p)
    assert str(p) in str(e.value) and field in str(e.value)
    assert e.value.exit_code == 2
    for theirs in ("Input should", "Extra inputs", "Field required", "Value error"):
        assert theirs not in str(e.value)  # our words, not pydantic's


def test_profile_errors_say_what_was_expected(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    for text, message in [
        ("version = 2\n", "version: expected 1, got 2"),
        ("colour = 1\n", "colour: unknown key; expected one of version, source"),
        ("frames = 'many'\n", "frames: expected a whole number, got 'many'"),
        ("[shapes]\nbrowInnerUp = [0.1]\n", "shapes.browInnerUp: too few items"),
    ]:
        p.write_text(text)
        with pytest.raises(CalibrationError) as e:
            load_profile(p)
        assert str(e.value).startswith(f"calibration profile {p}: {message}"), str(e.value)


def test_a_folder_given_as_a_profile_says_it_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="is a folder"):
        load_profile(tmp_path)


def test_missing_and_oversized_profiles(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="does not exist"):
        load_profile(tmp_path / "nope.toml")
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 300_000)
    with pytest.raises(CalibrationError, match="limit"):
        load_profile(big)
