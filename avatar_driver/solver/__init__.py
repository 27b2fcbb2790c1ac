"""The solver stage: calibration and corrections on top of the tracker's weights."""

from .base import PassThroughSolver, Solver

__all__ = ["PassThroughSolver", "Solver"]
