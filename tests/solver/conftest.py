"""Shared fixtures: the real model and clips, tracked once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.tracked_clips import TrackedClip, track_clip


@pytest.fixture(scope="session")
def single_face(model: Path, media: Path) -> TrackedClip:
    """single_face.mp4 and its mirror image, tracked in IMAGE mode."""
    return track_clip(media / "single_face.mp4", str(model))
