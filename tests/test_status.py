"""The status line names covered regions and headset mode."""

from __future__ import annotations

import io

import numpy as np

from avatar_driver.status import StatusLine


def _line(**kw: object) -> str:
    out = io.StringIO()
    status = StatusLine(enabled=True, stream=out, interval=0.0)
    status.update(10, 5.0, True, [], **kw)  # type: ignore[arg-type]
    return out.getvalue()


def test_status_shows_covered_regions_and_headset() -> None:
    assert "covered" not in _line(regions=np.ones(3, np.float32))
    assert "covered: mouth" in _line(regions=np.array([1, 1, 0.1], np.float32))
    line = _line(regions=np.array([0.0, 0.0, 1.0], np.float32), upper_face=False)
    assert "headset" in line and "covered" not in line
    assert "covered: eyes,brows" in _line(regions=np.array([0.0, 0.2, 1.0], np.float32))
