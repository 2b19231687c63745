"""An IPv4 home-address pool shared by the LMA and a DHCP server co-located with it.

One owner per address at any time, never an address lost: ``allocate`` hands out the
lowest free address, ``reserve`` takes a specific one (a static profile address, a DHCP
allocation hint, an address requested in a PBU), ``release`` gives it back.  Owners are
opaque hashable keys (the LMA uses the mobility-session key, the DHCP server the client
identifier); ``owner_of``/``address_of`` answer both ways.

Finding the lowest free address costs O(log n), not a walk of the pool: addresses never
handed out lie at or above a cursor, released ones wait in a min-heap, so a /12 pool with
a million bindings allocates as fast as a /24 (an LMA under ``pmipview load``).
"""

from __future__ import annotations

import heapq
from collections.abc import Container, Hashable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network


@dataclass
class AddressPool:
    """Addresses of ``network`` (minus ``exclude``, e.g. the default router), optionally
    only those from ``first`` to ``last``; ``network`` gives the prefix length MNs get."""

    network: IPv4Network
    exclude: frozenset[IPv4Address] = frozenset()
    first: IPv4Address | None = None
    last: IPv4Address | None = None
    _owner: dict[IPv4Address, Hashable] = field(default_factory=dict, repr=False)
    _by_owner: dict[Hashable, IPv4Address] = field(default_factory=dict, repr=False)
    _cursor: int = field(default=0, repr=False)
    _released: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        net = self.network
        lo, hi = int(net.network_address), int(net.broadcast_address)
        if net.prefixlen < 31:
            lo, hi = lo + 1, hi - 1
        for bound in (self.first, self.last):
            if bound is not None and bound not in net:
                raise ValueError(f"pool bound {bound} is outside {net}")
        if self.first is not None:
            lo = max(lo, int(self.first))
        if self.last is not None:
            hi = min(hi, int(self.last))
        if lo > hi:
            raise ValueError(f"pool {self.describe()} has no address")
        self._lo, self._hi, self._cursor = lo, hi, lo
        self._size = hi - lo + 1 - sum(1 for a in self.exclude if lo <= int(a) <= hi)

    def describe(self) -> str:
        if self.first is None and self.last is None:
            return str(self.network)
        return f"{self.first or self.network[1]}-{self.last or self.network[-2]}" \
               f"/{self.network.prefixlen}"

    @property
    def prefix_len(self) -> int:
        return self.network.prefixlen

    def __contains__(self, addr: object) -> bool:
        return (isinstance(addr, IPv4Address) and self._lo <= int(addr) <= self._hi
                and addr not in self.exclude)

    def __len__(self) -> int:
        """How many addresses the pool can hand out."""
        return self._size

    def owner_of(self, addr: IPv4Address) -> Hashable | None:
        return self._owner.get(addr)

    def address_of(self, owner: Hashable) -> IPv4Address | None:
        return self._by_owner.get(owner)

    def free(self) -> int:
        return self._size - len(self._owner)

    def lowest_free(self, avoid: Container[IPv4Address] = ()) -> IPv4Address | None:
        """The lowest address nobody owns and not in ``avoid``, without taking it."""
        owner, exclude, heap = self._owner, self.exclude, self._released
        while heap and IPv4Address(heap[0]) in owner:
            heapq.heappop(heap)
        c = self._cursor
        while c <= self._hi and (IPv4Address(c) in owner or IPv4Address(c) in exclude):
            c += 1
        self._cursor = c
        while c <= self._hi and (IPv4Address(c) in avoid or IPv4Address(c) in owner
                                 or IPv4Address(c) in exclude):
            c += 1
        best = c if c <= self._hi else None
        if heap:  # heap[0] is free now; the rest is looked at only when avoid hides it
            n: int | None = heap[0]
            if IPv4Address(heap[0]) in avoid:
                free = [m for m in heap
                        if IPv4Address(m) not in owner and IPv4Address(m) not in avoid]
                n = min(free) if free else None
            if n is not None and (best is None or n < best):
                best = n
        return None if best is None else IPv4Address(best)

    def allocate(self, owner: Hashable) -> IPv4Address | None:
        """The owner's address if it has one, else the lowest free one; None when full."""
        have = self._by_owner.get(owner)
        if have is not None:
            return have
        addr = self.lowest_free()
        if addr is not None:
            self._owner[addr] = owner
            self._by_owner[owner] = addr
        return addr

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
            self._freed(previous)
        self._owner[addr] = owner
        self._by_owner[owner] = addr
        return True

    def release(self, owner: Hashable) -> IPv4Address | None:
        """Free the owner's address; returns it (None when it had none)."""
        addr = self._by_owner.pop(owner, None)
        if addr is not None:
            self._owner.pop(addr, None)
            self._freed(addr)
        return addr

    def _freed(self, addr: IPv4Address) -> None:
        if int(addr) < self._cursor:
            heapq.heappush(self._released, int(addr))

    def transfer(self, old: Hashable, new: Hashable) -> IPv4Address | None:
        """Move an address from one owner key to another (e.g. DHCP client → session);
        an address ``new`` held before is freed (an owner holds one address)."""
        addr = self._by_owner.pop(old, None)
        if addr is None:
            return None
        if new != old:
            self.release(new)
        self._owner[addr] = new
        self._by_owner[new] = addr
        return addr

    def check(self) -> None:
        """Invariant: the two maps mirror each other (raises AssertionError if not)."""
        assert len(self._owner) == len(self._by_owner)
        for addr, owner in self._owner.items():
            assert self._by_owner[owner] == addr
