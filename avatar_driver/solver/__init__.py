"""The solver stage: calibration and corrections on top of the tracker's weights.

`TrackingSolver` is the real stage (docs/tracking.md); `PassThroughSolver` leaves frames
as the tracker made them (sources without a tracker).
"""

from .base import PassThroughSolver, Solver
from .calibration import Profile, load_profile, profile_from_neutral, save_profile
from .solver import TrackingSolver

__all__ = [
    "PassThroughSolver",
    "Profile",
    "Solver",
    "TrackingSolver",
    "load_profile",
    "profile_from_neutral",
    "save_profile",
]
