"""What has finished, kept out of memory: the summarised history of each MN.

With ``Correlator(summarise=True)`` the correlator moves the finished front of each MN's
lists — attachments that ended, handoffs, answered or timed-out transactions and DHCP
exchanges that saw no message for a while — into a temporary file, in batches, and keeps
only what can still change in memory.  Memory then follows the number of MNs and the
signaling rate, not the length of the capture.  ``restore(mn)`` puts an MN's history back
in front of its lists (in the same order as if it had never left), ``release(mn)`` takes
it out again; a writer goes MN by MN (``Report.complete``).

Only the *front* of each list moves (up to the first item that may still change), so the
order of every list is kept without any sort key.  Node renames that happen after a batch
was written are applied when it comes back.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Callable
from typing import Any

from pmipview.correlate.model import MobileNode

SECTIONS = ("attachments", "handoffs", "transactions", "dhcp")
BATCH = 16  # items of one MN list written at once


class History:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the report)
        self._end = 0
        # mn uid -> section -> offsets and lengths of its batches, in order
        self._index: dict[int, dict[str, array]] = {}
        self._restored: dict[int, dict[str, int]] = {}  # uid -> how many items restored
        self.rename: Callable[[str], str] = lambda name: name

    def close(self) -> None:
        self._file.close()

    def __bool__(self) -> bool:
        return bool(self._index)

    def has(self, mn: MobileNode) -> bool:
        return mn.uid in self._index

    # -- writing ------------------------------------------------------------------------

    def spill(self, mn: MobileNode, section: str, count: int) -> None:
        """Move the first ``count`` items of ``mn``'s ``section`` list to the file."""
        items: list[Any] = getattr(mn, section)
        data = pickle.dumps(items[:count], protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(self._end)
        self._file.write(data)
        where = self._index.setdefault(mn.uid, {}).setdefault(section, array("q"))
        where.extend((self._end, len(data)))
        self._end += len(data)
        del items[:count]

    # -- reading ------------------------------------------------------------------------

    def _load(self, uid: int, section: str) -> list[Any]:
        where = self._index.get(uid, {}).get(section)
        if not where:
            return []
        out: list[Any] = []
        for i in range(0, len(where), 2):
            self._file.seek(where[i])
            out.extend(pickle.loads(self._file.read(where[i + 1])))
        for item in out:
            _rename(item, self.rename)
        return out

    def restore(self, mn: MobileNode) -> None:
        """Put ``mn``'s history back in front of its lists (``release`` undoes it)."""
        if mn.uid not in self._index or mn.uid in self._restored:
            return
        counts = {}
        for section in SECTIONS:
            items = self._load(mn.uid, section)
            counts[section] = len(items)
            if items:
                getattr(mn, section)[:0] = items
        self._restored[mn.uid] = counts

    def release(self, mn: MobileNode) -> None:
        counts = self._restored.pop(mn.uid, None)
        if counts is not None:
            for section, n in counts.items():
                del getattr(mn, section)[:n]

    def take_back(self, mn: MobileNode) -> None:
        """Restore ``mn``'s history for good (before it merges with another MN)."""
        self.restore(mn)
        self._restored.pop(mn.uid, None)
        self._index.pop(mn.uid, None)


def _rename(item: Any, rename: Callable[[str], str]) -> None:
    for name in ("mag", "lma", "from_mag", "to_mag"):
        value = getattr(item, name, None)
        if isinstance(value, str):
            setattr(item, name, rename(value))
