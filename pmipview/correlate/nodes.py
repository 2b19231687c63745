"""Nodes (MAGs, LMAs, DHCP servers) by address, joined by MAC or by the names file; a
mixin of the :class:`~pmipview.correlate.engine.Correlator`."""

from __future__ import annotations

from pmipview.correlate.model import Node, NodeRole

LMA = NodeRole.LMA  # read once (an Enum member lookup costs ~0.06 µs more)


class NodesMixin:
    def _node(self, addr: object, role: str, mac: str | None = None) -> str:
        """The name of the node at ``addr`` (created on first sight).

        A node's IPv4 and IPv6 addresses become one node when frames from both carry the
        same source MAC and the node has no address of the other family yet (a router's
        MAC, seen on frames of several nodes, cannot merge two nodes of one family); a
        names file that gives two addresses one name makes them one node too.
        """
        text = str(addr)
        node = self._node_of_addr.get(text)
        if node is None:
            name = self.names.get(text, text)
            node = next((n for n in self._nodes if n.name == name), None)
            if node is None:
                node = Node(name, role)
                self._nodes.append(node)
            node.addresses.append(text)
            self._node_of_addr[text] = node
        if role == LMA and node.role != LMA:
            node.role = LMA  # a DHCP server co-located with the LMA
        if mac is not None and mac not in node.macs:
            node.macs.add(mac)
            self._merge_by_mac(node, mac)
        return self._renamed.get(node.name, node.name)

    def _merge_by_mac(self, node: Node, mac: str) -> None:
        fam = {":" in a for a in node.addresses}
        for other in self._nodes:
            if other is node or mac not in other.macs or other.role != node.role:
                continue
            if fam & {":" in a for a in other.addresses}:
                continue  # same family on both: a shared next hop, not one node
            keep, gone = (other, node) if self._nodes.index(other) < self._nodes.index(node) \
                else (node, other)
            keep.addresses.extend(a for a in gone.addresses if a not in keep.addresses)
            keep.macs |= gone.macs
            for a in gone.addresses:
                self._node_of_addr[a] = keep
            self._nodes.remove(gone)
            if gone.name != keep.name:
                self._rename(gone.name, keep.name)
            return

    def _rename(self, old: str, new: str) -> None:
        """A node merged into another: its name changes everywhere it was recorded."""
        self._renamed[old] = new
        for mn in self._roots():
            if mn.lma == old:
                mn.lma = new
            for att in mn.attachments:
                if att.mag == old:
                    att.mag = new
            for txn in mn.transactions:
                txn.mag = new if txn.mag == old else txn.mag
                txn.lma = new if txn.lma == old else txn.lma
            for h in mn.handoffs:
                h.from_mag = new if h.from_mag == old else h.from_mag
                h.to_mag = new if h.to_mag == old else h.to_mag
            for ex in mn.dhcp:
                if ex.mag == old:
                    ex.mag = new
        self._open = {(u, new if m == old else m, p, i): t
                      for (u, m, p, i), t in self._open.items()}
