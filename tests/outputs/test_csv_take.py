"""The csv output: one row per frame keyed by HH:MM:SS:FF, replays keep their timecode,
and a take that cannot be written fails loudly and keeps what it wrote."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.codecs.csv_take import COLUMN_NAMES, format_header, parse_take
from avatar_driver.frame import Frame
from avatar_driver.outputs.csv_take import CsvOutput
from tests.codecs.receivers import csv_rows_by_frame
from tests.conftest import ROOT, cli_env, run_cli


def test_a_source_faster_than_the_rate_never_repeats_a_frame(tmp_path: Path) -> None:
    """90 frames/s into a 60 fps take: every row gets its own HH:MM:SS:FF."""
    path = tmp_path / "fast.csv"
    with CsvOutput(path=path, fps=60) as out:
        for k in range(180):
            out.send(Frame(timestamp=k / 90, face_present=True))
    rows = csv_rows_by_frame(path.read_text())
    assert len(rows) == 180
    assert list(rows)[:3] == ["00:00:00:00", "00:00:00:01", "00:00:00:02"]


def test_frames_on_the_rate_land_on_their_own_frame(tmp_path: Path) -> None:
    path = tmp_path / "even.csv"
    with CsvOutput(path=path, fps=60) as out:
        for k in range(130):
            out.send(Frame(timestamp=k / 60, face_present=True))
    text = path.read_text()
    keys = list(csv_rows_by_frame(text))
    assert keys[2] == "00:00:00:02" and keys[61] == "00:00:01:01" and len(keys) == 130
    assert ".999" not in text


def _app_take(path: Path, start_frame: int, n: int, fps: int = 60) -> None:
    rows = []
    for k in range(start_frame, start_frame + n):
        s, ff = divmod(k, fps)
        h, rest = divmod(s, 3600)
        m, s = divmod(rest, 60)
        values = ["0.0"] * 61
        values[COLUMN_NAMES.index("JawOpen")] = f"{(k % 10) / 10:.1f}"
        rows.append(f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.000,61," + ",".join(values))
    path.write_text("\n".join([format_header(), *rows]) + "\n")


def test_a_replayed_take_continues_its_own_timecode(tmp_path: Path) -> None:
    take, out = tmp_path / "take.csv", tmp_path / "again.csv"
    start = (17 * 3600 + 49 * 60 + 11) * 60 + 50
    _app_take(take, start, 90)
    r = run_cli(["run", "--source", str(take), "--fast", "--output", f"csv:{out}", "--quiet"])
    assert r.returncode == 0, r.stderr
    keys = list(csv_rows_by_frame(out.read_text()))
    assert keys[0] == "17:49:11:50" and keys[10] == "17:49:12:00"
    assert len(keys) == 90 and parse_take(out.read_text().splitlines()).fps == 60


def _cli(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """The real command, as root without the power to ignore file permissions."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a read-only folder stays writable")
        prefix = [setpriv, "--bounding-set=-dac_override"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "avatar_driver", *args],
        capture_output=True, text=True, timeout=120, env=cli_env(None), cwd=ROOT, **kw,
    )  # type: ignore[call-overload]  # fmt: skip


def test_a_read_only_folder_fails_loudly(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        r = _cli(["run", "--source", "demo", "--fast", "--max-frames", "5",
                  "--output", f"csv:{folder / 'take.csv'}", "--quiet"])  # fmt: skip
    finally:
        folder.chmod(0o755)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "take.csv" in lines[0], r.stderr


def test_dev_full_fails_loudly() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    r = run_cli(["run", "--source", "demo", "--fast", "--max-frames", "5",
                 "--output", "csv:/dev/full", "--quiet"])  # fmt: skip
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write /dev/full" in lines[0], r.stderr


def _limit_file_size() -> None:
    """A disk that fills up mid-take: writes past 20 kB fail (EFBIG), no SIGXFSZ kill."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_a_disk_that_fills_mid_take_fails_loudly_and_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "take.csv"
    r = subprocess.run(
        [sys.executable, "-m", "avatar_driver", "run", "--source", "demo", "--fast",
         "--max-frames", "200", "--output", f"csv:{path}", "--quiet"],
        capture_output=True, text=True, timeout=120, env=cli_env(None), cwd=ROOT,
        preexec_fn=_limit_file_size,
    )  # fmt: skip
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "rows written" in lines[0], r.stderr
    text = path.read_text()
    assert 0 < len(text) <= 20_000
    whole = text[: text.rfind("\n") + 1]  # the failed row may be cut; the rows before are whole
    take = parse_take(whole.splitlines())
    assert len(take) >= 20
    assert np.isfinite(take.values).all()
