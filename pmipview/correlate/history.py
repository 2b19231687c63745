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

from pmipview.correlate.model import Attachment, MobileNode, Outcome
from pmipview.correlate.timing import DHCP_SETTLED, SETTLED

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


class SummaryMixin:
    """The :class:`~pmipview.correlate.engine.Correlator`'s side: when and what to move."""

    def _current_name(self, name: str) -> str:
        seen = set()
        while name in self._renamed and name not in seen:
            seen.add(name)
            name = self._renamed[name]
        return name

    def _past_end(self, mn: MobileNode, key: str) -> float:
        past = self._past.get(mn.uid)
        return past.end.get(key, float("-inf")) if past is not None else float("-inf")

    def _summarise(self, now: float) -> None:
        """Move what has finished (summarise=True) out of memory: the front of each MN's
        lists up to the first item that may still change (history.py)."""
        assert self._history is not None
        cutoff, dhcp_cutoff = now - SETTLED, now - DHCP_SETTLED
        done: set[int] = set()
        for mn in self._roots():
            n = _prefix(mn.attachments, lambda a: a.end is not None and a.end < cutoff)
            if n >= BATCH:
                past = self._past.setdefault(mn.uid, Past())
                for a in mn.attachments[:n]:
                    past.add(a)
                self._history.spill(mn, "attachments", n)
            n = _prefix(mn.handoffs, lambda h: h.time < cutoff)
            if n >= BATCH:
                self._history.spill(mn, "handoffs", n)
            n = _prefix(mn.transactions, lambda t: t.outcome != Outcome.PENDING and max(
                t.answered or t.last_sent, t.last_sent) < cutoff)
            if n >= BATCH:
                for t in mn.transactions[:n]:
                    done.add(id(t))
                    self._per_txn.pop((id(t), "retransmission"), None)
                self._history.spill(mn, "transactions", n)
            n = _prefix(mn.dhcp, lambda x: (x.messages[-1]["time"] if x.messages
                                            else x.first) < dhcp_cutoff)
            if n >= BATCH:
                for x in mn.dhcp[:n]:
                    if self._dhcp.get((x.xid, x.mac)) is x:
                        del self._dhcp[(x.xid, x.mac)]
                self._history.spill(mn, "dhcp", n)
        if done:
            self._pending = {k: v for k, v in self._pending.items() if id(v[1]) not in done}
            self._open = {k: t for k, t in self._open.items() if id(t) not in done}


def _prefix(items: list, finished) -> int:
    """How many items at the front of ``items`` are finished (0 when fewer than a batch
    could be: not worth looking)."""
    if len(items) < BATCH:
        return 0
    n = 0
    for item in items:
        if not finished(item):
            break
        n += 1
    return n


class Past:
    """What the correlator still asks about an MN's attachments that left memory: the
    last end of each interface, the last DHCP server id learnt on it, and the MAGs where
    each server id was learnt (in order)."""

    __slots__ = ("end", "server", "servers")

    def __init__(self) -> None:
        self.end: dict[str, float] = {}
        self.server: dict[str, tuple[str, str]] = {}
        self.servers: dict[str, list[str]] = {}

    def add(self, att: Attachment) -> None:
        if att.end is not None:
            self.end[att.key] = max(att.end, self.end.get(att.key, att.end))
        if att.server_id:
            self.server[att.key] = (att.server_id, att.mag)
            mags = self.servers.setdefault(att.server_id, [])
            if att.mag not in mags:
                mags.append(att.mag)

    def absorb(self, other: Past) -> None:
        for key, end in other.end.items():
            self.end[key] = max(end, self.end.get(key, end))
        for key, value in other.server.items():
            self.server.setdefault(key, value)
        for sid, mags in other.servers.items():
            mine = self.servers.setdefault(sid, [])
            mine.extend(m for m in mags if m not in mine)
