"""Find, read and compile mapping files and the presets shipped in ``mappings/``.

Reading is data only (TOML), size-limited, and every failure is a `MappingError` that
names the file; presets are looked up by name ("vrchat-unified-v2") in the installed
``avatar_driver/mappings`` folder.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from ..errors import MappingError
from ..shapes import ARKIT_NAMES, pascal
from ..tomlfile import read_toml
from .compile import compile_mapping
from .compiled import CompiledMapping
from .schema import MappingFile, parse_mapping

__all__ = [
    "MAX_MAPPING_BYTES",
    "load_mapping",
    "perfect_sync_mapping",
    "preset_names",
    "preset_path",
    "resolve_spec",
]

MAX_MAPPING_BYTES = 1 << 20


def _preset_dirs() -> list[Path]:
    dirs: list[Path] = []
    try:
        shipped = resources.files("avatar_driver") / "mappings"
        dirs.append(Path(str(shipped)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - odd installs
        pass
    dirs.append(Path(__file__).resolve().parents[2] / "mappings")  # source checkout
    return [d for d in dirs if d.is_dir()]


def preset_names() -> list[str]:
    """Names of the shipped presets (file names without ``.toml``)."""
    names: set[str] = set()
    for d in _preset_dirs():
        names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def preset_path(name: str) -> Path | None:
    stem = name[:-5] if name.endswith(".toml") else name
    for d in _preset_dirs():
        p = d / f"{stem}.toml"
        if p.is_file():
            return p
    return None


def resolve_spec(spec: str | Path) -> Path:
    """A file path, or the path of the preset with that name."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    text = str(spec)
    looks_like_path = "/" in text or "\\" in text or path.suffix == ".toml"
    preset = None if looks_like_path and not text.endswith(".toml") else preset_path(text)
    if preset is None and not ("/" in text or "\\" in text):
        preset = preset_path(text)
    if preset is not None:
        return preset
    names = preset_names()
    close = difflib.get_close_matches(path.stem, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise MappingError(
        f"mapping {text!r}: no such file, and not a preset{hint}; presets: {', '.join(names)}"
    )


def load_mapping(spec: str | Path) -> CompiledMapping:
    """Load and compile a mapping file or a preset by name ("vmc-perfect-sync")."""
    path = resolve_spec(spec)
    data = read_toml(path, what="mapping file", limit=MAX_MAPPING_BYTES, error=MappingError)
    return compile_mapping(parse_mapping(data, str(path)), source=str(path))


def perfect_sync_mapping(
    prefix: str = "/avatar/parameters/", *, pascal_case: bool = False
) -> CompiledMapping:
    """Each of the 52 ARKit shapes as a float 0..1 under `prefix` (perfect-sync)."""
    names = [pascal(n) if pascal_case else n for n in ARKIT_NAMES]
    spec = MappingFile.model_validate(
        {
            "mapping": {"prefix": prefix},
            "param": [{"name": n, "source": s} for n, s in zip(names, ARKIT_NAMES, strict=True)],
        }
    )
    return compile_mapping(spec, source="perfect-sync" + (" (PascalCase)" if pascal_case else ""))
