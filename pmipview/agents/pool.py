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

from pmipview.agents.churn import Churn


@dataclass
class AddressPool:
    """Addresses of ``network`` (minus ``exclude``, e.g. the default router), optionally
    only those from ``first`` to ``last``; ``network`` gives the prefix length MNs get.

    Addresses are held as ints inside (no ``IPv4Address`` object per binding: memory and
    hashing at 100,000 bindings); the interface takes and gives ``IPv4Address``."""

    network: IPv4Network
    exclude: frozenset[IPv4Address] = frozenset()
    first: IPv4Address | None = None
    last: IPv4Address | None = None
    _owner: dict[int, Hashable] = field(default_factory=dict, repr=False)
    _by_owner: dict[Hashable, int] = field(default_factory=dict, repr=False)
    _cursor: int = field(default=0, repr=False)
    _released: list[int] = field(default_factory=list, repr=False)
    _churn: Churn = field(default_factory=Churn, repr=False, compare=False)

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
        self._excluded = frozenset(int(a) for a in self.exclude)
        self._size = hi - lo + 1 - sum(1 for a in self._excluded if lo <= a <= hi)

    def describe(self) -> str:
        if self.first is None and self.last is None:
            return str(self.network)
        return f"{self.first or self.network[1]}-{self.last or self.network[-2]}" \
               f"/{self.network.prefixlen}"

    @property
    def prefix_len(self) -> int:
        return self.network.prefixlen

    def __contains__(self, addr: object) -> bool:
        if not isinstance(addr, IPv4Address):
            return False
        n = int(addr)
        return self._lo <= n <= self._hi and n not in self._excluded

    def __len__(self) -> int:
        """How many addresses the pool can hand out."""
        return self._size

    def owner_of(self, addr: IPv4Address) -> Hashable | None:
        return self._owner.get(int(addr))

    def address_of(self, owner: Hashable) -> IPv4Address | None:
        n = self._by_owner.get(owner)
        return None if n is None else IPv4Address(n)

    def free(self) -> int:
        return self._size - len(self._owner)

    def lowest_free(self, avoid: Container[IPv4Address] = ()) -> IPv4Address | None:
        """The lowest address nobody owns and not in ``avoid``, without taking it."""
        n = self._lowest_free(avoid)
        return None if n is None else IPv4Address(n)

    def _lowest_free(self, avoid: Container[IPv4Address]) -> int | None:
        owner, exclude, heap, hi = self._owner, self._excluded, self._released, self._hi
        while heap and heap[0] in owner:
            heapq.heappop(heap)
        c = self._cursor
        while c <= hi and (c in owner or c in exclude):
            c += 1
        self._cursor = c
        check = bool(avoid) if isinstance(avoid, tuple | frozenset | set) else True
        while c <= hi and (c in owner or c in exclude
                           or (check and IPv4Address(c) in avoid)):
            c += 1
        best = c if c <= hi else None
        if heap:  # heap[0] is free now; the rest is looked at only when avoid hides it
            n: int | None = heap[0]
            if check and IPv4Address(n) in avoid:
                free = [m for m in heap if m not in owner and IPv4Address(m) not in avoid]
                n = min(free) if free else None
            if n is not None and (best is None or n < best):
                best = n
        return best

    def allocate(self, owner: Hashable) -> IPv4Address | None:
        """The owner's address if it has one, else the lowest free one; None when full."""
        have = self._by_owner.get(owner)
        if have is not None:
            return IPv4Address(have)
        n = self._lowest_free(())
        if n is None:
            return None
        self._owner[n] = owner
        self._by_owner[owner] = n
        return IPv4Address(n)

    def reserve(self, addr: IPv4Address, owner: Hashable) -> bool:
        """Give ``addr`` to ``owner``; False when outside the pool or owned by another."""
        if addr not in self:
            return False
        n = int(addr)
        current = self._owner.get(n)
        if current is not None and current != owner:
            return False
        previous = self._by_owner.get(owner)
        if previous is not None and previous != n:
            del self._owner[previous]
            self._freed(previous)
        self._owner[n] = owner
        self._by_owner[owner] = n
        return True

    def release(self, owner: Hashable) -> IPv4Address | None:
        """Free the owner's address; returns it (None when it had none)."""
        n = self._by_owner.pop(owner, None)
        if n is None:
            return None
        self._owner.pop(n, None)
        self._freed(n)
        return IPv4Address(n)

    def _freed(self, n: int) -> None:
        if n < self._cursor:
            heapq.heappush(self._released, n)
        self._removed()

    def _removed(self) -> None:
        """An entry left the maps: rebuild them now and then (:mod:`.churn`)."""
        if self._churn.due(len(self._owner)):
            self._owner = dict(self._owner)  # one at a time: one old table alive at once
            self._by_owner = dict(self._by_owner)

    def transfer(self, old: Hashable, new: Hashable) -> IPv4Address | None:
        """Move an address from one owner key to another (e.g. DHCP client → session);
        an address ``new`` held before is freed (an owner holds one address)."""
        n = self._by_owner.pop(old, None)
        if n is None:
            return None
        if new != old:
            self.release(new)
        self._owner[n] = new
        self._by_owner[new] = n
        self._removed()  # ``old`` left _by_owner
        return IPv4Address(n)

    def check(self) -> None:
        """Invariant: the two maps mirror each other (raises AssertionError if not)."""
        assert len(self._owner) == len(self._by_owner)
        for addr, owner in self._owner.items():
            assert self._by_owner[owner] == addr
