"""Loads the add-on's bpy-free core under its own name (``adcore``) without importing the
add-on package, whose ``__init__`` needs bpy; builds the extension zip for Blender tests
(the `addon_zip` fixture)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers


def _load_core() -> None:
    if "adcore" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "adcore", ADDON / "core" / "__init__.py", submodule_search_locations=[str(ADDON / "core")]
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["adcore"] = mod
    spec.loader.exec_module(mod)


_load_core()

HAVE_BPY = importlib.util.find_spec("bpy") is not None
REQUIRE_ALL = os.environ.get("AVATAR_DRIVER_REQUIRE_ALL") == "1"


@pytest.fixture(scope="session")
def addon_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension zip, built once per run by the add-on's own build script."""
    sys.path.insert(0, str(ADDON))
    try:
        import build
    finally:
        sys.path.pop(0)
    return build.build(tmp_path_factory.mktemp("dist"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REQUIRE_ALL and not HAVE_BPY:
        raise pytest.UsageError("bpy is not installed but AVATAR_DRIVER_REQUIRE_ALL=1")
    skip = pytest.mark.skip(reason="bpy (Blender as a Python module) is not installed")
    for item in items:
        if "blender" in item.keywords and not HAVE_BPY:
            item.add_marker(skip)
