"""`avatar-driver vrchat params`: synced bits of real avatar OSC config files (written in
tmp_path the way VRChat writes them), the float-to-binary suggestions, and bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from avatar_driver.mapping import load_mapping
from avatar_driver.vrchat.avatar import read_avatar_config
from avatar_driver.vrchat.budget import FLOAT_RESOLUTION, fit_budget, report
from tests.conftest import run_cli

PRE = "/avatar/parameters/"
FLOATS = ["FT/v2/EyeLidLeft", "FT/v2/EyeLidRight", "FT/v2/EyeLeftX", "FT/v2/EyeRightX",
          "FT/v2/EyeY", "FT/v2/JawOpen", "FT/v2/MouthClosed", "FT/v2/SmileSadLeft",
          "FT/v2/SmileSadRight", "FT/v2/BrowExpressionLeft", "FT/v2/BrowExpressionRight",
          "FT/v2/CheekPuffSuck", "FT/v2/MouthX"]  # fmt: skip
SIGNED = {"FT/v2/EyeLeftX", "FT/v2/EyeRightX", "FT/v2/EyeY", "FT/v2/SmileSadLeft",
          "FT/v2/SmileSadRight", "FT/v2/BrowExpressionLeft", "FT/v2/BrowExpressionRight",
          "FT/v2/CheekPuffSuck", "FT/v2/MouthX"}  # fmt: skip


def _param(name: str, kind: str) -> dict[str, object]:
    io = {"address": PRE + name, "type": kind}
    return {"name": name, "input": io, "output": io}


def write_avatar(path: Path, floats: list[str], bits: dict[str, tuple[int, bool]]) -> Path:
    """An avatar: face floats, binary face parameters, tracking flags and other things."""
    params = [_param(n, "Float") for n in floats]
    for stem, (n, negative) in bits.items():
        params += [_param(f"{stem}{1 << k}", "Bool") for k in range(n)]
        if negative:
            params.append(_param(stem + "Negative", "Bool"))
    params += [_param("EyeTrackingActive", "Bool"), _param("LipTrackingActive", "Bool")]
    params += [_param("Toggle/Hat", "Bool"), _param("Color", "Int"), _param("Wave", "Float")]
    params.append({"name": "VelocityX", "output": {"address": PRE + "VelocityX", "type": "Float"}})
    path.write_text(json.dumps({"id": "avtr_t", "name": "Test", "parameters": params}))
    return path


@pytest.fixture
def avatar(tmp_path: Path) -> Path:
    return write_avatar(tmp_path / "avtr_t.json", FLOATS, {"FT/v2/JawX": (3, True)})


def test_counts_the_avatars_bits(avatar: Path) -> None:
    r = run_cli(["vrchat", "params", "--avatar-config", str(avatar)])
    assert r.returncode == 0, r.stderr
    # 13 floats * 8 + JawX 3 bits + Negative + 2 tracking bools = 110; others 1 + 8 + 8.
    assert "face parameters: 16 (1 binary, 2 bool, 13 float): 110 bits" in r.stdout
    assert "other parameters: 3: 17 bits" in r.stdout
    assert "127 of 256 synced bits, 129 free" in r.stdout
    assert re.search(r"FT/v2/JawX +binary 3 \+ Negative +4 bits", r.stdout)
    assert "fit the 239 bits left" in r.stdout


def test_suggestion_fits_and_is_what_an_avatar_built_that_way_costs(
    avatar: Path, tmp_path: Path
) -> None:
    budget = 64
    r = run_cli(["vrchat", "params", "--avatar-config", str(avatar), "--budget", str(budget)])
    assert r.returncode == 0, r.stderr
    found = re.findall(r"^ +(\S+) +float 8 -> binary (\d)( \+ Negative)? ", r.stdout, re.M)
    assert {n for n, _, _ in found} == set(FLOATS)
    assert {n for n, _, neg in found if neg} == SIGNED
    res = [int(b) for _, b, _ in found]
    assert max(res) - min(res) <= 1  # balanced: no float starved for another
    used = int(re.search(r"make 13 floats binary \((\d+) bits then\)", r.stdout)[1])  # type: ignore[index]
    assert used <= budget
    # Build that avatar: its report must say exactly the promised bits, and fit.
    bits = {n: (int(b), bool(neg)) for n, b, neg in found} | {"FT/v2/JawX": (3, True)}
    rebuilt = write_avatar(tmp_path / "rebuilt.json", [], bits)
    r2 = run_cli(["vrchat", "params", "--avatar-config", str(rebuilt), "--budget", str(budget)])
    assert r2.returncode == 0, r2.stderr
    assert f"): {used} bits" in r2.stdout
    assert f"the face parameters fit a budget of {budget} bits" in r2.stdout


@pytest.mark.parametrize("budget", [28, 40, 100, 109])
def test_greedy_spends_no_more_bits_than_needed(avatar: Path, budget: int) -> None:
    face = report(load_mapping("vrchat-unified-v2"), read_avatar_config(avatar).params, "t").face
    fit = fit_budget(face, budget)
    assert fit is not None
    choices, used = fit
    assert used <= budget
    # Every step saves one bit, so it stops at the budget exactly (or one float short).
    assert used >= budget - 1
    assert all(1 <= c.bits <= FLOAT_RESOLUTION for c in choices)


def test_too_small_a_budget_says_so(avatar: Path) -> None:
    r = run_cli(["vrchat", "params", "--avatar-config", str(avatar), "--budget", "16"])
    assert r.returncode == 0, r.stderr
    # One bit per float (+ Negative when signed): 4 + 9 * 2 = 22, + 6 fixed = 28.
    assert "cannot fit a budget of 16 bits: even 1 bit per float needs 28" in r.stdout


def test_without_an_avatar_costs_the_mapping_as_written() -> None:
    r = run_cli(["vrchat", "params"])
    assert r.returncode == 0, r.stderr
    m = load_mapping("vrchat-unified-v2")
    bits = sum(
        e.bits + e.negative if e.type == "binary" else 1 if e.type == "bool" else 8
        for e in m.entries
        if e.address.startswith(PRE)
    )
    assert f"): {bits} bits" in r.stdout
    assert "as written (no avatar config given)" in r.stdout


@pytest.mark.parametrize(
    "content", ['{"id": "avtr_t", "parameters": [', '{"id": 5, "parameters": []}',
                '{"id": "a", "parameters": [{"name": "x",'
                ' "input": {"address": "/a", "type": "Double"}}]}'],
)  # fmt: skip
def test_bad_file_exit_2_naming_it(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    r = run_cli(["vrchat", "params", "--avatar-config", str(bad)])
    assert r.returncode == 2
    assert str(bad) in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_file_exit_2(tmp_path: Path) -> None:
    r = run_cli(["vrchat", "params", "--avatar-config", str(tmp_path / "none.json")])
    assert r.returncode == 2 and "none.json" in r.stderr
