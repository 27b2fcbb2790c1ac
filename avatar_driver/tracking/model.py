"""Where the face model file comes from: option, environment, user cache, download.

The model is never bundled with the package (it is Google's, 3.7 MB); it is fetched once
from MediaPipe's public address, checked against a known sha256, and cached per user.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError

__all__ = [
    "ENV_VAR",
    "MODEL_SHA256",
    "MODEL_URL",
    "ModelInfo",
    "cache_dir",
    "fetch_model",
    "resolve_model",
    "sha256_of",
]

MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/"
    "face_landmarker/float16/1/face_landmarker.task"
)
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_FILENAME = "face_landmarker.task"
ENV_VAR = "AVATAR_DRIVER_MODEL"
_HOW = (
    "run `avatar-driver model fetch` while online, or pass --model PATH / set "
    f"{ENV_VAR}=PATH to a face_landmarker.task you already have"
)


@dataclass(frozen=True)
class ModelInfo:
    """A resolved model file and how it was found ("--model", env, cache, download)."""

    path: Path
    origin: str


def cache_dir() -> Path:
    """The per-user cache folder (XDG on Linux, LOCALAPPDATA on Windows, Caches on macOS)."""
    if override := os.environ.get("AVATAR_DRIVER_CACHE"):
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "avatar-driver"


def _check_file(path: Path, origin: str) -> ModelInfo:
    if path.is_dir():
        raise ModelError(
            f"model file {path} (from {origin}) is a folder; expected the "
            f"{MODEL_FILENAME} file itself"
        )
    if not path.is_file():
        raise ModelError(f"model file {path} (from {origin}) does not exist; {_HOW}")
    return ModelInfo(path.resolve(), origin)


def resolve_model(
    option: str | os.PathLike[str] | None = None, *, download: bool = True
) -> ModelInfo:
    """Find the model: `option`, then $AVATAR_DRIVER_MODEL, then the cache, then fetch it."""
    if option:
        return _check_file(Path(option).expanduser(), "--model")
    if env := os.environ.get(ENV_VAR):
        return _check_file(Path(env).expanduser(), f"${ENV_VAR}")
    cached = cache_dir() / MODEL_FILENAME
    if cached.is_file():
        return ModelInfo(cached, "user cache")
    if not download:
        raise ModelError(f"no face model found; {_HOW}")
    return ModelInfo(fetch_model(), "downloaded")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_model(url: str = MODEL_URL, *, timeout: float = 30.0) -> Path:
    """Download the model into the cache, verify its sha256, and return its path."""
    target = cache_dir() / MODEL_FILENAME
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while block := resp.read(1 << 16):
                out.write(block)
                if out.tell() > 64 << 20:
                    raise ModelError(f"download from {url} is larger than any face model")
        got = sha256_of(tmp)
        if got != MODEL_SHA256:
            raise ModelError(
                f"downloaded model has sha256 {got}, expected {MODEL_SHA256}; not using it"
            )
        tmp.replace(target)
        return target
    except (urllib.error.URLError, OSError) as e:
        raise ModelError(f"could not download the face model ({e}); {_HOW}") from e
    finally:
        tmp.unlink(missing_ok=True)
