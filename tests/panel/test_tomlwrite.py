"""The config writer: whatever tomllib read from a config file reads back the same."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from avatar_driver.panel.tomlwrite import dumps_toml, write_toml

CONFIG = """
top = "a \\"quoted\\" value"
flag = true
when = 2026-01-02T03:04:05Z
[dynamics]
name = "cortical"
hold = 0.5
[dynamics.eyes]
rest_tau = 0.25
[solver.gain]
mouth = 1.5
[[outputs]]
kind = "vrchat"
ports = [9000, 9001]
[[outputs]]
kind = "csv"
"odd key" = -1e-7
"""


def test_a_config_round_trips_through_the_writer() -> None:
    data = tomllib.loads(CONFIG)
    assert tomllib.loads(dumps_toml(data)) == data


def test_special_floats_and_inline_tables() -> None:
    data = {"a": float("inf"), "b": -float("inf"), "c": {"x": [1.5, 2]}, "d": [{"k": 1}, 2]}
    back = tomllib.loads(dumps_toml(data))
    assert back["a"] == float("inf") and back["b"] == -float("inf")
    assert back["c"] == {"x": [1.5, 2]} and back["d"] == [{"k": 1}, 2]
    assert tomllib.loads(dumps_toml({"d": dt.date(2026, 1, 2)}))["d"] == dt.date(2026, 1, 2)


def test_what_toml_cannot_hold_is_refused_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("kept = 1\n")
    with pytest.raises(TypeError, match="cannot write object"):
        write_toml(path, {"x": object()})
    assert path.read_text() == "kept = 1\n"  # the old file is untouched


def test_write_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    write_toml(path, {"dynamics": {"name": "none"}}, header="# saved by the panel")
    assert path.read_text().startswith("# saved by the panel\n")
    assert tomllib.loads(path.read_text()) == {"dynamics": {"name": "none"}}
    assert not (tmp_path / "c.toml.tmp").exists()
