"""The page's controls: checked on the server thread, applied on the pipeline thread.

Each control validates its value with the loaders the command line uses (`check_gain`,
`make_dynamics`, `load_mapping`), builds whatever is new (a dynamics stage, a compiled
mapping) and queues a small command that the pipeline tap runs between two frames, so no
stage is ever changed while a frame is inside it. Saving writes the file the setting
belongs to, as ``avatar-driver run`` reads it: gain into the calibration profile's
``[gain]`` (or the config's ``[solver.gain]``), dynamics into the config's ``[dynamics]``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import load_config, load_toml
from ..dynamics import DYNAMICS_NAMES, make_dynamics
from ..dynamics.cortical import CORTICAL_DEFAULTS
from ..dynamics.groups import GROUP_NAMES
from ..dynamics.one_euro import ONE_EURO_DEFAULTS
from ..errors import AvatarDriverError, ConfigError
from ..frame import Frame
from ..mapping import load_mapping
from ..mapping.binding import MappingBinding
from ..mapping.loader import preset_names
from ..outputs.base import OutputBase
from ..pipeline import Pipeline, Stage, neutral_frame
from ..shapes import GROUPS
from ..solver import TrackingSolver
from ..solver.calibration import (
    HEAD_GAIN,
    MAX_GAIN,
    Profile,
    check_gain,
    load_profile,
    save_profile,
)
from ..solver.occlusion import COVERED
from .calibrating import CalibrationRun
from .state import Monitor
from .tomlwrite import write_toml

__all__ = ["SMOOTHING", "Controls", "PausedOutput", "RunContext"]

#: The one setting per group behind the page's smoothing slider, for each filter:
#: (key, default per group, slider low, slider high, what it means).
SMOOTHING: dict[str, tuple[str, dict[str, float], float, float, str]] = {
    "cortical": ("rest_tau", {g: v["rest_tau"] for g, v in CORTICAL_DEFAULTS.items()},
                 0.02, 10.0, "s at rest: higher is steadier"),
    "one-euro": ("min_cutoff", {g: v["min_cutoff"] for g, v in ONE_EURO_DEFAULTS.items()},
                 0.05, 20.0, "Hz at rest: lower is steadier"),
}  # fmt: skip
DEFAULT_CONFIG = "avatar-driver.toml"


@dataclass
class RunContext:
    """What the run was started with: where its settings come from and go back to."""

    source: str = ""
    config_path: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)
    calibration: Path | None = None
    dynamics: str = "cortical"
    auto_calibrate: bool = False


class PausedOutput:
    """An output that sends nothing while paused; everything else is the real one's."""

    def __init__(self, inner: OutputBase) -> None:
        self.inner = inner

    def send(self, frame: Frame) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _Slot:
    """A lane's stage by name: read it, or put another in its place (`Pipeline.swap_stage`,
    called on the pipeline thread between frames)."""

    def __init__(self, pipeline: Pipeline, lane: int, name: str) -> None:
        self.pipeline, self.lane, self.name = pipeline, lane, name

    @property
    def stage(self) -> Any:
        return dict(self.pipeline.lanes[self.lane].stages)[self.name]

    @stage.setter
    def stage(self, new: Stage) -> None:
        self.pipeline.swap_stage(self.lane, self.name, new)


def _slot(pipeline: Pipeline, lane: int, name: str) -> _Slot | None:
    if any(n == name for n, _ in pipeline.lanes[lane].stages):
        return _Slot(pipeline, lane, name)
    return None


def _tracking_solver(pipeline: Pipeline, lane: int) -> TrackingSolver | None:
    """The lane's solver when it is the tracking solver (gain, recenter, calibration live
    there); None for a pass-through solver or a lane without one."""
    for name, stage in pipeline.lanes[lane].stages:
        if name == "solver" and isinstance(stage, TrackingSolver):
            return stage
    return None


class Controls:
    def __init__(self, monitor: Monitor, ctx: RunContext) -> None:
        self.monitor = monitor
        self.ctx = ctx
        table = ctx.config.get("dynamics", {})
        self.params: dict[str, Any] = {k: copy.deepcopy(v) for k, v in table.items() if k != "name"}
        self.dynamics = ctx.dynamics
        gain = ctx.config.get("solver", {}).get("gain")
        if gain is None and ctx.calibration is not None:
            try:
                gain = load_profile(ctx.calibration).gain
            except AvatarDriverError:
                gain = None
        self.gains: dict[str, float] = dict(gain or {})
        self.paused = False
        self.calibration: CalibrationRun | None = None
        #: Mapping presets switched on the page, by output kind (what "save mapping" writes).
        self.presets: dict[str, str] = {}

    # -- what the page shows ---------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        smooth = SMOOTHING.get(self.dynamics)
        out: dict[str, Any] = {
            "dynamics": self.dynamics,
            "gain": {g: self.gains.get(g, 1.0) for g in GROUPS},
            "paused": self.paused,
            "smoothing": None,
        }
        if smooth is not None:
            key, defaults, lo, hi, doc = smooth
            out["smoothing"] = {
                "key": key, "low": lo, "high": hi, "doc": doc,
                "values": {
                    g: float(self.params.get(g, {}).get(key, defaults[g])) for g in GROUP_NAMES
                },
            }  # fmt: skip
        solver = _tracking_solver(self.monitor.pipeline, 0)
        warming = solver.auto_warming_up if solver is not None else None
        out["auto"] = None if warming is None else ("warming up" if warming else "adapting")
        if self.calibration is not None:
            out["calibration"] = self.calibration.status()
        return out

    def info(self) -> dict[str, Any]:
        return {
            "groups": list(GROUP_NAMES),
            "gain_groups": [*GROUPS, HEAD_GAIN],
            "max_gain": MAX_GAIN,
            "dynamics_names": list(DYNAMICS_NAMES),
            "presets": preset_names(),
            "profile": str(self.ctx.calibration or "profile.toml"),
            "config": str(self.ctx.config_path or DEFAULT_CONFIG),
            "has_solver": self._has_solver(),
            "covered_below": COVERED,
        }

    def _has_solver(self) -> bool:
        return _tracking_solver(self.monitor.pipeline, 0) is not None

    # -- actions -----------------------------------------------------------------------------

    def handle(self, body: Mapping[str, Any]) -> str:
        """Run one action from the page; returns what happened; ConfigError if refused."""
        action = body.get("action")
        handler = getattr(self, f"_do_{str(action).replace('-', '_')}", None)
        if handler is None:
            raise ConfigError(f"unknown action {action!r}")
        return str(handler(body))

    def _queue(self, command: Any) -> None:
        self.monitor.submit(command)

    def _do_gain(self, body: Mapping[str, Any]) -> str:
        group, value = body.get("group"), body.get("value")
        try:
            checked = check_gain({str(group): value})
        except ValueError as e:
            raise ConfigError(f"gain: {e}") from e
        if not self._has_solver():
            raise ConfigError("gain needs the tracking solver (a camera or video source)")
        self.gains.update(checked)
        gains = dict(self.gains)

        def apply(p: Pipeline) -> None:
            for k in range(len(p.lanes)):
                if (solver := _tracking_solver(p, k)) is not None:
                    solver.set_gain(gains)

        self._queue(apply)
        return f"gain {group} = {checked[str(group)]:g}"

    def _do_recenter(self, body: Mapping[str, Any]) -> str:
        """The head pose of the next face frame becomes straight ahead (`recenter`)."""
        return self._solver_call("recenter", "head recentered on the next face frame")

    def _do_recalibrate(self, body: Mapping[str, Any]) -> str:
        """The auto-calibration forgets what it learned and warms up again."""
        if not self.ctx.auto_calibrate:
            raise ConfigError("recalibrate restarts the auto-calibration: run --auto-calibrate")
        return self._solver_call("recalibrate", "auto-calibration restarted")

    def _solver_call(self, method: str, done: str) -> str:
        """Call `method` of every lane's solver, on the pipeline thread between frames."""
        if not self._has_solver():
            raise ConfigError(f"{method} needs the tracking solver (a camera or video source)")

        def apply(p: Pipeline) -> None:
            for k in range(len(p.lanes)):
                if (solver := _tracking_solver(p, k)) is not None:
                    getattr(solver, method)()

        self._queue(apply)
        return done

    def _do_smoothing(self, body: Mapping[str, Any]) -> str:
        group = str(body.get("group"))
        smooth = SMOOTHING.get(self.dynamics)
        if smooth is None:
            raise ConfigError(f"dynamics {self.dynamics!r} has no smoothing setting")
        if group not in GROUP_NAMES:
            raise ConfigError(f"smoothing: unknown group {group!r}")
        params = copy.deepcopy(self.params)
        params.setdefault(group, {})[smooth[0]] = body.get("value")
        self._rebuild(self.dynamics, params)
        return f"{smooth[0]} {group} = {body.get('value')}"

    def _do_dynamics(self, body: Mapping[str, Any]) -> str:
        name = str(body.get("name"))
        self._rebuild(name, self.params)
        return f"dynamics {name}"

    def _rebuild(self, name: str, params: dict[str, Any]) -> None:
        lanes = len(self.monitor.pipeline.lanes)
        stages = [make_dynamics(name, params) for _ in range(lanes)]  # ConfigError if bad
        self.dynamics, self.params = name, params

        def apply(p: Pipeline) -> None:
            for k, stage in enumerate(stages):
                slot, solver = _slot(p, k, "dynamics"), _slot(p, k, "solver")
                if slot is None:
                    continue
                if solver is not None:  # every Solver knows its neutral face
                    stage.set_neutral(solver.stage.neutral_weights())
                slot.stage = stage

        self._queue(apply)

    def _do_pause(self, body: Mapping[str, Any]) -> str:
        paused = bool(body.get("paused", True))
        self.paused = paused

        def apply(p: Pipeline) -> None:
            rest = neutral_frame(p.last, p.source.fps)
            for lane in p.lanes:
                for j, out in enumerate(lane.outputs):
                    if paused and not isinstance(out, PausedOutput):
                        out.send(rest)  # the avatar rests instead of freezing mid-expression
                        lane.outputs[j] = PausedOutput(out)  # type: ignore[call-overload]
                    elif not paused and isinstance(out, PausedOutput):
                        lane.outputs[j] = out.inner

        self._queue(apply)
        return "outputs paused" if paused else "outputs resumed"

    def _do_preset(self, body: Mapping[str, Any]) -> str:
        """Switch one output's mapping preset. Compiled and prepared (the output's packer)
        here on the request's thread and handed to the output's binding, which swaps it
        in on its next send: the pipeline thread only swaps."""
        index, name = body.get("output"), str(body.get("name"))
        outputs = [o for lane in self.monitor.pipeline.lanes for o in lane.outputs]
        if not isinstance(index, int) or not 0 <= index < len(outputs):
            raise ConfigError(f"preset: no output {index!r}")
        binding = getattr(outputs[index], "binding", None)  # PausedOutput forwards it
        if not isinstance(binding, MappingBinding):
            raise ConfigError(f"preset: output {index} takes no mapping")
        binding.offer(load_mapping(name))  # MappingError if bad, and nothing changes
        self.presets[getattr(outputs[index], "inner", outputs[index]).kind] = name
        return f"output {index}: mapping {name} (Save mappings to keep it)"

    def _do_calibrate(self, body: Mapping[str, Any]) -> str:
        if self.calibration is not None and self.calibration.state == "running":
            raise ConfigError("a calibration is already running")
        if not self._has_solver():
            raise ConfigError("calibration needs a camera or video source")
        path = Path(str(body.get("path") or self.ctx.calibration or "profile.toml")).expanduser()
        mode = str(body.get("mode", "guided"))
        if mode not in ("guided", "relaxed"):
            raise ConfigError(f"calibrate: expected mode guided or relaxed, got {mode!r}")
        run = CalibrationRun(
            mode=mode, path=path, source=self.ctx.source, on_profile=self._use_profile
        )
        self.calibration = run
        self.monitor.frame_sink = run.feed
        self.monitor.attach()
        return f"calibration ({mode}) started"

    def _do_calibrate_cancel(self, body: Mapping[str, Any]) -> str:
        if self.calibration is not None:
            self.calibration.cancel()
        return "calibration cancelled"

    def _use_profile(self, profile: Profile) -> None:
        """From the calibration thread: the new profile takes over at the next frame."""
        self.monitor.frame_sink = None
        assert self.calibration is not None
        self.ctx.calibration = self.calibration.path
        gains = dict(self.gains) or None
        auto = self.ctx.auto_calibrate
        lanes = len(self.monitor.pipeline.lanes)
        old = _tracking_solver(self.monitor.pipeline, 0)
        guard = old.guard if old is not None else None
        keep: dict[str, Any] = {  # the run's other solver options stay as they were
            "occlusion": guard is not None,
            "headset": guard.headset_setting if guard is not None else None,
        }
        if old is not None:
            keep["symmetry"] = old.symmetry
        solvers = [TrackingSolver(profile, auto=auto, gain=gains, **keep) for _ in range(lanes)]

        def apply(p: Pipeline) -> None:
            for k, solver in enumerate(solvers):
                slot, dyn = _slot(p, k, "solver"), _slot(p, k, "dynamics")
                if slot is None:
                    continue
                slot.stage = solver
                if dyn is not None:  # every Dynamics takes a neutral face
                    dyn.stage.set_neutral(solver.neutral_weights())

        self._queue(apply)

    # -- saving --------------------------------------------------------------------------------

    def _do_save(self, body: Mapping[str, Any]) -> str:
        what = body.get("what")
        if what == "gain":
            return self._save_gain()
        if what == "dynamics":
            return self._save_dynamics()
        if what == "mapping":
            return self._save_mapping()
        raise ConfigError(f"save: expected gain, dynamics or mapping, got {what!r}")

    def _config_target(self) -> tuple[Path, dict[str, Any]]:
        path = self.ctx.config_path or Path(DEFAULT_CONFIG)
        data = load_toml(path) if path.is_file() else {}
        return path, data

    def _note(self, path: Path) -> str:
        return "" if self.ctx.config_path else f" (start with --config {path} to use it)"

    def _save_gain(self) -> str:
        gains = check_gain(self.gains)
        in_config = "gain" in self.ctx.config.get("solver", {})
        if self.ctx.calibration is not None and not in_config:
            profile = load_profile(self.ctx.calibration)
            path = save_profile(profile.model_copy(update={"gain": gains}), self.ctx.calibration)
            if load_profile(path).gain != gains:  # read back as `run --calibration` will
                raise ConfigError(f"{path}: the saved gain did not read back")
            return f"gain saved to the profile {path}"
        path, data = self._config_target()
        solver = data.setdefault("solver", {})
        solver["gain"] = gains
        write_toml(path, data)
        check_gain(load_toml(path)["solver"]["gain"])
        self.ctx.config = data
        return f"gain saved to [solver.gain] of {path}" + self._note(path)

    def _save_mapping(self) -> str:
        """The presets chosen on the page as `[output.KIND] mapping`, where `run --config`
        reads them (a `--mapping` on the command line still wins)."""
        if not self.presets:
            raise ConfigError("save: no mapping preset was switched on this page")
        path, data = self._config_target()
        tables = data.setdefault("output", {})
        for kind, name in self.presets.items():
            tables.setdefault(kind, {})["mapping"] = name
        write_toml(path, data)
        read = load_config(path).output_mappings()  # as `run --config` will read it
        if any(read.get(kind) != name for kind, name in self.presets.items()):
            raise ConfigError(f"{path}: the saved mappings did not read back")
        self.ctx.config = data
        chosen = ", ".join(f"{k} = {n}" for k, n in sorted(self.presets.items()))
        return f"mapping saved to [output] of {path} ({chosen})" + self._note(path)

    def _save_dynamics(self) -> str:
        path, data = self._config_target()
        data["dynamics"] = {"name": self.dynamics, **copy.deepcopy(self.params)}
        write_toml(path, data)
        table = load_toml(path)["dynamics"]
        make_dynamics(table["name"], table)  # as `run --config` will build it
        self.ctx.config = data
        return f"dynamics saved to [dynamics] of {path}" + self._note(path)
