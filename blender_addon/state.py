"""Process state that must not be saved in the .blend: the socket, caches, the recorder."""

from __future__ import annotations

import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core import bones, names, receiver, recording

if TYPE_CHECKING:  # rig needs bpy; this module stays importable without it
    from . import rig

__all__ = ["Runtime", "rt"]


@dataclass
class Runtime:
    receiver: receiver.Receiver | None = None
    scene_name: str = ""
    message: str = ""  # last error or notice, shown in the panel
    matcher: names.NameMatcher | None = None
    matcher_sig: tuple = ()
    match_result: names.MatchResult | None = None
    match_names_seen: int = -1
    buffer: array.array = field(default_factory=lambda: array.array("f"))
    recorder: recording.Recorder | None = None
    recording_target: str = ""
    recording_rig: str = ""
    #: Rest rotation of an object driven as a whole, captured when the session starts.
    object_base: dict[str, bones.Mat3] = field(default_factory=dict)
    targets: rig.RigTargets | None = None
    targets_sig: tuple = ()
    #: What the last tick drove: role -> label, and the problems to show.
    pose_driven: dict[str, str] = field(default_factory=dict)
    pose_problems: list[str] = field(default_factory=list)
    pose_warnings: list[str] = field(default_factory=list)
    eyes_to_shape_keys: bool = False
    tick_ms: float = 0.0
    ticks: int = 0
    internal_errors: int = 0
    last_ui: float = 0.0


rt = Runtime()
