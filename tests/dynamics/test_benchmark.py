"""benchmarks/dynamics.py at a small size, so it cannot rot (figures reported, not timed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dynamics", ROOT / "benchmarks/dynamics.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_dynamics"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_small_run_has_the_table() -> None:
    bench = load()
    res = bench.run([30], seeds=1, duration=12.0, grid=[(1.0, 5.0), (0.3, 30.0)], real=False,
                    log=lambda s: None)  # fmt: skip
    tab = res.tables[(30, "gauss")]
    assert list(tab) == ["raw", "one-euro 1/5", "one-euro 0.3/30", "cortical"]
    keys = [k for k, _, _ in bench.METRICS]
    for row in tab.values():
        assert list(row) == keys
        assert all(np.isfinite(v) for v in row.values())
    raw, cort = tab["raw"], tab["cortical"]
    assert 0.02 < raw["rest_jitter"] < 0.05  # sigma 0.02 white noise: ~0.028 plus outliers
    assert cort["rest_jitter"] < raw["rest_jitter"]
    assert 0.5 < cort["blink_kept"] < 1.2
    text = bench.format_table(tab)
    assert text.count("\n") == len(tab) + 1 and "us/frame" in text
    assert set(res.goal((30, "gauss"))) >= {"onset lag <= 25 ms", "every blink above 0.5"}


def test_main_quick_writes_the_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    bench = load()
    fig = tmp_path / "dyn.png"
    assert bench.main(["--quick", "--duration", "8", "--no-real", "--figure", str(fig)]) == 0
    assert fig.stat().st_size > 10_000
    assert "| cortical |" in capsys.readouterr().out


@pytest.mark.model
def test_real_noise_residuals(model: Path, media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load()
    monkeypatch.setattr(bench, "MEDIA", media)
    res = bench.real_residuals(str(model))
    assert res is not None and res.shape[1] == 52 and res.shape[0] > 50
    assert 0.0 < np.abs(res).mean() < 0.05
    noise = bench.resampler(res)(np.random.default_rng(0), 100)
    assert noise.shape == (100, 52)
