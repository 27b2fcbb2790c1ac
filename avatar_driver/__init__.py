"""avatar-driver: a webcam face drives an avatar (VRChat, VMC, Live Link, Blender, CSV)."""

from .errors import AvatarDriverError
from .frame import Frame
from .shapes import ARKIT_NAMES

__all__ = ["ARKIT_NAMES", "AvatarDriverError", "Frame", "__version__"]
__version__ = "0.1.0"
