"""Images drawn from frames: the cartoon avatar and the debug view (virtual camera looks)."""

from .avatar import render_avatar
from .debug import render_debug

__all__ = ["render_avatar", "render_debug"]
