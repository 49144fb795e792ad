"""Errors raised for bad input, configuration or data.

Every error a user can cause is a `GansuiteError` subclass whose message says what was
wrong, the value seen, what is accepted and what to do. The CLI turns them into one line
and a non-zero exit; library callers can catch them by class.

A message names a caller's keyword argument in backticks, as `tile_overlap`; the CLI shows it as
the flag that sets it (`--tile-overlap`), so one message serves both.
"""

from __future__ import annotations

__all__ = [
    "BackboneNotFoundError",
    "CheckpointError",
    "ConfigError",
    "GansuiteError",
    "InputImageError",
    "InputVideoError",
    "MissingExtraError",
    "NonFiniteLossError",
    "NotAvailableError",
    "OutputError",
    "OutputExistsError",
    "RunInterrupted",
    "UnknownNameError",
    "count_of",
]


def count_of(count: int, noun: str) -> str:
    """A count for a message: `count_of(1, "frame")` is '1 frame', `count_of(3, "frame")` '3 frames'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class GansuiteError(Exception):
    """Base class of every error a user can cause."""


class ConfigError(GansuiteError, ValueError):
    """A configuration value is out of range or inconsistent."""


class UnknownNameError(GansuiteError, KeyError):
    """A registry lookup named something that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputImageError(GansuiteError):
    """An image file is missing, unreadable, empty or of an unsupported kind."""


class InputVideoError(GansuiteError):
    """A video file or frame folder is missing, unreadable or too short, or frames differ in size or are not valid."""


class CheckpointError(GansuiteError):
    """A checkpoint or weights file is missing, corrupt or does not fit the model."""


class BackboneNotFoundError(GansuiteError):
    """An ImageNet backbone (VGG16, AlexNet) could not be found locally or through torchvision."""


class NonFiniteLossError(GansuiteError, RuntimeError):
    """Training produced non-finite losses for too many steps in a row."""


class MissingExtraError(GansuiteError, ImportError):
    """A feature needs an optional dependency group that is not installed (`pip install 'gansuite[EXTRA]'`)."""


class NotAvailableError(GansuiteError):
    """A command or feature that is not available here: in this version, without an optional package
    (spandrel for third-party model files), or an encoding OpenCV cannot do."""


class OutputError(GansuiteError, OSError):
    """An output file cannot be written: its folder is missing, it names a folder, the disk is full, or
    the writer (FFmpeg) failed."""


class OutputExistsError(OutputError, FileExistsError):
    """The output file exists and overwriting was not allowed."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a long run; the message says what was kept and how to go on.

    A `KeyboardInterrupt`, so that code catching the interrupt still does; the CLI prints
    ``interrupted: <message>`` and exits with 130.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
