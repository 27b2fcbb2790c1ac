"""VRChat avatar awareness: the /avatar/change listener and the avatar OSC config."""

from .avatar import (
    AvatarConfig,
    AvatarConfigError,
    AvatarParam,
    default_osc_folders,
    find_avatar_config,
    read_avatar_config,
    wires_for_avatar,
    wires_without_avatar,
)

__all__ = [
    "AvatarConfig",
    "AvatarConfigError",
    "AvatarParam",
    "default_osc_folders",
    "find_avatar_config",
    "read_avatar_config",
    "wires_for_avatar",
    "wires_without_avatar",
]
