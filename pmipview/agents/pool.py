"""An IPv4 home-address pool shared by the LMA and a DHCP server co-located with it.

One owner per address at any time, never an address lost: ``allocate`` hands out the
lowest free address, ``reserve`` takes a specific one (a static profile address, a DHCP
allocation hint, an address requested in a PBU), ``release`` gives it back.  Owners are
opaque hashable keys (the LMA uses the mobility-session key, the DHCP server the client
identifier); ``owner_of``/``address_of`` answer both ways.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network


@dataclass
class AddressPool:
    """Addresses of ``network`` (minus ``exclude``, e.g. the default router)."""

    network: IPv4Network
    exclude: frozenset[IPv4Address] = frozenset()
    _owner: dict[IPv4Address, Hashable] = field(default_factory=dict, repr=False)
    _by_owner: dict[Hashable, IPv4Address] = field(default_factory=dict, repr=False)

    @property
    def prefix_len(self) -> int:
        return self.network.prefixlen

    def __contains__(self, addr: object) -> bool:
        return (isinstance(addr, IPv4Address) and addr in self.network
                and addr not in self.exclude and addr != self.network.network_address
                and addr != self.network.broadcast_address)

    def owner_of(self, addr: IPv4Address) -> Hashable | None:
        return self._owner.get(addr)

    def address_of(self, owner: Hashable) -> IPv4Address | None:
        return self._by_owner.get(owner)

    def free(self) -> int:
        return sum(1 for a in self.network.hosts() if a not in self.exclude) - len(self._owner)

    def allocate(self, owner: Hashable) -> IPv4Address | None:
        """The owner's address if it has one, else the lowest free one; None when full."""
        have = self._by_owner.get(owner)
        if have is not None:
            return have
        for addr in self.network.hosts():
            if addr not in self.exclude and addr not in self._owner:
                self._owner[addr] = owner
                self._by_owner[owner] = addr
                return addr
        return None

    def reserve(self, addr: IPv4Address, owner: Hashable) -> bool:
        """Give ``addr`` to ``owner``; False when outside the pool or owned by another."""
        if addr not in self:
            return False
        current = self._owner.get(addr)
        if current is not None and current != owner:
            return False
        previous = self._by_owner.get(owner)
        if previous is not None and previous != addr:
            del self._owner[previous]
        self._owner[addr] = owner
        self._by_owner[owner] = addr
        return True

    def release(self, owner: Hashable) -> IPv4Address | None:
        """Free the owner's address; returns it (None when it had none)."""
        addr = self._by_owner.pop(owner, None)
        if addr is not None:
            self._owner.pop(addr, None)
        return addr

    def transfer(self, old: Hashable, new: Hashable) -> IPv4Address | None:
        """Move an address from one owner key to another (e.g. DHCP client → session)."""
        addr = self._by_owner.pop(old, None)
        if addr is None:
            return None
        self._owner[addr] = new
        self._by_owner[new] = addr
        return addr

    def check(self) -> None:
        """Invariant: the two maps mirror each other (raises AssertionError if not)."""
        assert len(self._owner) == len(self._by_owner)
        for addr, owner in self._owner.items():
            assert self._by_owner[owner] == addr
