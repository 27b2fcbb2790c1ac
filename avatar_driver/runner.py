"""Assemble a run from options: source, tracker, solver, dynamics, outputs.

Both `run` and `bench` build their pipeline here so they measure the same thing. Every
part opened is closed exactly once, in reverse order, also when a later part fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import ConfigFile, problem
from .dynamics import DEFAULT_DYNAMICS, DYNAMICS, Dynamics, make_dynamics
from .errors import ConfigError
from .outputs import OutputOptions, OutputSettings, create_output
from .pipeline import Lane, Pipeline, Split, Stage
from .solver import PassThroughSolver, Solver
from .sources import ImageSource, open_source
from .sources.base import SourceBase, WantsImage
from .status import StatusLine
from .tracking.idle import IdleGate
from .tracking.model import resolve_model

__all__ = ["MAX_FACES", "RunOptions", "open_pipeline"]

#: Performers one run can track on one camera (`--faces`).
MAX_FACES = 6


class RunOptions(BaseModel):
    """Everything a run is built from, checked when made: a bad value is a `ConfigError`
    naming the option (the command line checks most of them first, with its own words).

    The dynamics come from the command line over the config file over the default: left
    out (None), `dynamics` and `dynamics_params` are the file's `[dynamics]`, or the
    default filter. Output options are layered the same way per key
    (`outputs.base.flag_settings` over `[output.KIND]` over each kind's defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    source: str = "demo"
    outputs: tuple[str, ...] = ("vrchat",)
    #: ``FILE`` for every output that uses a mapping, ``KIND=FILE`` for one kind; several
    #: may be given as a sequence.
    mapping: str | tuple[str, ...] | None = None
    dynamics: str = DEFAULT_DYNAMICS
    dynamics_params: dict[str, Any] | None = None
    model: str | None = None
    fast: bool = False
    max_frames: int | None = Field(default=None, ge=0)
    quiet: bool = True
    max_fps: float | None = Field(default=None, gt=0)
    low_power: bool | None = None  # None: on for cameras, off for files
    config: ConfigFile | None = None  # the checked --config file; None without one
    #: Calibration profile (TOML) for the solver; auto_calibrate adapts while running.
    calibration: str | None = None
    auto_calibrate: bool = False
    #: VR headset mode: True on, False off, None detected (solver.occlusion).
    headset: bool | None = None
    #: Performers on one camera (1-6); outputs spelled ``N@KIND[:TARGET]`` go to performer N.
    faces: int = Field(default=1, ge=1, le=MAX_FACES)
    #: A still image is sent until stopped (`run`), not once then the neutral face.
    hold_still: bool = False
    #: The neutral frame every output gets on stop; False keeps the last expression
    #: (e.g. a --fast take into Blender, whose last key would otherwise be neutral).
    final_neutral: bool = True
    #: Output kinds' own options set on the command line (`outputs.base.flag_settings`),
    #: over the config file's `[output.KIND]` tables, over each kind's defaults.
    output_settings: Mapping[str, OutputSettings] = Field(default_factory=dict)
    #: Which tracker runs the face model: "mediapipe" (the task graph) or "litert".
    tracker: str = "mediapipe"
    #: LiteRT only: skip the tracker on frames where the face is still (tracking/adaptive.py).
    adaptive: bool = False
    #: LiteRT only: mirror-average both face models (tracking/mirror.py), the flipped
    #: crop every this many frames; 0 off.
    mirror_average: int = Field(default=0, ge=0)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise ConfigError(f"run options: {problem(e.errors()[0])}") from e

    @field_validator("tracker")
    @classmethod
    def _known_tracker(cls, v: str) -> str:
        from .tracking.choice import check_tracker

        return check_tracker(v)  # a ConfigError listing the trackers

    @field_validator("dynamics")
    @classmethod
    def _known_dynamics(cls, v: str) -> str:
        DYNAMICS.get(v)  # the registry's own error (a ConfigError listing the choices)
        return v

    @model_validator(mode="before")
    @classmethod
    def _dynamics_layers(cls, data: Any) -> Any:
        """The command line over the config file over the default (see the class doc)."""
        if not isinstance(data, dict):
            return data
        config = data.get("config")
        if data.get("dynamics") is None:
            name = config.dynamics_name(None) if config is not None else DEFAULT_DYNAMICS
            data = {**data, "dynamics": name}
        if data.get("dynamics_params") is None and config is not None:
            data = {**data, "dynamics_params": config.dynamics_params()}
        return data


@contextlib.contextmanager
def open_pipeline(opts: RunOptions, *, status: StatusLine | None = None) -> Iterator[Pipeline]:
    """A ready pipeline; everything it opened is closed on exit."""
    specs = [_performer(spec, opts.faces) for spec in opts.outputs]
    settings = _output_settings(opts, [spec for _, spec in specs])  # checked before opening
    file_mappings = opts.config.output_mappings() if opts.config is not None else {}
    mapping_for = _mapping_choice(opts.mapping, [kind for _, kind in specs], file_mappings)
    with contextlib.ExitStack() as stack:
        source = open_source(opts.source)
        stack.callback(source.close)
        if opts.hold_still and isinstance(source, ImageSource):
            source.hold = True  # keep the image's expression until stopped
        if opts.faces > 1 and not source.needs_tracker:
            raise ConfigError(f"--faces {opts.faces} needs a camera, video or image source")
        tracking = _tracking(opts, source, stack) if source.needs_tracker else _Tracking()
        lanes = [_lane(opts, tracked=source.needs_tracker) for _ in range(opts.faces)]
        if tracking.shared and opts.faces == 1:  # headset mode: paste the recorded upper face
            name, tracker = tracking.shared[0]
            solver = lanes[0].stages[0][1]
            tracking.shared[0] = (name, _with_upper_face(tracker, solver, opts))
        for performer, kind_spec in specs:
            out_opts = OutputOptions(
                mapping=mapping_for(kind_spec), fps=source.fps, settings=settings[_kind(kind_spec)]
            )
            out = create_output(kind_spec, out_opts)
            stack.callback(out.close)  # close() is idempotent; the pipeline closes first
            lanes[performer].outputs.append(out)
        yield Pipeline(
            source=source,
            shared=tracking.shared,
            split=tracking.split,
            lanes=lanes,
            wants_image=tracking.wants_image,
            fast=opts.fast,
            max_frames=opts.max_frames,
            status=status,
            max_fps=opts.max_fps,
            final_neutral=opts.final_neutral,
        )


@dataclass
class _Tracking:
    """The shared part of a run: the tracker stage (or the multi-face split) and its
    capture policy."""

    shared: list[tuple[str, Stage]] = field(default_factory=list)
    split: tuple[str, Split] | None = None
    wants_image: WantsImage | None = None


def _tracking(opts: RunOptions, source: SourceBase, stack: contextlib.ExitStack) -> _Tracking:
    from .tracking.choice import create_tracker
    from .tracking.faces import MultiFaceTracker

    model = resolve_model(opts.model)
    tracker = create_tracker(
        opts.tracker, model.path, mode="image" if source.still else "video",
        num_faces=opts.faces, adaptive=opts.adaptive,
        symmetric=opts.mirror_average > 0, mirror_every=max(1, opts.mirror_average),
    )  # fmt: skip
    stack.callback(tracker.close)
    if opts.faces > 1:
        return _Tracking(split=("tracker", MultiFaceTracker(tracker, opts.faces).split))
    low_power = source.live if opts.low_power is None else opts.low_power
    if not low_power:
        return _Tracking(shared=[("tracker", tracker)])
    gate = IdleGate(tracker)
    return _Tracking(shared=[("tracker", gate)], wants_image=gate.needs_image)


def _lane(opts: RunOptions, *, tracked: bool) -> Lane:
    """One performer's solver and dynamics; the dynamics eases to the solver's neutral."""
    solver = _solver(opts, tracked=tracked)
    dynamics = _dynamics(opts)
    dynamics.set_neutral(solver.neutral_weights())
    return Lane([("solver", solver), ("dynamics", dynamics)], [], watched=1)


def _kind(spec: str) -> str:
    return spec.partition(":")[0].strip().lower()


def _output_settings(opts: RunOptions, specs: Sequence[str]) -> dict[str, OutputSettings | None]:
    """Each kind's typed options: the command line over the file over the defaults."""
    from .outputs.base import OUTPUTS, merge_settings

    out: dict[str, OutputSettings | None] = {}
    for spec in specs:
        kind = _kind(spec)
        cls = OUTPUTS.get(kind, spec=spec)  # an unknown kind is reported before anything opens
        given = opts.output_settings.get(kind)
        if given is not None and (cls.Options is None or not isinstance(given, cls.Options)):
            raise TypeError(f"output_settings[{kind!r}]: expected {cls.Options}, got {given!r}")
        table = opts.config.output_table(kind) if opts.config is not None else None
        out[kind] = merge_settings(kind, table, given)
    return out


def _mapping_choice(
    mapping: str | Sequence[str] | None,
    specs: Sequence[str],
    file_mappings: Mapping[str, str] | None = None,
) -> Callable[[str], str | None]:
    """Which mapping each output gets: ``--mapping KIND=FILE`` for that kind, else
    ``--mapping FILE`` for every output that uses one, else the config file's
    `[output.KIND] mapping`, else (None) the output's own default.

    A command-line mapping no output of the run would use is a mistake, not something to
    ignore (a config file serves many runs: its tables for absent kinds are not).
    """
    from .outputs.base import OUTPUTS

    given = [mapping] if isinstance(mapping, str) else list(mapping or ())
    default: str | None = None
    per_kind: dict[str, str] = {}
    for item in given:
        head, sep, rest = item.partition("=")
        if sep and head.strip().lower() in OUTPUTS:
            per_kind[head.strip().lower()] = rest
        elif default is None:
            default = item
        else:
            raise ConfigError(
                f"--mapping {item}: a second mapping for every output (the first is "
                f"{default}); use --mapping KIND=FILE for one kind"
            )
    kinds = [_kind(s) for s in specs]
    users = [k for k, cls in OUTPUTS.items() if cls.uses_mapping]
    for kind, spec in per_kind.items():
        if kind not in users:
            raise ConfigError(
                f"--mapping {kind}={spec}: {kind} sends fixed names and takes no mapping; "
                f"the outputs that do are {', '.join(users)}"
            )
        if kind not in kinds:
            raise ConfigError(f"--mapping {kind}={spec}: this run has no {kind} output")
    if default is not None and not any(k in users for k in kinds if k not in per_kind):
        present = ", ".join(sorted(set(kinds))) or "none"
        raise ConfigError(
            f"--mapping {default}: no output of this run uses a mapping ({present} send fixed "
            f"names); the outputs that do are {', '.join(users)}"
        )
    in_file = dict(file_mappings or {})
    return lambda spec: per_kind.get(_kind(spec)) or default or in_file.get(_kind(spec))


def _performer(spec: str, faces: int) -> tuple[int, str]:
    """(performer index from 0, output spec) from ``[N@]KIND[:TARGET]``."""
    head, sep, rest = spec.partition("@")
    if not sep or not head.isdigit():
        return 0, spec
    n = int(head)
    if not 1 <= n <= faces:
        raise ConfigError(f"output {spec!r} names performer {n}, but --faces is {faces}")
    return n - 1, rest


def _solver(opts: RunOptions, *, tracked: bool) -> Solver:
    """The tracking solver whenever the tracker runs or a profile is given; else pass-through."""
    if not tracked and opts.calibration is None:
        return PassThroughSolver()
    from .solver import TrackingSolver, load_profile

    profile = load_profile(opts.calibration) if opts.calibration else None
    gain = opts.config.solver.gain if opts.config is not None else None
    return TrackingSolver(profile, auto=opts.auto_calibrate, gain=gain, headset=opts.headset)


def _with_upper_face(tracker: Stage, solver: Stage, opts: RunOptions) -> Stage:
    """The tracker, behind `headset.UpperFacePaste` when the profile recorded an upper face
    and headset mode may be on (pasting only while the solver is in headset mode)."""
    from .solver import TrackingSolver

    if not isinstance(solver, TrackingSolver) or solver.profile is None:
        return tracker
    guard, ref = solver.guard, solver.profile.upper_face
    if opts.headset is False or ref is None or guard is None or opts.calibration is None:
        return tracker
    from pathlib import Path

    from .headset import UpperFacePaste, UpperFacePatch

    image = Path(opts.calibration).expanduser().parent / ref.image
    patch = UpperFacePatch.load(image, ref.points)
    return UpperFacePaste(tracker, patch, active=lambda: bool(guard.headset))


def _dynamics(opts: RunOptions) -> Dynamics:
    origin = opts.config.origin if opts.config is not None else None
    return make_dynamics(opts.dynamics, opts.dynamics_params, origin=origin)
