"""The control panel: a local web page to watch, calibrate and tune a run while it runs.

`Panel.start(pipeline, ctx, address)` taps the pipeline (see `state.Monitor`) and serves
the page (see `server.PanelServer`); `close()` stops the server. With no tab open and no
command pending, the pipeline has no tap at all.
"""

from __future__ import annotations

from ..pipeline import Pipeline
from .controls import Controls, RunContext
from .server import DEFAULT_HOST, DEFAULT_PORT, PanelServer, parse_address
from .state import Monitor

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Panel", "RunContext", "parse_address"]


class Panel:
    def __init__(self, monitor: Monitor, controls: Controls, server: PanelServer) -> None:
        self.monitor, self.controls, self.server = monitor, controls, server

    @classmethod
    def start(cls, pipeline: Pipeline, ctx: RunContext, address: str | None = None) -> Panel:
        host, port = parse_address(address)
        monitor = Monitor(pipeline)
        controls = Controls(monitor, ctx)
        server = PanelServer(monitor, controls, host, port)
        return cls(monitor, controls, server)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        if self.controls.calibration is not None:
            self.controls.calibration.cancel()
        self.server.close()

    def __enter__(self) -> Panel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
