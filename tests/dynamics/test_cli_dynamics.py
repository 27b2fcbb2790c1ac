"""CSV in, CSV out through the real command: the chosen dynamics is applied."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.shapes import ARKIT_NAMES, INDEX, POSE_NAMES, pascal

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("avatar_driver.cli") is None,
    reason="avatar_driver.cli not written yet",
)

ROOT = Path(__file__).resolve().parents[2]
NAMES = [pascal(n) for n in ARKIT_NAMES + POSE_NAMES]
FPS = 30


def write_take(path: Path, values: np.ndarray) -> None:
    """A Live Link Face CSV take at 30 fps (Timecode HH:MM:SS:FF.fff, count 61)."""
    with path.open("w", newline="") as fh:
        fh.write("Timecode,BlendShapeCount," + ",".join(NAMES) + "\n")
        for k, row in enumerate(values):
            sec, ff = divmod(k, FPS)
            tc = f"17:49:{11 + sec:02d}:{ff:02d}.000"
            fh.write(f"{tc},61," + ",".join(f"{v:.6f}" for v in row) + "\n")


def read_take(path: Path) -> np.ndarray:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    cols = [head.index(n) for n in NAMES]
    return np.array([[float(r[c]) for c in cols] for r in rows[1:] if r])


def run(csv_in: Path, csv_out: Path, name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "avatar_driver", "run", "--source", str(csv_in),
         "--output", f"csv:{csv_out}", "--fast", "--dynamics", name, "--quiet"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 120
    values = np.zeros((n, len(NAMES)))
    values[:, : len(ARKIT_NAMES)] = np.clip(0.3 + rng.normal(0, 0.02, (n, 52)), 0, 1)
    values[:, INDEX["tongueOut"]] = 0.0
    values[:, len(ARKIT_NAMES)] = 5.0 + rng.normal(0, 0.5, n)  # head yaw, degrees
    path = tmp_path_factory.mktemp("take") / "take.csv"
    write_take(path, values)
    return path, values


def test_none_returns_the_input(take: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, values = take
    out = tmp_path / "none.csv"
    run(path, out, "none")
    got = read_take(out)
    assert got.shape == values.shape
    np.testing.assert_allclose(got[:, :52], values[:, :52], atol=1e-5)


def test_cortical_reduces_jitter(take: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, values = take
    out = tmp_path / "clean.csv"
    run(path, out, "cortical")
    got = read_take(out)
    assert got.shape == values.shape
    raw_jit = np.std(np.diff(values[30:, :51], axis=0))
    jit = np.std(np.diff(got[30:, :51], axis=0))
    assert jit < 0.3 * raw_jit
    assert abs(got[30:, :51].mean() - 0.3) < 0.01
