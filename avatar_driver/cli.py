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
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

from . import __version__
from .errors import AvatarDriverError, ConfigError

__all__ = ["build_parser", "main"]

PROG = "avatar-driver"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors say what to do in one line and exit 2 like ours."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    if value > 4:
        raise argparse.ArgumentTypeError(f"expected 1 to 4 faces, got {value}")
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
    p.add_argument(
        "--source",
        default="camera",
        help="camera[:INDEX], a video or image file, a Live Link Face .csv take, "
        "demo (synthetic performer) or demo:sweep (default: camera)",
    )
    p.add_argument(
        "--output",
        action="append",
        metavar="KIND[:TARGET]",
        help="vrchat[:HOST:PORT], csv:FILE, none, ... (repeatable; default: vrchat)",
    )
    p.add_argument("--mapping", metavar="FILE", help="mapping file for the outputs that use one")
    p.add_argument(
        "--dynamics",
        default=None,
        help="cortical (default), one-euro or none",
    )
    p.add_argument("--config", metavar="FILE", help="TOML config file ([dynamics] etc.)")
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
        help="performers on one camera, 1-4; send performer N's face with --output N@KIND...",
    )
    p.add_argument(
        "--low-power",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with no face in view, track only 3 times a second (default: on for cameras)",
    )


def _add_output_arguments(p: argparse.ArgumentParser) -> None:
    """Settings of single outputs (virtual camera, Live Link), passed as OutputOptions.extra."""
    g = p.add_argument_group("output settings")
    g.add_argument(
        "--vcam-view",
        choices=("avatar", "debug"),
        default=None,
        help="virtual camera look: avatar (cartoon face, default) or debug (camera + landmarks)",
    )
    g.add_argument("--vcam-device", metavar="DEVICE", help="virtual camera device to use")
    g.add_argument("--vcam-size", metavar="WxH", help="virtual camera size (default 640x480)")
    g.add_argument("--vcam-fps", type=float, metavar="FPS", help="virtual camera rate (default 30)")
    g.add_argument("--livelink-subject", metavar="NAME", help="Live Link subject name")
    g.add_argument("--livelink-device-id", metavar="ID", help="Live Link device id")
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


def _output_extra(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("vcam_view", "vcam_device", "vcam_size", "vcam_fps", "livelink_subject",
            "livelink_device_id", "vrchat_listen", "vrchat_osc_folder")  # fmt: skip
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Drive an avatar's face from a webcam.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="track a face and stream it to the outputs")
    _add_run_arguments(run)
    run.add_argument("--quiet", action="store_true", help="no live status line")
    run.add_argument(
        "--calibration", metavar="FILE", help="calibration profile from `avatar-driver calibrate`"
    )
    run.add_argument(
        "--auto-calibrate",
        action="store_true",
        help="adapt neutral and range while running (no calibration ritual needed)",
    )
    _add_panel_argument(run)
    panel = sub.add_parser("panel", help="run with the control panel and open it in a browser")
    _add_run_arguments(panel)
    panel.add_argument("--quiet", action="store_true", help="no live status line")
    panel.add_argument("--calibration", metavar="FILE", help="calibration profile to start from")
    panel.add_argument("--auto-calibrate", action="store_true", help="as for run")
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
    _add_output_arguments(run)

    bench = sub.add_parser("bench", help="measure the pipeline per stage (no pacing)")
    bench.add_argument("--source", default="demo", help="what to run (default: demo)")
    bench.add_argument("--frames", type=_positive_int, default=None, help="frames to run")
    bench.add_argument("--model", metavar="PATH", help="face_landmarker.task to use")
    bench.add_argument("--dynamics", default=None, help="dynamics to measure (default cortical)")
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

    mapping = sub.add_parser("mapping", help="mapping files")
    mapsub = mapping.add_subparsers(dest="mapping_command", required=True, parser_class=_Parser)
    check = mapsub.add_parser("check", help="validate a mapping file or preset and summarize it")
    check.add_argument("file", metavar="FILE", help="a mapping file, or a preset name")

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
            raise
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
    raise ConfigError(f"unknown command {args.command!r}")  # pragma: no cover


def _config(args: argparse.Namespace) -> dict[str, Any]:
    if not getattr(args, "config", None):
        return {}
    from .config import load_toml

    return load_toml(args.config)


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import RunOptions, open_pipeline
    from .status import StatusLine

    config = _config(args)
    table = config.get("dynamics", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config {args.config}: [dynamics] must be a table, got {table!r}")
    dynamics = args.dynamics or table.get("name", "cortical")
    opts = RunOptions(
        source=args.source,
        outputs=args.output or ["vrchat"],
        mapping=args.mapping,
        dynamics=dynamics,
        dynamics_params=config.get("dynamics"),
        model=args.model,
        fast=args.fast,
        max_frames=args.max_frames,
        config=config,
        calibration=args.calibration,
        auto_calibrate=args.auto_calibrate,
        output_extra=_output_extra(args),
        max_fps=args.max_fps,
        low_power=args.low_power,
        faces=args.faces,
    )
    status = StatusLine(enabled=not args.quiet and sys.stderr.isatty())
    with open_pipeline(opts, status=status) as pipeline:
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
        config=opts.config,
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
