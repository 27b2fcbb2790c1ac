"""Outputs by name (``--output KIND[:TARGET]``); importing this registers them all."""

from . import csv_take, ifacialmocap, livelink, null, virtualcam, vmc, vrchat  # noqa: F401  (registration side effect)  # noqa: F401  (issue 5 outputs)
from .base import (
    Output,
    OutputBase,
    OutputOptions,
    OutputStats,
    create_output,
    output_kinds,
    register_output,
)

__all__ = [
    "Output",
    "OutputBase",
    "OutputOptions",
    "OutputStats",
    "create_output",
    "output_kinds",
    "register_output",
]
