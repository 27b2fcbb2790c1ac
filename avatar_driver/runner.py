"""Assemble a run from options: source, tracker, solver, dynamics, outputs.

Both `run` and `bench` build their pipeline here so they measure the same thing. Every
part opened is closed exactly once, in reverse order, also when a later part fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .frame import Frame
from .outputs import OutputBase, OutputOptions, create_output
from .pipeline import Pipeline, Stage
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


@contextlib.contextmanager
def open_pipeline(opts: RunOptions, *, status: StatusLine | None = None) -> Iterator[Pipeline]:
    """A ready pipeline; everything it opened is closed on exit."""
    with contextlib.ExitStack() as stack:
        source = open_source(opts.source)
        stack.callback(source.close)
        stages: list[tuple[str, Stage]] = []
        if source.needs_tracker:
            from .tracking.landmarker import FaceTracker

            model = resolve_model(opts.model)
            tracker = FaceTracker(model.path, mode="image" if source.still else "video")
            stack.callback(tracker.close)
            low_power = source.live if opts.low_power is None else opts.low_power
            stages.append(("tracker", IdleGate(tracker) if low_power else tracker))
        stages.append(("solver", PassThroughSolver()))
        stages.append(("dynamics", _dynamics(opts)))
        out_opts = OutputOptions(mapping=opts.mapping, fps=source.fps)
        outputs: list[OutputBase] = []
        for spec in opts.outputs:
            out = create_output(spec, out_opts)
            stack.callback(out.close)  # close() is idempotent; the pipeline closes first
            outputs.append(out)
        yield Pipeline(
            source=source,
            stages=stages,
            outputs=outputs,
            fast=opts.fast,
            max_frames=opts.max_frames,
            status=status,
            max_fps=opts.max_fps,
        )


def _dynamics(opts: RunOptions) -> Stage:
    try:
        from .dynamics import make_dynamics
    except ImportError:  # pragma: no cover - the dynamics package is part of the product

        def passthrough(frame: Frame) -> Frame:
            return frame

        return passthrough
    return make_dynamics(opts.dynamics, opts.dynamics_params)
