"""The `avatar-driver` command line: run, calibrate, mapping check, bench, model.

Exit codes: 0 done, 2 bad input (file, mapping, option, device), 1 other failure.
Errors print one line, never a traceback (set AVATAR_DRIVER_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import AvatarDriverError, ConfigError

if TYPE_CHECKING:
    from .config import ConfigFile

__all__ = ["build_parser", "main"]

PROG = "avatar-driver"


class _Formatter(argparse.HelpFormatter):
    """Help text for the registries (sources, outputs, dynamics) is built only when
    --help is printed, so a run does not import every output just to parse options."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        build = getattr(action, "help_from", None)
        return str(build()) if build is not None else action.help


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors say what to do in one line and exit 2 like ours."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _source_help() -> str:
    from .sources import source_help

    return f"{source_help()} (default: %(default)s)"


def _output_help() -> str:
    from .outputs.base import OUTPUTS

    return f"where to send the face (repeatable; default: vrchat). {OUTPUTS.help_text()}"


def _dynamics_help() -> str:
    from .dynamics import DYNAMICS

    return f"expression filter: {DYNAMICS.help_text()}"


def _registry_help(action: argparse.Action, build: Any) -> None:
    action.help_from = build  # type: ignore[attr-defined]  # read by _Formatter
    action.help = "(listed by --help)"  # argparse leaves out options without help


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _faces(text: str) -> int:
    value = _positive_int(text)
    if value > 6:
        raise argparse.ArgumentTypeError(f"expected 1 to 6 faces, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    _registry_help(p.add_argument("--source", default="camera"), _source_help)
    _registry_help(
        p.add_argument("--output", action="append", metavar="KIND[:TARGET]"), _output_help
    )
    p.add_argument(
        "--mapping",
        action="append",
        metavar="[KIND=]FILE",
        help="mapping file or preset for the outputs that use one (vrchat, vmc, blender); "
        "KIND=FILE for one kind only (repeatable; over the config file's [output.KIND] "
        "mapping); edits are picked up while running",
    )
    _registry_help(p.add_argument("--dynamics", default=None), _dynamics_help)
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file: [dynamics], [solver.gain], [output.KIND] (the command line wins)",
    )
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task to use")
    p.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames")
    p.add_argument(
        "--fast", action="store_true", help="process a file as fast as possible (no pacing)"
    )
    p.add_argument(
        "--max-fps", type=_positive_float, metavar="FPS", help="process at most FPS frames a second"
    )
    p.add_argument(
        "--faces",
        type=_faces,
        default=1,
        metavar="N",
        help="performers on one camera, 1-6; send performer N's face with --output N@KIND...",
    )
    p.add_argument(
        "--low-power",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with no face in view, track only 3 times a second (default: on for cameras)",
    )


def _add_output_arguments(p: argparse.ArgumentParser) -> None:
    """Settings of single outputs: ``--PREFIX-KEY`` is option KEY of the outputs whose
    `flag_prefix` is PREFIX (their `Options` model; tests/test_cli.py keeps the two in
    step). Left out, the config file's ``[output.KIND]`` value or the default is used."""
    g = p.add_argument_group(
        "output settings", "also settable in the config file's [output.KIND] tables"
    )
    g.add_argument(
        "--vcam-view",
        choices=("avatar", "debug"),
        default=None,
        help="virtual camera look: avatar (cartoon face, default) or debug (camera + landmarks)",
    )
    g.add_argument("--vcam-device", metavar="DEVICE", help="virtual camera device to use")
    g.add_argument("--vcam-size", metavar="WxH", help="virtual camera size (default 640x480)")
    g.add_argument("--vcam-fps", metavar="FPS", help="virtual camera rate (default 30)")
    g.add_argument(
        "--vcam-backend",
        metavar="NAME",
        help="pyvirtualcam backend: v4l2loopback, obs or unitycapture (default: the first found)",
    )
    g.add_argument("--livelink-subject", metavar="NAME", help="Live Link subject name")
    g.add_argument("--livelink-device-id", metavar="ID", help="Live Link device id")
    g.add_argument(
        "--vmc-head-position",
        metavar="X,Y,Z",
        help="vmc and blender: Head bone local position in metres, Unity axes (default 0,0.08,0)",
    )
    g.add_argument(
        "--vrchat-listen",
        metavar="HOST:PORT|off",
        help="where to hear VRChat's /avatar/change (default 127.0.0.1:9001; off to disable)",
    )
    g.add_argument(
        "--vrchat-osc-folder",
        metavar="DIR",
        help="VRChat's OSC folder holding avatar configs (default: the Windows or Proton one)",
    )
    g.add_argument(
        "--vrchat-oscquery",
        choices=("on", "off"),
        help="find VRChat by OSCQuery (default: on when vrchat has no target and no "
        "--vrchat-listen); off: 127.0.0.1:9000, 9001 and the OSC JSON files",
    )


def _add_panel_argument(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument(
        "--panel",
        nargs="?",
        const="",
        default=default,
        metavar="HOST:PORT",
        help="serve the control panel (default 127.0.0.1:8787, or a free port if taken); "
        "its address and access token are printed",
    )


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """What `run` and `panel` share beyond the source and outputs."""
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument(
        "--calibration", metavar="FILE", help="calibration profile from `avatar-driver calibrate`"
    )
    p.add_argument(
        "--auto-calibrate",
        action="store_true",
        help="adapt neutral and range while running (no calibration ritual needed)",
    )
    p.add_argument(
        "--final-neutral",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send the neutral face when the run ends (default: on; --no-final-neutral keeps "
        "the last expression, e.g. as the last key of a --fast take into Blender)",
    )
    p.add_argument(
        "--headset",
        choices=("auto", "on", "off"),
        default="auto",
        help="VR headset over the eyes: eyes and brows held at neutral, EyeTrackingActive "
        "off (auto: detected when the upper face is covered for a second)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Drive an avatar's face from a webcam.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="track a face and stream it to the outputs")
    _add_run_arguments(run)
    _add_run_options(run)
    _add_panel_argument(run)
    _add_output_arguments(run)
    panel = sub.add_parser("panel", help="run with the control panel and open it in a browser")
    _add_run_arguments(panel)
    _add_run_options(panel)
    _add_panel_argument(panel, default="")
    panel.add_argument("--no-browser", action="store_true", help="only print the address")
    _add_output_arguments(panel)

    cal = sub.add_parser("calibrate", help="record a calibration profile for your face")
    cal.add_argument("--source", default="camera", help="camera[:INDEX] or a video file")
    cal.add_argument("--out", required=True, metavar="PROFILE", help="profile file to write")
    cal.add_argument(
        "--neutral-seconds",
        type=float,
        default=None,
        metavar="S",
        help="video files: the first S seconds show a relaxed face (default 0.5)",
    )
    cal.add_argument("--model", metavar="PATH", help="face_landmarker.task to use")

    bench = sub.add_parser("bench", help="measure the pipeline per stage (no pacing)")
    _registry_help(bench.add_argument("--source", default="demo"), _source_help)
    bench.add_argument("--frames", type=_positive_int, default=None, help="frames to run")
    bench.add_argument("--model", metavar="PATH", help="face_landmarker.task to use")
    _registry_help(bench.add_argument("--dynamics", default=None), _dynamics_help)
    bench.add_argument(
        "--output",
        action="append",
        metavar="KIND[:TARGET]",
        help="outputs to measure besides vrchat to a loopback sink (repeatable)",
    )
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument(
        "--no-paced", action="store_true", help="skip the run at the source's own rate (CPU share)"
    )
    bench.add_argument(
        "--latencies", action="store_true", help="include every frame's latency in the JSON"
    )

    for p in (run, panel, cal, bench):  # which tracker runs the face model (tracking/choice.py)
        p.add_argument(
            "--tracker",
            choices=("mediapipe", "litert", "both") if p is bench else ("mediapipe", "litert"),
            default="mediapipe",
            help="mediapipe: MediaPipe's task graph (default); litert: the same models run "
            "directly, cheaper" + ("; both: compare the two on the source" if p is bench else ""),
        )
        if p is not bench:
            p.add_argument(
                "--mirror-average",
                type=int,
                default=0,
                metavar="N",
                help="litert: mirror-average both face models, so a face and its mirror image "
                "read alike (the flipped crop every Nth frame; 4: ~1.4x the tracker's CPU, "
                "1: 2x; calibrate with the same N); default 0, off",
            )
        if p is not cal:
            p.add_argument(
                "--adaptive",
                action="store_true",
                help="litert: skip the tracker on frames where the face is still (default off)",
            )

    mapping = sub.add_parser("mapping", help="mapping files")
    mapsub = mapping.add_subparsers(dest="mapping_command", required=True, parser_class=_Parser)
    check = mapsub.add_parser("check", help="validate a mapping file or preset and summarize it")
    check.add_argument("file", metavar="FILE", help="a mapping file, or a preset name")

    vrchat = sub.add_parser("vrchat", help="VRChat avatars")
    vsub = vrchat.add_subparsers(dest="vrchat_command", required=True, parser_class=_Parser)
    vparams = vsub.add_parser("params", help="synced bits the avatar's face parameters use")
    vparams.add_argument(
        "--avatar-config", metavar="FILE", help="the avatar's OSC config (OSC/<user>/Avatars/...)"
    )
    vparams.add_argument("--mapping", metavar="FILE", help="mapping file or preset")
    vparams.add_argument(
        "--budget", metavar="BITS", type=_positive_int, help="bits the face may use"
    )

    model = sub.add_parser("model", help="the face model file")
    msub = model.add_subparsers(dest="model_command", required=True, parser_class=_Parser)
    msub.add_parser("info", help="which model file is used and where it came from")
    fetch = msub.add_parser("fetch", help="download, verify and cache the model")
    fetch.add_argument("--url", default=None, help=argparse.SUPPRESS)
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return _dispatch(args)
    except AvatarDriverError as e:
        if os.environ.get("AVATAR_DRIVER_DEBUG"):
            traceback.print_exc()  # the details, and still the exit code a script expects
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 0
    except Exception as e:  # a bug of ours: one line for the user, the details on request
        if os.environ.get("AVATAR_DRIVER_DEBUG"):
            raise
        print(
            f"{PROG}: internal error: {type(e).__name__}: {e} "
            "(set AVATAR_DRIVER_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("run", "panel"):
        return _cmd_run(args)
    if args.command == "calibrate":
        from .calibrate import run_calibrate

        return run_calibrate(args)
    if args.command == "bench":
        from .bench import run_bench

        return run_bench(args)
    if args.command == "mapping":
        return _cmd_mapping(args)
    if args.command == "model":
        return _cmd_model(args)
    if args.command == "vrchat":
        from .vrchat.budget import run_params

        return run_params(args)
    raise ConfigError(f"unknown command {args.command!r}")  # pragma: no cover


def _config(args: argparse.Namespace) -> ConfigFile | None:
    """The checked --config file; None without one (pydantic is then never imported)."""
    if not getattr(args, "config", None):
        return None
    from .config import load_config

    return load_config(args.config)


def _cmd_run(args: argparse.Namespace) -> int:
    from .outputs.base import flag_settings
    from .runner import RunOptions, open_pipeline
    from .status import StatusLine

    output_settings = flag_settings(vars(args))  # a bad --vcam-size etc. stops here
    config = _config(args)
    opts = RunOptions(  # the dynamics: the command line's, else the file's, else the default
        source=args.source,
        outputs=args.output or ["vrchat"],
        mapping=args.mapping,
        dynamics=args.dynamics,
        model=args.model,
        fast=args.fast,
        max_frames=args.max_frames,
        config=config,
        calibration=args.calibration,
        auto_calibrate=args.auto_calibrate,
        headset={"auto": None, "on": True, "off": False}[args.headset],
        output_settings=output_settings,
        max_fps=args.max_fps,
        low_power=args.low_power,
        faces=args.faces,
        hold_still=not args.fast,
        final_neutral=args.final_neutral,
        tracker=args.tracker,
        adaptive=args.adaptive,
        mirror_average=args.mirror_average,
    )
    status = StatusLine(enabled=not args.quiet and sys.stderr.isatty())
    with open_pipeline(opts, status=status) as pipeline:
        _solver_signals(pipeline)
        if not args.quiet:
            outs = ", ".join(o.describe() for o in pipeline.outputs)
            print(f"{PROG}: {pipeline.source.description} -> {outs}", file=sys.stderr)
        with _panel(args, opts, pipeline):
            result = pipeline.run()
    if not args.quiet:
        print(
            f"{PROG}: {result.frames} frames, face in {result.faces}, "
            f"{result.elapsed_s:.1f} s" + (" (stopped)" if result.interrupted else ""),
            file=sys.stderr,
        )
    return 0


def _solver_signals(pipeline: Any) -> None:
    """SIGUSR1 recenters the head pose, SIGUSR2 restarts the auto-calibration (POSIX)."""
    import threading

    if not hasattr(signal, "SIGUSR1") or threading.current_thread() is not threading.main_thread():
        return
    from .solver import TrackingSolver

    solvers = [st for lane in pipeline.lanes for _, st in lane.stages
               if isinstance(st, TrackingSolver)]  # fmt: skip
    for signum, method in ((signal.SIGUSR1, "recenter"), (signal.SIGUSR2, "recalibrate")):
        calls = [getattr(s, method) for s in solvers]
        signal.signal(signum, lambda *_a, calls=calls: [c() for c in calls])


def _config_table(path: str | None) -> dict[str, Any]:
    """The config file as its TOML tables (the panel edits and saves them); {} without one."""
    from .config import load_toml

    return load_toml(path) if path else {}


@contextlib.contextmanager
def _panel(args: argparse.Namespace, opts: Any, pipeline: Any) -> Iterator[None]:
    """The control panel around a run, when asked for (`--panel`, or `panel`)."""
    address = getattr(args, "panel", None)
    if address is None:
        yield
        return
    from pathlib import Path

    from .panel import Panel, RunContext

    ctx = RunContext(
        source=opts.source,
        config_path=Path(args.config) if args.config else None,
        config=_config_table(args.config),
        calibration=Path(args.calibration) if args.calibration else None,
        dynamics=opts.dynamics,
        auto_calibrate=opts.auto_calibrate,
    )
    with Panel.start(pipeline, ctx, address or None) as panel:
        print(f"{PROG}: panel at {panel.url}", file=sys.stderr, flush=True)  # even --quiet
        if args.command == "panel" and not args.no_browser:
            import webbrowser

            with contextlib.suppress(Exception):  # no browser: the printed address will do
                webbrowser.open(panel.url)
        yield


def _cmd_mapping(args: argparse.Namespace) -> int:
    from .mapping import load_mapping

    print(load_mapping(args.file).describe())
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from .tracking.model import MODEL_URL, fetch_model, resolve_model, sha256_of

    if args.model_command == "fetch":
        path = fetch_model(args.url or MODEL_URL)
        print(f"model saved to {path} (sha256 verified)")
        return 0
    info = resolve_model(None, download=False)
    print(f"model: {info.path}")
    print(f"from: {info.origin}")
    print(f"sha256: {sha256_of(info.path)}")
    return 0
