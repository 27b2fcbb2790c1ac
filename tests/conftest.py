"""Shared test fixtures: where the real model and clips are, and how to run the command.

Tests use real parts. The model is found the way the tool finds it ($AVATAR_DRIVER_MODEL,
then the cache `avatar-driver model fetch` fills), then `../shared/models/` beside the
repository; the clips are in $AVATAR_DRIVER_MEDIA or `../shared/media/`. When they are
missing the tests that need them skip with the reason, except under
AVATAR_DRIVER_REQUIRE_ALL=1 (set by .ci/run), where a missing part is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REQUIRE_ALL = os.environ.get("AVATAR_DRIVER_REQUIRE_ALL") == "1"
# mDNS must never leave lo: VRChat discovery (OSCQuery) runs only in the tests that set up a
# private network namespace (tests/vrchat/test_oscquery_netns.py); everywhere else it is off,
# for this process and every command it starts.
IN_NETNS = os.environ.get("AVATAR_DRIVER_IN_NETNS") == "1"
if not IN_NETNS:
    os.environ["AVATAR_DRIVER_VRCHAT_OSCQUERY"] = "off"


def _missing(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (AVATAR_DRIVER_REQUIRE_ALL=1: every real part must be present)")
    pytest.skip(reason)


def model_path() -> Path | None:
    """The model `avatar-driver` itself would use (never downloading), else the shared one."""
    from avatar_driver.errors import ModelError
    from avatar_driver.tracking.model import resolve_model

    try:
        return resolve_model(None, download=False).path
    except ModelError:
        shared = SHARED / "models" / "face_landmarker.task"
        return shared.resolve() if shared.is_file() else None


def media_dir() -> Path | None:
    env = os.environ.get("AVATAR_DRIVER_MEDIA")
    for candidate in (env, SHARED / "media"):
        if candidate and (Path(candidate) / "single_face.mp4").is_file():
            return Path(candidate).resolve()
    return None


@pytest.fixture(scope="session")
def model() -> Path:
    path = model_path()
    if path is None:
        _missing("face_landmarker.task not found: set AVATAR_DRIVER_MODEL")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def media() -> Path:
    path = media_dir()
    if path is None:
        _missing("shared clips not found: set AVATAR_DRIVER_MEDIA to the folder of single_face.mp4")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def oscdump() -> str:
    exe = shutil.which("oscdump")
    if exe is None:
        _missing("oscdump not installed (Debian/Ubuntu: apt-get install liblo-tools)")
    assert exe is not None
    return exe


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(model: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AVATAR_DRIVER_DEBUG", None)
    if model is not None:
        env["AVATAR_DRIVER_MODEL"] = str(model)
    return env


def run_cli(
    args: Sequence[str], *, model: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real command (`python -m avatar_driver ...`) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "avatar_driver", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(model),
        cwd=ROOT,
    )
