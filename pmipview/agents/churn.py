"""When a dict under insert-and-delete churn is rebuilt: the one rule, for every table
of an agent that holds one entry per binding (the LMA's sessions, NAIs and HoA pool, the
refresh fast path's templates).

A CPython dict never reuses the slot of a deleted entry: each insertion takes a new one,
and when none is left the table is resized for three times the live entries.  A table
of ``n`` bindings under churn (MNs detaching and new ones attaching, the same number
each) therefore grows once to a table for ``3n`` (at 100,000 bindings the LMA's four
session tables stepped from 5 to 10 MB each together: its RSS went 152 -> 174 MB in
one second of a ``pmipview load`` run), whereas ``dict(d)`` holds ``n`` in a table for
about ``1.5n``.  Rebuilding after ``n/2`` removals keeps the table there while it has the
room, and bounds it otherwise; one O(n) copy per n/2 removals is amortised O(1) each.
"""

from __future__ import annotations

__all__ = ["Churn"]

_FLOOR = 1024  # small tables are never rebuilt: their growth is a few KB


class Churn:
    """Counts the removals from one table (or a group rebuilt together)."""

    __slots__ = ("removed",)

    def __init__(self) -> None:
        self.removed = 0

    def due(self, live: int) -> bool:
        """Count one removal; True (and the count restarts) when the table, which holds
        ``live`` entries now, should be rebuilt with ``dict(table)``."""
        self.removed += 1
        if self.removed <= (live >> 1) + _FLOOR:
            return False
        self.removed = 0
        return True
