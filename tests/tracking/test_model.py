"""Model resolution order, download with sha256 check, and the offline message."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from avatar_driver.errors import ModelError
from avatar_driver.tracking import model as model_mod
from tests.conftest import run_cli


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AVATAR_DRIVER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AVATAR_DRIVER_MODEL", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real HTTP server on loopback serving a folder."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_option_beats_env_beats_cache(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.task", tmp_path / "b.task"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    cache.mkdir()
    (cache / "face_landmarker.task").write_bytes(b"c")
    monkeypatch.setenv("AVATAR_DRIVER_MODEL", str(b))
    assert model_mod.resolve_model(str(a)).origin == "--model"
    assert model_mod.resolve_model(None).path == b.resolve()
    monkeypatch.delenv("AVATAR_DRIVER_MODEL")
    assert model_mod.resolve_model(None).origin == "user cache"


def test_missing_option_file_names_the_fix(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model fetch"):
        model_mod.resolve_model(str(tmp_path / "nope.task"))


def test_fetch_verifies_and_caches(cache: Path, model: Path, http_dir: tuple[Path, str]) -> None:
    root, url = http_dir
    shutil.copy(model, root / "face_landmarker.task")
    path = model_mod.fetch_model(url + "/face_landmarker.task")
    assert path == cache / "face_landmarker.task"
    assert model_mod.sha256_of(path) == model_mod.MODEL_SHA256
    assert model_mod.resolve_model(None).origin == "user cache"


def test_fetch_rejects_wrong_checksum(cache: Path, http_dir: tuple[Path, str]) -> None:
    root, url = http_dir
    (root / "face_landmarker.task").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256"):
        model_mod.fetch_model(url + "/face_landmarker.task")
    assert not (cache / "face_landmarker.task").exists()
    assert not list(cache.glob("*.part"))


def test_offline_run_says_how_to_get_the_model(tmp_path: Path, media: Path) -> None:
    # Nothing cached, no option, no env: `run` tries the download, which cannot work
    # offline or against a closed port, and must say in one line what to do.
    import os

    env_cache = tmp_path / "empty-cache"
    old = {k: os.environ.get(k) for k in ("AVATAR_DRIVER_CACHE", "AVATAR_DRIVER_MODEL")}
    os.environ["AVATAR_DRIVER_CACHE"] = str(env_cache)
    os.environ.pop("AVATAR_DRIVER_MODEL", None)
    try:
        proc = run_cli(
            ["run", "--source", str(media / "single_face.mp4"), "--output", "none", "--quiet"],
            timeout=120,
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "avatar-driver model fetch" in lines[0]
    assert "Traceback" not in proc.stderr


def test_model_info(model: Path) -> None:
    proc = run_cli(["model", "info"], model=model)
    assert proc.returncode == 0
    assert str(model) in proc.stdout and model_mod.MODEL_SHA256 in proc.stdout
