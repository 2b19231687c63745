"""The record a capture reader yields, and the errors it reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Record:
    """One frame of a capture file.

    ``frame_no`` is 1-based and counts like Wireshark (pcapng blocks that Wireshark shows
    as frames but that carry no packet, e.g. systemd journal entries, use up a number).
    ``ts_ns`` is the absolute time in integer nanoseconds since the Unix epoch.
    ``interface`` is the pcapng interface index across the whole file, as in Wireshark's
    ``frame.interface_id`` (0 for pcap).  ``orig_len`` is the length on the wire
    (``len(data)`` is the captured length).
    """

    frame_no: int
    ts_ns: int
    linktype: int
    data: bytes
    interface: int = 0
    orig_len: int = 0
    comment: str | None = None

    @property
    def ts(self) -> float:
        """The timestamp in seconds since the epoch (float: ~0.2 µs resolution today)."""
        return self.ts_ns / 1e9


class _RecordBuilder:
    """A mutable twin of :class:`Record` with the same slot layout, for the readers' hot loop.

    A frozen dataclass sets each field through ``object.__setattr__`` (about 0.8 µs for
    seven fields); building this twin and then assigning ``__class__ = Record`` gives the
    very same kind of object in about a third of the time.  The layouts must stay equal:
    checked below at import time and in the tests.
    """

    __slots__ = Record.__slots__

    def __init__(
        self,
        frame_no: int,
        ts_ns: int,
        linktype: int,
        data: bytes,
        interface: int,
        orig_len: int,
        comment: str | None,
    ) -> None:
        self.frame_no = frame_no
        self.ts_ns = ts_ns
        self.linktype = linktype
        self.data = data
        self.interface = interface
        self.orig_len = orig_len
        self.comment = comment


if _RecordBuilder.__slots__ != tuple(Record.__dataclass_fields__):  # pragma: no cover
    raise ImportError("records: _RecordBuilder slots no longer match Record's fields")


class CaptureError(Exception):
    """A capture file cannot be opened or is not a capture at all; one-line message."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """Why reading stopped before the end of the file (everything before was yielded).

    ``offset`` is the byte offset of the bad record or block in the (uncompressed) file;
    ``frame_no`` is the number the unreadable frame would have had, when the problem is in
    a packet record, else None.  ``reason`` is a one-line, user-facing message.
    """

    offset: int
    reason: str
    frame_no: int | None = None

    def __str__(self) -> str:
        return self.reason
