"""Who is who: the union-find of MN identity keys (NAI, MAC, IPv4 HoA while held), a
mixin of the :class:`~pmipview.correlate.engine.Correlator` (docs/timeline.md)."""

from __future__ import annotations

from pmipview.correlate.history import Past
from pmipview.correlate.model import MobileNode


class IdentityMixin:
    def _find(self, uid: int) -> int:
        while self._parent[uid] != uid:
            self._parent[uid] = self._parent[self._parent[uid]]
            uid = self._parent[uid]
        return uid

    def _mn(self, uid: int) -> MobileNode:
        return self._mns[self._find(uid)]

    def _roots(self) -> list[MobileNode]:
        return [mn for uid, mn in self._mns.items() if self._find(uid) == uid]

    def _resolve(self, keys: list[str], time: float) -> MobileNode:
        """The MN these identity keys name, merging MNs the keys show to be one.

        NAI and MAC keys are strong evidence: the MNs they name are one.  An IPv4 HoA key
        is weak (an address can be given to two MNs at once, see duplicate-hoa): it joins
        an MN only when that does not put two different NAIs, or two sets of MACs with
        none in common, into one MN.
        """
        uid: int | None = None
        known = self._keys  # merging changes parents, never the keys' entries
        weak_keys = []
        for k in keys:      # the strong keys first, then the weak ones, each in order
            if k.startswith("hoa:"):
                weak_keys.append(k)
                continue
            root = known.get(k)
            if root is not None:
                other = self._find(root)
                if uid is None:
                    uid = other
                elif other != uid:
                    uid = self._merge(uid, other)
        for k in weak_keys:
            root = known.get(k)
            if root is not None:
                other = self._find(root)
                if uid is None:
                    uid = other
                elif other != uid and not self._conflict(uid, other):
                    uid = self._merge(uid, other)
        if uid is None:
            uid = len(self._parent) + 1
            self._parent[uid] = uid
            self._mns[uid] = MobileNode(uid, first_seen=time)
        mn = self._mns[uid]
        for k in keys:
            if k not in self._keys:
                self._keys[k] = uid
                kind, value = k.split(":", 1)
                target = {"nai": mn.nais, "mac": mn.macs, "hoa": mn.ipv4_hoas}[kind]
                if value not in target:
                    target.append(value)
        return mn

    def _conflict(self, a: int, b: int) -> bool:
        """Whether MNs ``a`` and ``b`` are visibly two devices (different NAIs or MACs)."""
        ma, mb = self._mns[a], self._mns[b]
        if ma.nais and mb.nais and not set(ma.nais) & set(mb.nais):
            return True
        return bool(ma.macs and mb.macs and not set(ma.macs) & set(mb.macs))

    def _merge(self, a: int, b: int) -> int:
        keep, gone = (a, b) if self._mns[a].first_seen <= self._mns[b].first_seen else (b, a)
        m, g = self._mns[keep], self._mns[gone]
        if self._history is not None:
            self._history.take_back(m)
            self._history.take_back(g)
        if gone in self._past:
            self._past.setdefault(keep, Past()).absorb(self._past.pop(gone))
        for name in ("nais", "macs", "ipv4_hoas", "hnps"):
            target = getattr(m, name)
            target.extend(v for v in getattr(g, name) if v not in target)
        for name in ("attachments", "handoffs", "transactions", "dhcp", "diagnostics"):
            getattr(m, name).extend(getattr(g, name))
        m.attachments.sort(key=lambda x: x.start)
        m.transactions.sort(key=lambda x: x.first_sent)
        m.dhcp.sort(key=lambda x: x.first)
        if m.pending_since is None or (g.pending_since and g.pending_since < m.pending_since):
            m.pending_since = g.pending_since
        if m.pending_since is not None:
            # DHCP from the MN seen before evidence tied it to an attachment that has begun
            # since (e.g. a DISCOVER, then a PBU without MN-LLI, then the OFFER's yiaddr)
            since, frame = m.pending_since
            att = next((a for a in m.attachments if 0 <= a.start - since <= 60), None)
            if att is not None:
                att.start = since
                att.frames.append(frame)
            if att is not None or m.current() is not None:
                m.pending_since = None  # it belongs to an attachment, not to the next one
        m.lma = m.lma or g.lma
        self._parent[gone] = keep
        for hoa, holder in self._hoa_holder.items():
            if self._find(holder) == keep:
                self._hoa_holder[hoa] = keep
        return keep
