"""User-facing failures: each becomes one line on stderr and an exit code in pmipview/cli/."""

from __future__ import annotations

from pmipview.sources.records import CaptureError

__all__ = ["CaptureError", "OutputError", "UsageError"]


class UsageError(Exception):
    """A command-line value that cannot be used (exit code 2)."""


class OutputError(Exception):
    """An output that cannot be written (exit code 1)."""
