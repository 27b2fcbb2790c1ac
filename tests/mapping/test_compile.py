"""Mapping files compile into the arithmetic the format promises (docs/mapping.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avatar_driver.errors import MappingError
from avatar_driver.mapping import load_mapping
from avatar_driver.shapes import CHANNEL_NAMES

IDX = {n: i for i, n in enumerate(CHANNEL_NAMES)}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.toml"
    p.write_text(text, encoding="utf-8")
    return p


def ch(**values: float) -> np.ndarray:
    out = np.zeros(len(CHANNEL_NAMES))
    for k, v in values.items():
        out[IDX[k]] = v
    return out


def test_combine_ops_gain_offset_ranges(tmp_path: Path) -> None:
    m = load_mapping(
        write(
            tmp_path,
            """
[mapping]
prefix = "/x/"
[derived]
sad = { source = { max = ["mouthFrownLeft", "mouthStretchLeft"] }, gain = 2, clamp = [0, 1] }
[[param]]
name = "Sum"
source = { sum = { jawRight = 1, jawLeft = -1 } }
out_range = [-1, 1]
[[param]]
name = "Max"
source = { max = ["eyeBlinkLeft", "eyeBlinkRight"] }
[[param]]
name = "Min"
source = { min = ["eyeBlinkLeft", "eyeBlinkRight"] }
[[param]]
name = "Mean"
source = { mean = ["eyeBlinkLeft", "eyeBlinkRight"] }
[[param]]
name = "Prod"
source = { product = ["eyeBlinkLeft", "eyeBlinkRight"] }
[[param]]
name = "Sad"
source = "sad"
[[param]]
name = "Scaled"
address = "/full/address"
source = "jawOpen"
gain = 2
offset = -0.2
in_range = [0, 2]
out_range = [10, 20]
[[param]]
name = "Inverted"
source = "jawOpen"
out_range = [1, 0]
[[param]]
name = "Free"
source = "headYaw"
in_range = [-1, 1]
out_range = [-1, 1]
clamp = false
[[param]]
name = "Byte"
source = "jawOpen"
type = "int"
""",
        )
    )
    assert m.addresses[:2] == ("/x/Sum", "/x/Max")
    assert "/full/address" in m.addresses
    v = dict(zip(m.names, m.apply(ch(jawLeft=0.25, eyeBlinkLeft=0.8, eyeBlinkRight=0.5,
                                     mouthFrownLeft=0.1, mouthStretchLeft=0.3, jawOpen=0.6,
                                     headYaw=25.0)), strict=True))  # fmt: skip
    assert v["Sum"] == pytest.approx(-0.25)
    assert v["Max"] == pytest.approx(0.8)
    assert v["Min"] == pytest.approx(0.5)
    assert v["Mean"] == pytest.approx(0.65)
    assert v["Prod"] == pytest.approx(0.4)
    assert v["Sad"] == pytest.approx(0.6)
    assert v["Scaled"] == pytest.approx(10 + 10 * (0.6 * 2 - 0.2) / 2)
    assert v["Inverted"] == pytest.approx(0.4)
    assert v["Free"] == pytest.approx(25.0)
    assert v["Byte"] == round(0.6 * 255)
    assert m.types[m.names.index("Byte")] == "i"


def test_curves(tmp_path: Path) -> None:
    m = load_mapping(
        write(
            tmp_path,
            """
[[param]]
name = "G"
source = "jawOpen"
curve = { gamma = 2.0 }
[[param]]
name = "S"
source = "jawOpen"
curve = "smoothstep"
[[param]]
name = "P"
source = "jawOpen"
curve = { points = [[0, 0], [0.5, 0.1], [1, 1]] }
[[param]]
name = "Sym"
source = { sum = { jawRight = 1, jawLeft = -1 } }
out_range = [-1, 1]
curve = { gamma = 2.0 }
symmetric = true
""",
        )
    )
    for x in (0.0, 0.3, 0.5, 0.75, 1.0):
        g, s, p, _ = m.apply(ch(jawOpen=x))
        assert g == pytest.approx(x**2)
        assert s == pytest.approx(x * x * (3 - 2 * x))
        assert p == pytest.approx(np.interp(x, [0, 0.5, 1], [0, 0.1, 1]))
    assert m.apply(ch(jawLeft=0.5))[3] == pytest.approx(-0.25)
    assert m.apply(ch(jawRight=0.5))[3] == pytest.approx(0.25)


def test_expression_gain_whole_face_and_group(tmp_path: Path) -> None:
    m = load_mapping(
        write(
            tmp_path,
            """
[mapping]
expression_gain = 1.5
group_gain = { mouth = 0.5 }
[[param]]
name = "Jaw"
source = "jawOpen"
[[param]]
name = "Smile"
source = "mouthSmileLeft"
[[param]]
name = "Yaw"
source = "headYaw"
in_range = [-90, 90]
out_range = [-90, 90]
""",
        )
    )
    jaw, smile, yaw = m.apply(ch(jawOpen=0.4, mouthSmileLeft=0.4, headYaw=10.0))
    assert jaw == pytest.approx(0.6)
    assert smile == pytest.approx(0.3)
    assert yaw == pytest.approx(10.0)  # pose is not an expression


def test_bool_hysteresis_needs_state(tmp_path: Path) -> None:
    m = load_mapping(
        write(
            tmp_path,
            """
[[param]]
name = "Open"
source = "jawOpen"
type = "bool"
threshold = 0.5
hysteresis = 0.2
""",
        )
    )
    state = m.new_state()
    seq = [0.0, 0.55, 0.61, 0.45, 0.41, 0.39, 0.5, 0.59, 0.6]
    got = [m.apply(ch(jawOpen=x), state)[0] for x in seq]
    assert got == [0, 0, 1, 1, 1, 0, 0, 0, 1]
    # Stateless: the middle of the band.
    assert [m.apply(ch(jawOpen=x))[0] for x in (0.49, 0.5)] == [0, 1]


def test_send_on_change_and_refresh(tmp_path: Path) -> None:
    m = load_mapping(
        write(
            tmp_path,
            """
[mapping]
send_threshold = 0.01
refresh_seconds = 1.0
[[param]]
name = "A"
source = "jawOpen"
[[param]]
name = "B"
source = "eyeBlinkLeft"
type = "bool"
""",
        )
    )
    st = m.new_state()
    assert st.select(m.apply(ch(jawOpen=0.5), st), 0.0) is None  # first: everything
    mask = st.select(m.apply(ch(jawOpen=0.505), st), 0.1)
    assert mask is not None and not mask.any()
    mask = st.select(m.apply(ch(jawOpen=0.52), st), 0.2)
    assert mask is not None and mask.tolist() == [True, False]
    mask = st.select(m.apply(ch(jawOpen=0.52, eyeBlinkLeft=1.0), st), 0.3)
    assert mask is not None and mask.tolist() == [False, True]
    assert st.select(m.apply(ch(jawOpen=0.52, eyeBlinkLeft=1.0), st), 1.01) is None


def test_derived_cycle_is_an_error(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
[derived]
a = { source = "b" }
b = { source = { max = ["a", "jawOpen"] } }
[[param]]
name = "X"
source = "a"
""",
    )
    with pytest.raises(MappingError, match=r"cycle"):
        load_mapping(p)


def test_preset_name_errors_suggest() -> None:
    with pytest.raises(MappingError, match=r"did you mean 'vrchat-arkit'"):
        load_mapping("vrchat-arkt")
