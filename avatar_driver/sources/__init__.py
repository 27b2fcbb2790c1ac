"""Sources by name: `camera[:INDEX]`, `demo[:sweep]`, or a file picked by its suffix.

`SOURCES` holds the named sources and `FILE_TYPES` the file suffixes; both generate the
`--source` help and the error for something that is neither.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from ..registry import Registry
from .base import SourceBase
from .demo import DemoSource
from .replay import ReplaySource
from .video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, CameraSource, ImageSource, VideoSource

__all__ = [
    "FILE_TYPES",
    "SOURCES",
    "CameraSource",
    "DemoSource",
    "ImageSource",
    "ReplaySource",
    "SourceBase",
    "VideoSource",
    "open_source",
    "source_help",
]

#: Named sources: ``NAME[:ARG]`` -> the source; the argument is "" when left out.
SOURCES: Registry[Callable[[str, str], SourceBase]] = Registry("source", SourceError)
#: File sources by lower-case suffix (".mp4"): path -> the source.
FILE_TYPES: Registry[Callable[[Path], SourceBase]] = Registry("file type", SourceError)


@SOURCES.register("camera", "camera[:INDEX]: a webcam, the first one by default")
def _camera(arg: str, spec: str) -> SourceBase:
    try:
        index = int(arg) if arg else 0
    except ValueError as e:
        raise SourceError(f"camera index must be a number, got {arg!r} in {spec!r}") from e
    return CameraSource(index)


@SOURCES.register("demo", "demo[:sweep]: a synthetic performer, or one pass over each shape")
def _demo(arg: str, spec: str) -> SourceBase:
    return DemoSource({"": "performer", "sweep": "sweep"}.get(arg, arg))


FILE_TYPES.add(".csv", ReplaySource, "a Live Link Face .csv take")
for _suffix in sorted(IMAGE_SUFFIXES):
    FILE_TYPES.add(_suffix, ImageSource, "a still image")
for _suffix in sorted(VIDEO_SUFFIXES):
    FILE_TYPES.add(_suffix, VideoSource, "a video file")


def _file_kinds() -> str:
    """The file types, grouped: a video file (.avi, ...), a still image (.bmp, ...), ..."""
    by_kind: dict[str, list[str]] = {}
    for suffix in FILE_TYPES:
        by_kind.setdefault(FILE_TYPES.help(suffix), []).append(suffix)
    return ", ".join(f"{kind} ({', '.join(s)})" for kind, s in by_kind.items())


def source_help() -> str:
    """The `--source` help: every named source and file type."""
    named = "; ".join(SOURCES.help(n) for n in SOURCES)
    return f"{named}; or a file: {_file_kinds()}"


def open_source(spec: str) -> SourceBase:
    """Open a source from its command-line spelling (a file of that name wins)."""
    name, _, arg = spec.partition(":")
    if name in SOURCES and not Path(spec).exists():
        return SOURCES.get(name)(arg, spec)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(
            f"source {spec!r} is not a file that exists, nor {' or '.join(SOURCES.names())}"
        )
    if path.is_dir():
        raise SourceError(f"source {spec!r} is a folder; expected a file: {_file_kinds()}")
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise SourceError(
            f"source {spec!r}: {suffix or 'a file without a suffix'} is not a file type "
            f"this tool reads; expected {_file_kinds()}"
        )
    return FILE_TYPES.get(suffix)(path)
