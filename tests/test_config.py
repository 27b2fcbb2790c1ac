"""The typed config file: unknown tables and keys are errors naming the file; the command
line wins over the file, the file over the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from avatar_driver.config import ConfigFile, load_config
from avatar_driver.errors import ConfigError
from tests.conftest import run_cli


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "avatar.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[dynamcs]\nhold = 0.2\n", ["dynamcs: unknown key", "expected one of dynamics, solver"]),
        ("[solver]\ngian = 1\n", ["solver.gian: unknown key", "expected one of gain"]),
        (
            '[dynamics]\nname = "median"\n',
            ["dynamics.name", "expected one of cortical", "'median'"],
        ),
        ('[solver.gain]\nmouth = "x"\n', ["solver.gain", "mouth"]),
        ('dynamics = "fast"\n', ["dynamics: expected a table, got 'fast'"]),
        # [dynamics] values, checked by the dynamics itself, name the file too
        ("[dynamics]\nhold = -1\n", ["dynamics.hold: expected a number from 0 to 5", "-1"]),
        ('[dynamics]\nease = "slow"\n', ["dynamics.ease: expected a number", "'slow'"]),
        ("[dynamics]\nholdd = 0.2\n", ["dynamics.holdd: unknown key", "hold, ease, recover"]),
        ("[dynamics.mouht]\nbeta = 1\n", ["dynamics.mouht: unknown key", "mouth"]),
        ("[dynamics.mouth]\nbeta = true\n", ["dynamics.mouth.beta: expected a number"]),
        ("[dynamics.eyes]\nbetta = 1\n", ["dynamics.eyes.betta: unknown setting"]),
        ("[dynamics]\nmouth = 3\n", ["dynamics.mouth: expected a table, got 3"]),
        (
            "[dynamics.jaw]\nopen_lo = 0.5\nopen_hi = 0.4\n",
            ["dynamics.jaw: open_hi (0.4) must be greater than open_lo (0.5)"],
        ),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"config file {path}: ")
    for needle in needles:
        assert needle in message, message
    assert "Input should" not in message and "pydantic" not in message


def test_command_line_over_file_over_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path, '[dynamics]\nname = "one-euro"\nhold = 0.1\n[dynamics.eyes]\nbeta = 2.0\n'
    )
    config = load_config(path)
    assert config.dynamics_name(None) == "one-euro"
    assert config.dynamics_name("none") == "none"
    assert ConfigFile().dynamics_name(None) == "cortical"
    assert config.dynamics_params() == {"hold": 0.1, "eyes": {"beta": 2.0}}  # name not passed on


def test_the_command_exits_2_for_an_unknown_table(tmp_path: Path) -> None:
    path = _write(tmp_path, "[outputs]\nvrchat = true\n")
    proc = run_cli(
        ["run", "--source", "demo", "--output", "none", "--quiet", "--config", str(path)]
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"avatar-driver: error: config file {path}: outputs: unknown key; "
        "expected one of dynamics, solver"
    ]


def test_a_folder_given_as_config_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_a_good_config_reaches_the_dynamics(tmp_path: Path) -> None:
    path = _write(tmp_path, "[dynamics]\nhold = 0.1\n[solver.gain]\nmouth = 1.2\n")
    proc = run_cli(
        ["run", "--source", "demo", "--output", "none", "--quiet", "--max-frames", "3",
         "--config", str(path)]
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bad = _write(tmp_path, "[dynamics]\nhold = -1\n")
    proc = run_cli(["run", "--source", "demo", "--output", "none", "--quiet", "--config", str(bad)])
    assert proc.returncode == 2 and "dynamics.hold" in proc.stderr


def test_a_dynamics_error_from_the_filter_the_command_line_chose_names_the_file(
    tmp_path: Path,
) -> None:
    """The file picks one-euro, whose build ignores the cortical keys; `--dynamics cortical`
    builds them at run time, and that error too names the file."""
    path = _write(
        tmp_path, '[dynamics]\nname = "one-euro"\n[dynamics.jaw]\nopen_lo = 0.5\nopen_hi = 0.4\n'
    )
    assert load_config(path).dynamics_name(None) == "one-euro"  # loads: fine for one-euro
    proc = run_cli(
        ["run", "--source", "demo", "--output", "none", "--quiet", "--max-frames", "2",
         "--config", str(path), "--dynamics", "cortical"]
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"avatar-driver: error: config file {path}: dynamics.jaw: open_hi (0.4) must be "
        "greater than open_lo (0.5)"
    ]
