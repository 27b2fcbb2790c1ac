"""Assemble a run from options: source, tracker, solver, dynamics, outputs.

Both `run` and `bench` build their pipeline here so they measure the same thing. Every
part opened is closed exactly once, in reverse order, also when a later part fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dynamics import Dynamics, make_dynamics
from .errors import ConfigError
from .outputs import OutputOptions, create_output
from .pipeline import Lane, Pipeline, Stage
from .solver import PassThroughSolver
from .sources import open_source
from .status import StatusLine
from .tracking.idle import IdleGate
from .tracking.model import resolve_model

__all__ = ["RunOptions", "open_pipeline"]


@dataclass
class RunOptions:
    source: str = "demo"
    outputs: Sequence[str] = ("vrchat",)
    mapping: str | None = None
    dynamics: str = "cortical"
    dynamics_params: dict[str, Any] | None = None
    model: str | None = None
    fast: bool = False
    max_frames: int | None = None
    quiet: bool = True
    max_fps: float | None = None
    low_power: bool | None = None  # None: on for cameras, off for files
    config: dict[str, Any] = field(default_factory=dict)
    #: Calibration profile (TOML) for the solver; auto_calibrate adapts while running.
    calibration: str | None = None
    auto_calibrate: bool = False
    #: VR headset mode: True on, False off, None detected (solver.occlusion).
    headset: bool | None = None
    #: Performers on one camera (1-4); outputs spelled ``N@KIND[:TARGET]`` go to performer N.
    faces: int = 1
    #: Output-specific settings from the command line (OutputOptions.extra).
    output_extra: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def open_pipeline(opts: RunOptions, *, status: StatusLine | None = None) -> Iterator[Pipeline]:
    """A ready pipeline; everything it opened is closed on exit."""
    with contextlib.ExitStack() as stack:
        source = open_source(opts.source)
        stack.callback(source.close)
        if opts.faces > 1 and not source.needs_tracker:
            raise ConfigError(f"--faces {opts.faces} needs a camera, video or image source")
        trackers: list[Stage] = []
        if source.needs_tracker:
            from .tracking.faces import MultiFaceTracker
            from .tracking.landmarker import FaceTracker

            model = resolve_model(opts.model)
            tracker = FaceTracker(
                model.path, mode="image" if source.still else "video", num_faces=opts.faces
            )
            stack.callback(tracker.close)
            if opts.faces > 1:
                multi = MultiFaceTracker(tracker, opts.faces)
                trackers = [multi.slot(k) for k in range(opts.faces)]
            else:
                low_power = source.live if opts.low_power is None else opts.low_power
                trackers = [IdleGate(tracker) if low_power else tracker]
        out_opts = OutputOptions(
            mapping=opts.mapping, fps=source.fps, extra=dict(opts.output_extra)
        )
        lanes: list[Lane] = []
        for k in range(opts.faces):
            stages: list[tuple[str, Stage]] = []
            if trackers:
                stages.append(("tracker", trackers[k]))
            solver = _solver(opts, tracked=source.needs_tracker)
            if trackers and opts.faces == 1:  # headset mode: paste the recorded upper face
                stages[0] = ("tracker", _with_upper_face(trackers[0], solver, opts))
            stages.append(("solver", solver))
            dynamics = _dynamics(opts)
            if hasattr(dynamics, "set_neutral") and hasattr(solver, "neutral_weights"):
                dynamics.set_neutral(solver.neutral_weights())
            stages.append(("dynamics", dynamics))
            lanes.append(Lane(stages, []))
        for spec in opts.outputs:
            performer, kind_spec = _performer(spec, opts.faces)
            out = create_output(kind_spec, out_opts)
            stack.callback(out.close)  # close() is idempotent; the pipeline closes first
            lanes[performer].outputs.append(out)
        gate = trackers[0] if trackers and isinstance(trackers[0], IdleGate) else None
        if gate is not None and not any(o.needs_image for lane in lanes for o in lane.outputs):
            source.wants_image = gate.needs_image  # idle frames skip colour conversion
        yield Pipeline(
            source=source,
            stages=lanes[0].stages,
            outputs=lanes[0].outputs,
            more_lanes=lanes[1:],
            fast=opts.fast,
            max_frames=opts.max_frames,
            status=status,
            max_fps=opts.max_fps,
        )


def _performer(spec: str, faces: int) -> tuple[int, str]:
    """(performer index from 0, output spec) from ``[N@]KIND[:TARGET]``."""
    head, sep, rest = spec.partition("@")
    if not sep or not head.isdigit():
        return 0, spec
    n = int(head)
    if not 1 <= n <= faces:
        raise ConfigError(f"output {spec!r} names performer {n}, but --faces is {faces}")
    return n - 1, rest


def _solver(opts: RunOptions, *, tracked: bool) -> Stage:
    """The tracking solver whenever the tracker runs or a profile is given; else pass-through."""
    if not tracked and opts.calibration is None:
        return PassThroughSolver()
    from .solver import TrackingSolver, load_profile
    from .solver.calibration import check_gain

    profile = load_profile(opts.calibration) if opts.calibration else None
    table = opts.config.get("solver", {}).get("gain") if isinstance(opts.config, dict) else None
    try:
        if table is not None and not isinstance(table, dict):
            raise ValueError(f"expected a table of group = gain, got {table!r}")
        gain = check_gain(table) if table is not None else None
    except ValueError as e:
        raise ConfigError(f"config [solver.gain]: {e}") from e
    return TrackingSolver(profile, auto=opts.auto_calibrate, gain=gain, headset=opts.headset)


def _with_upper_face(tracker: Stage, solver: Stage, opts: RunOptions) -> Stage:
    """The tracker, behind `headset.UpperFacePaste` when the profile recorded an upper face
    and headset mode may be on (pasting only while the solver is in headset mode)."""
    profile = getattr(solver, "profile", None)
    guard = getattr(solver, "guard", None)
    ref = getattr(profile, "upper_face", None)
    if opts.headset is False or ref is None or guard is None or opts.calibration is None:
        return tracker
    from pathlib import Path

    from .headset import UpperFacePaste, UpperFacePatch

    image = Path(opts.calibration).expanduser().parent / ref.image
    patch = UpperFacePatch.load(image, ref.points)
    return UpperFacePaste(tracker, patch, active=lambda: bool(guard.headset))


def _dynamics(opts: RunOptions) -> Dynamics:
    return make_dynamics(opts.dynamics, opts.dynamics_params)
