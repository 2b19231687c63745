"""The one error a layer decoder may raise, and the marker a malformed frame carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, unsafe_hash=True)
class Malformed:
    """Where and why dissection stopped (or what it flagged), like ``[Malformed Packet]``.

    ``offset`` counts from the first byte of the frame when the marker is on a frame,
    and from the first byte of the layer's buffer when a layer decoder raised it.
    ``severity`` is ``"error"`` when decoding stopped there and ``"warning"`` for a
    problem that was flagged while decoding went on (a bad checksum, a non-zero pad).
    """

    layer: str
    offset: int
    reason: str
    severity: str = "error"

    def shifted(self, delta: int) -> Malformed:
        return Malformed(self.layer, self.offset + delta, self.reason, self.severity)

    def __str__(self) -> str:
        return f"{self.layer} @{self.offset}: {self.reason}"


class DecodeError(Exception):
    """Raised by a layer decoder; carries the marker and whatever was decoded before it."""

    def __init__(self, layer: str, offset: int, reason: str, partial: Any = None) -> None:
        super().__init__(f"{layer} @{offset}: {reason}")
        self.malformed = Malformed(layer, offset, reason)
        self.partial = partial


def need(buf: bytes | memoryview, offset: int, size: int, layer: str, what: str) -> None:
    """Raise DecodeError unless ``size`` bytes are available at ``offset``."""
    if offset < 0 or offset + size > len(buf):
        have = max(0, len(buf) - offset)
        raise DecodeError(layer, offset, f"truncated {what}: need {size} bytes, have {have}")
