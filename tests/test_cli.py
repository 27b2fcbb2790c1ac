"""The command line contract: exit codes, one-line errors, clean stop, CSV round trip."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.codecs.csv_take import format_header, parse_take
from avatar_driver.sources import VideoSource
from tests.conftest import ROOT, run_cli


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_help_and_module_entry() -> None:
    proc = run_cli(["--help"])
    assert proc.returncode == 0 and "run" in proc.stdout and "bench" in proc.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--source", "missing-clip.mp4"], ["missing-clip.mp4", "not a file that exists"]),
        (["--source", "camera:7"], ["camera 7", "could not be opened"]),
        (["--source", "demo", "--output", "teleport"], ["unknown output kind", "teleport"]),
        (["--source", "demo", "--output", "vrchat:127.0.0.1:99999"], ["bad port", "99999"]),
        (["--source", "demo", "--output", "vrchat:localhost:http"], ["bad port"]),
        (["--source", "demo", "--output", "csv"], ["csv needs a file name"]),
        (["--source", "demo", "--max-frames", "0"], ["--max-frames"]),
        # each output's typed options, checked before anything opens (the source too)
        (["--source", "nothing.mp4", "--vcam-size", "x"], ["--vcam-size: expected WxH, got 'x'"]),
        (["--source", "nothing.mp4", "--vmc-head-position", "1,2"], ["--vmc-head-position: "]),
        (["--source", "nothing.mp4", "--livelink-subject", ""], ["--livelink-subject: expected"]),
        (["--source", "nothing.mp4", "--vrchat-listen", "a:b:c:"], ["--vrchat-listen: expected"]),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], needles: list[str]) -> None:
    _one_line_error(run_cli(["run", *args, "--quiet"]), *needles)


def test_unreadable_video_exits_2(tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00\x01 definitely not a video" * 100)
    _one_line_error(run_cli(["run", "--source", str(fake), "--quiet"]), "clip.mp4", "not a video")


def test_malformed_take_exits_2(tmp_path: Path) -> None:
    take = tmp_path / "take.csv"
    take.write_text(format_header() + "\n00:00:00:00.000,61,1,2,three\n")
    _one_line_error(
        run_cli(["run", "--source", str(take), "--output", "none", "--quiet"]), "take.csv", "line 2"
    )


def test_no_face_clip_runs_to_the_end_sending_neutral(
    model: Path, media: Path, tmp_path: Path
) -> None:
    out = tmp_path / "noface.csv"
    proc = run_cli(
        ["run", "--source", str(media / "no_face.mp4"), "--output", f"csv:{out}", "--fast"],
        model=model,
    )
    assert proc.returncode == 0, proc.stderr
    take = parse_take(out.read_text().splitlines())
    with VideoSource(media / "no_face.mp4") as clip:
        assert len(take) == sum(1 for _ in clip) > 90
    assert not take.values.any()
    assert "face in 0" in proc.stderr


def test_csv_record_then_replay_gives_the_same_weights(
    model: Path, media: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "take.csv", tmp_path / "again.csv"
    proc = run_cli(
        ["run", "--source", str(media / "single_face.mp4"), "--output", f"csv:{first}",
         "--fast", "--quiet", "--dynamics", "none"],
        model=model,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = first.read_text().splitlines()
    assert lines[0] == format_header()
    assert all(len(line.split(",")) == 63 for line in lines)
    take = parse_take(lines)
    assert len(take) == 72 and take.fps == 30
    smile = take.values[:, 23]  # MouthSmileLeft
    assert smile[-20:].mean() > smile[:10].mean() + 0.4
    proc = run_cli(
        ["run", "--source", str(first), "--output", f"csv:{second}", "--fast", "--quiet",
         "--dynamics", "none"]
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = parse_take(second.read_text().splitlines())
    np.testing.assert_allclose(again.values, take.values, atol=2e-6)
    np.testing.assert_allclose(again.timestamps, take.timestamps, atol=1e-4)


def _documented_bench_fields() -> dict[str, list[str]]:
    """README's `bench --json` field list: each item's first field with the fields named
    after its colon (the nested ones), or the item's fields when it has no colon."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- bench-json-fields -->")[1].split("<!-- /bench-json-fields -->")[0]
    fields: dict[str, list[str]] = {}
    for item in block.split("\n- ")[1:]:
        head, colon, rest = item.partition(":")
        names = re.findall(r"`([a-z_0-9]+)`", head)
        if colon and len(names) == 1:
            fields[names[0]] = re.findall(r"`([a-z_0-9]+)`", rest)
        else:
            for name in re.findall(r"`([a-z_0-9]+)`", item):
                fields[name] = []
    return fields


def test_bench_json_has_the_documented_fields() -> None:
    proc = run_cli(
        ["bench", "--source", "demo", "--frames", "120", "--json", "--latencies",
         "--output", "vrchat:127.0.0.1:9"]
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    documented = _documented_bench_fields()
    assert len(documented) >= 15, documented  # the README block was found and read
    for name, nested in documented.items():
        assert name in report, f"README documents {name}, bench --json lacks it"
        if name == "stages":  # stage names, then the fields of each
            assert {"median_us", "p95_us", "mean_us"} <= set(nested)
            for stage in ("solver", "dynamics", "outputs"):
                assert {"median_us", "p95_us", "mean_us"} <= set(report[name][stage])
        elif name == "outputs":  # each output's fields, then its latency's
            for out in report[name].values():
                assert set(nested) - {"median", "p95"} <= set(out), nested
                assert set(out["latency_ms"]) == {"median", "p95"}
        elif name in ("latency_ms", "paced"):
            assert set(nested) <= set(report[name]), (name, nested)
    assert not set(report) - set(documented), "undocumented bench --json fields"
    assert report["frames"] == 120
    assert report["datagrams_received"] > 0
    # Two vrchat outputs: each has its own capture -> sent latency, the first no later
    # than the second (sent first), the last one's equal to the frame's overall latency.
    outs = list(report["outputs"].values())
    assert len(outs) == 2 and all(o["errors"] == 0 for o in outs)
    first, last = (o["latency_ms"]["median"] for o in outs)
    assert 0.0 < first <= last
    assert last == pytest.approx(report["latency_ms"]["median"], abs=0.05)
    assert len(report["latencies_ms"]) == 120


def test_output_settings_flags_and_options_models_match() -> None:
    """Every `--PREFIX-KEY` of the "output settings" group is option KEY of the outputs
    with that prefix, and every option of every output has its flag."""
    from avatar_driver.cli import build_parser
    from avatar_driver.outputs.base import OUTPUTS

    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    group = next(g for g in run._action_groups if g.title == "output settings")
    flags = {a.option_strings[0] for a in group._group_actions}
    wanted = {
        f"--{cls.flag_prefix}-{key.replace('_', '-')}"
        for _, cls in OUTPUTS.items()
        if cls.Options is not None
        for key in cls.Options.model_fields
    }
    assert len(wanted) >= 10 and flags == wanted


def test_output_settings_from_the_file_and_the_command_line(tmp_path: Path) -> None:
    """Live Link packets on a real socket carry the file's subject and device id; a flag
    replaces only its own key."""
    from tests.codecs.test_livelink import decode_spec

    config = tmp_path / "avatar.toml"
    config.write_text('[output.livelink]\nsubject = "FromFile"\ndevice_id = "file-phone"\n')
    seen = []
    for flags in ([], ["--livelink-subject", "FromFlag"]):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
            rx.bind(("127.0.0.1", 0))
            rx.settimeout(5.0)
            proc = run_cli(
                ["run", "--source", "demo", "--fast", "--max-frames", "3", "--quiet",
                 "--output", f"livelink:127.0.0.1:{rx.getsockname()[1]}",
                 "--config", str(config), *flags]
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            packets = [decode_spec(rx.recv(65536)) for _ in range(4)]
        seen.append({(p.subject, p.device_id) for p in packets})
    assert seen == [{("FromFile", "file-phone")}, {("FromFlag", "file-phone")}]


def test_a_bad_output_table_in_the_file_exits_2_naming_file_table_and_key(
    tmp_path: Path,
) -> None:
    config = tmp_path / "avatar.toml"
    config.write_text('[output.virtualcam]\nsize = "x"\n')
    proc = run_cli(
        ["run", "--source", "demo", "--output", "none", "--quiet", "--config", str(config)]
    )
    _one_line_error(proc, f"config file {config}: output.virtualcam.size: expected WxH, got 'x'")
