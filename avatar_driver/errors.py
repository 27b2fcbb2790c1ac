"""One exception base for the whole tool; the CLI turns these into exit codes.

`BadInputError` and its subclasses mean the user gave something wrong (exit 2); any other
`AvatarDriverError` is a failure of ours or of the environment (exit 1).
"""

from __future__ import annotations

__all__ = [
    "AvatarDriverError",
    "BadInputError",
    "CalibrationError",
    "ConfigError",
    "MappingError",
    "ModelError",
    "OutputError",
    "SourceError",
]


class AvatarDriverError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 1


class BadInputError(AvatarDriverError):
    """Something the user supplied (file, option, device) is wrong: exit 2."""

    exit_code = 2


class ConfigError(BadInputError):
    """A command-line option or config file value is invalid."""


class MappingError(BadInputError):
    """A mapping file is invalid; the message names file, entry and field."""


class SourceError(BadInputError):
    """A source (camera, video, image, take) cannot be opened or read."""


class ModelError(BadInputError):
    """The face model cannot be found, fetched or verified."""


class OutputError(BadInputError):
    """An output cannot be created (unknown kind, bad target, missing device)."""


class CalibrationError(BadInputError):
    """A calibration profile is invalid."""
