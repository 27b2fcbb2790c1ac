"""One registry per extension point: lookups, the unknown-name error and `--help` agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from avatar_driver.cli import build_parser
from avatar_driver.dynamics import DYNAMICS, make_dynamics
from avatar_driver.errors import ConfigError, OutputError, SourceError
from avatar_driver.outputs import OUTPUTS, OutputOptions, create_output
from avatar_driver.registry import Registry
from avatar_driver.sources import FILE_TYPES, SOURCES, open_source


def _help(command: str) -> str:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    return " ".join(sub.format_help().split())


@pytest.mark.parametrize("command", ["run", "bench"])
def test_help_lists_every_registered_name(command: str) -> None:
    text = _help(command)
    for name in [*DYNAMICS, *SOURCES, *FILE_TYPES]:
        assert name in text, name
    if command == "run":
        for kind in OUTPUTS:
            assert f"{kind}: {OUTPUTS.help(kind)}" in text


def test_unknown_names_list_the_registered_ones() -> None:
    with pytest.raises(OutputError, match=r"unknown output kind 'vrchta'.*did you mean 'vrchat'"):
        create_output("vrchta:9000", OutputOptions())
    with pytest.raises(
        ConfigError, match=r"unknown dynamics 'kalman'; expected one of: cortical, one-euro, none"
    ):
        make_dynamics("kalman")


def test_a_registry_refuses_a_name_twice() -> None:
    reg: Registry[int] = Registry("thing", ConfigError)
    reg.add("a", 1, "the first")
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("a", 2)
    assert reg.get("a") == 1 and reg.help_text() == "a: the first"


def test_a_text_file_is_not_opened_as_a_video(tmp_path: Path) -> None:
    notes = tmp_path / "take.txt"
    notes.write_text("Timecode,BlendShapeCount\n")
    with pytest.raises(SourceError, match=r"take\.txt.*\.txt is not a file type.*\.csv take"):
        open_source(str(notes))


def test_a_folder_source_says_it_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a folder"):
        open_source(str(tmp_path))
