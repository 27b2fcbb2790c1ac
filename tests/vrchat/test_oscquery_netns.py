"""VRChat discovery over real mDNS, inside a private network namespace.

pytest runs tests/vrchat/netns_oscquery.py under ``unshare -n`` with only ``lo`` (up,
multicast on, a route for 224.0.0.0/4), so no mDNS packet can leave the machine; each case
there is reported here as a test of its own. Where unshare is not permitted the tests skip
with the reason; under AVATAR_DRIVER_REQUIRE_ALL=1 (.ci/run) that is a failure.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT, _missing, cli_env
from tests.vrchat import netns_oscquery

SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"
CASES = sorted(
    name
    for name, fn in inspect.getmembers(netns_oscquery, inspect.isfunction)
    if name.startswith("test_") and fn.__module__ == netns_oscquery.__name__
)


def namespace_prefix() -> tuple[list[str] | None, str]:
    """The unshare command that works here (root: -n; otherwise a user namespace -rn)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None, "unshare (util-linux) and ip (iproute2) are needed for the mDNS tests"
    errors = []
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        probe = subprocess.run(
            [*prefix, "sh", "-c", SETUP], capture_output=True, text=True, timeout=20
        )
        if probe.returncode == 0:
            return prefix, ""
        errors.append(f"{' '.join(prefix)}: {probe.stderr.strip()[:120]}")
    return None, "a private network namespace is not permitted here (" + "; ".join(errors) + ")"


@pytest.fixture(scope="module")
def netns_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    prefix, why = namespace_prefix()
    if prefix is None:
        _missing(why)
    assert prefix is not None
    report = tmp_path_factory.mktemp("netns") / "results.xml"
    env = cli_env()
    env["AVATAR_DRIVER_IN_NETNS"] = "1"
    env.pop("AVATAR_DRIVER_VRCHAT_OSCQUERY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    inner = (
        f'{SETUP} && exec "$0" -m pytest tests/vrchat/netns_oscquery.py -q '
        f"-p no:cacheprovider -o addopts= --junitxml={report}"
    )
    proc = subprocess.run(
        [*prefix, "sh", "-c", inner, sys.executable],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    if not report.is_file():
        pytest.fail(
            f"the namespace run did not report:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    return _outcomes(report, proc.stdout)


def _outcomes(report: Path, stdout: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        name = case.get("name", "")
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
        if not bad:
            out[name] = "passed"
        else:
            text = (bad[0].get("message") or "") + "\n" + (bad[0].text or "")
            out[name] = f"{bad[0].tag}: {text[-4000:]}"
    if not out:
        out["<collection>"] = f"error: nothing ran\n{stdout[-3000:]}"
    return out


@pytest.mark.parametrize("case", CASES)
def test_in_private_namespace(netns_results: dict[str, str], case: str) -> None:
    runs = {n: r for n, r in netns_results.items() if n == case or n.startswith(case + "[")}
    assert "<collection>" not in netns_results, netns_results["<collection>"]
    assert runs, f"{case} did not run in the namespace: {sorted(netns_results)}"
    failed = {n: r for n, r in runs.items() if r != "passed"}
    assert not failed, "\n\n".join(f"{n}: {r}" for n, r in failed.items())
