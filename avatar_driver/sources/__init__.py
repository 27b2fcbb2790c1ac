"""Sources by name: `camera[:INDEX]`, a video or image file, `demo[:sweep]`, a CSV take."""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from .base import Source, SourceBase
from .demo import DemoSource
from .replay import ReplaySource
from .video import IMAGE_SUFFIXES, CameraSource, ImageSource, VideoSource

__all__ = [
    "CameraSource",
    "DemoSource",
    "ImageSource",
    "ReplaySource",
    "Source",
    "SourceBase",
    "VideoSource",
    "open_source",
]


def open_source(spec: str) -> SourceBase:
    """Open a source from its command-line spelling."""
    kind, _, arg = spec.partition(":")
    if kind == "camera" and not Path(spec).exists():
        try:
            index = int(arg) if arg else 0
        except ValueError as e:
            raise SourceError(f"camera index must be a number, got {arg!r} in {spec!r}") from e
        return CameraSource(index)
    if kind == "demo" and not Path(spec).exists():
        return DemoSource({"": "performer", "sweep": "sweep"}.get(arg, arg))
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(
            f"source {spec!r} is not a file that exists, nor camera[:N] or demo[:sweep]"
        )
    if path.is_dir():
        raise SourceError(f"source {spec!r} is a folder; expected a video, image or .csv take")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return ReplaySource(path)
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path)
    return VideoSource(path)
