"""Outputs by name (``--output KIND[:TARGET]``); importing this registers them all."""

from . import csv_take, ifacialmocap, livelink, null, virtualcam, vmc, vrchat  # noqa: F401  (registration side effect)
from .base import (
    OUTPUTS,
    OutputBase,
    OutputOptions,
    OutputSettings,
    OutputStats,
    create_output,
    output_kinds,
    register_output,
)

__all__ = [
    "OUTPUTS",
    "OutputBase",
    "OutputOptions",
    "OutputSettings",
    "OutputStats",
    "create_output",
    "output_kinds",
    "register_output",
]
