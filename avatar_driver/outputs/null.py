"""The `none` output: takes frames and drops them, for measuring the pipeline."""

from __future__ import annotations

from ..frame import Frame
from .base import OutputBase, OutputOptions, register_output

__all__ = ["NullOutput"]


@register_output("none", "discard frames (for measuring)")
class NullOutput(OutputBase):
    kind = "none"

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> NullOutput:
        return cls()

    def send(self, frame: Frame) -> None:
        self.stats.frames_sent += 1
