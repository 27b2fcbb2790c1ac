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
            ["dynamics.name", "expected one of: cortical", "'median'"],
        ),
        ('[solver.gain]\nmouth = "x"\n', ["solver.gain", "mouth"]),
        ('dynamics = "fast"\n', ["dynamics: expected a table, got 'fast'"]),
        # [output.KIND]: the output's own Options (and mapping where it takes one)
        ('[output.virtualcam]\nsize = "x"\n', ["output.virtualcam.size: expected WxH, got 'x'"]),
        (
            '[output.virtualcam]\nsise = "1280x720"\n',
            ["output.virtualcam.sise: unknown key", "expected one of view, device, size, fps"],
        ),
        ("[output.csv]\nfps = 60\n", ["output.csv: unknown key", "livelink, virtualcam, vmc"]),
        ('[output.livelink]\nsubject = ""\n', ["output.livelink.subject: expected text of 1"]),
        ('[output.livelink]\nmapping = "a"\n', ["output.livelink.mapping: unknown key"]),
        ("[output.vmc]\nhead_position = [0, 0.1]\n", ["output.vmc.head_position: expected X,Y,Z"]),
        ('[output.vrchat]\noscquery = "maybe"\n', ["output.vrchat.oscquery: expected on, off"]),
        ('[output.vrchat]\nlisten = "host:port"\n', ["output.vrchat.listen: expected HOST:PORT"]),
        ('[output.vrchat]\nmapping = "nope"\n', ["output.vrchat.mapping: mapping 'nope': no such"]),
        ("[output]\nvrchat = 1\n", ["output.vrchat: expected a table, got 1"]),
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
        "expected one of dynamics, solver, output"
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


def test_output_tables_under_the_command_line_over_the_defaults(tmp_path: Path) -> None:
    """Key by key: the file's value where the command line says nothing, the command line's
    where it does, the default where neither; each kind gets its own table's mapping, a
    relative file beside the config file, and --mapping wins over it."""
    from avatar_driver.outputs.base import flag_settings
    from avatar_driver.outputs.vrchat import VRChatOptions
    from avatar_driver.runner import RunOptions, open_pipeline

    (tmp_path / "mine.toml").write_text('[[param]]\nname = "Mine"\nsource = "jawOpen"\n')
    path = _write(
        tmp_path,
        '[output.livelink]\nsubject = "FromFile"\ndevice_id = "file-device"\n'
        "[output.vmc]\nhead_position = [0.0, 0.1, 0.02]\n"
        '[output.blender]\nmapping = "mine.toml"\n'
        '[output.vrchat]\nmapping = "vrchat-arkit"\nlisten = "off"\n',
    )
    config = load_config(path)
    outputs = ["livelink:127.0.0.1:9", "vmc:127.0.0.1:9", "blender:127.0.0.1:9",
               "vrchat:127.0.0.1:9"]  # fmt: skip
    flags = flag_settings({"livelink_subject": "FromFlag", "vmc_head_position": None})
    with open_pipeline(RunOptions(outputs=outputs, config=config, output_settings=flags)) as p:
        livelink, vmc, blender, vrchat = p.outputs
        assert livelink.encoder.subject == "FromFlag"  # type: ignore[attr-defined]
        assert livelink.encoder.device_id == "file-device"  # type: ignore[attr-defined]
        assert vmc.head_position == (0.0, 0.1, 0.02)  # type: ignore[attr-defined]
        assert blender.head_position == (0.0, 0.08, 0.0)  # type: ignore[attr-defined]
        assert vmc.binding.path is None  # type: ignore[attr-defined]  # its own preset
        assert blender.binding.path == tmp_path / "mine.toml"  # type: ignore[attr-defined]
        assert blender.mapping.names == ("Mine",)  # type: ignore[attr-defined]
        assert vrchat.binding.path.name == "vrchat-arkit.toml"  # type: ignore[attr-defined]
        assert vrchat.listener is None and vrchat.discovery is None  # type: ignore[attr-defined]
    wins = RunOptions(outputs=outputs[2:], config=config, mapping=["vrchat=vrchat-unified-v2"],
                      output_settings={"vrchat": VRChatOptions(listen="off")})  # fmt: skip
    with open_pipeline(wins) as p:
        blender, vrchat = p.outputs
        assert vrchat.binding.path.name == "vrchat-unified-v2.toml"  # type: ignore[attr-defined]
        assert blender.mapping.names == ("Mine",)  # type: ignore[attr-defined]


def test_the_readme_config_example_is_a_valid_config(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    example = (ROOT / "README.md").read_text().split("## Config file")[1]
    path = _write(tmp_path, example.split("```toml")[1].split("```")[0])
    config = load_config(path)
    assert config.output_mappings() == {"vrchat": "vrchat-arkit"}
    assert getattr(config.output_table("virtualcam"), "size", None) == (1280, 720)


def test_run_options_layer_the_dynamics_and_check_values(tmp_path: Path) -> None:
    """RunOptions: the command line's dynamics over the file's over the default; a bad
    value is a ConfigError naming the option."""
    from avatar_driver.dynamics import DEFAULT_DYNAMICS
    from avatar_driver.runner import RunOptions

    text = '[dynamics]\nname = "one-euro"\nhold = 0.4\n[dynamics.eyes]\nmin_cutoff = 0.5\n'
    config = load_config(_write(tmp_path, text))
    from_file = RunOptions(config=config)
    assert from_file.dynamics == "one-euro"
    assert from_file.dynamics_params == {"hold": 0.4, "eyes": {"min_cutoff": 0.5}}
    assert RunOptions(config=config, dynamics="none").dynamics == "none"
    assert RunOptions().dynamics == DEFAULT_DYNAMICS and RunOptions().dynamics_params is None
    for bad, needle in (({"faces": 7}, "faces"), ({"max_fps": 0}, "max_fps"),
                        ({"tracker": "dlib"}, "tracker"), ({"dynamics": "median"}, "median"),
                        ({"sources": "demo"}, "sources: unknown key")):  # fmt: skip
        with pytest.raises(ConfigError, match=needle):
            RunOptions(**bad)
