"""AddressPool: the heap-and-cursor allocator gives exactly what a walk of the pool would
(the lowest free address), for any interleaving of allocate, reserve, release, transfer."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmipview.agents.pool import AddressPool

NET = IPv4Network("10.1.0.0/27")
HOSTS = list(NET.hosts())


def naive_lowest(pool: AddressPool, avoid=()) -> IPv4Address | None:
    for a in HOSTS:
        if a in pool and pool.owner_of(a) is None and a not in avoid:
            return a
    return None


ops = st.lists(st.tuples(st.sampled_from(["alloc", "reserve", "release", "transfer", "peek"]),
                         st.integers(0, 12), st.integers(0, len(HOSTS) - 1)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(ops, st.booleans())
def test_allocator_matches_a_walk_of_the_pool(steps, ranged):
    kw = {"first": HOSTS[3], "last": HOSTS[25]} if ranged else {}
    pool = AddressPool(NET, frozenset({HOSTS[0], HOSTS[7]}), **kw)
    for op, owner, i in steps:
        addr = HOSTS[i]
        if op == "alloc":
            had = pool.address_of(owner)
            expect = had if had is not None else naive_lowest(pool)
            assert pool.allocate(owner) == expect
        elif op == "reserve":
            pool.reserve(addr, owner)
        elif op == "release":
            pool.release(owner)
        elif op == "transfer":
            pool.transfer(owner, owner + 100)
        else:
            avoid = {HOSTS[i], HOSTS[(i + 1) % len(HOSTS)]}
            assert pool.lowest_free(avoid) == naive_lowest(pool, avoid)
        pool.check()
        assert pool.free() == sum(1 for a in HOSTS if a in pool and pool.owner_of(a) is None)


def test_range_and_size():
    pool = AddressPool(IPv4Network("10.2.0.0/16"), first=IPv4Address("10.2.0.10"),
                       last=IPv4Address("10.2.0.19"))
    assert len(pool) == 10 and pool.prefix_len == 16
    assert IPv4Address("10.2.0.9") not in pool and IPv4Address("10.2.0.10") in pool
    got = [pool.allocate(n) for n in range(11)]
    assert got[0] == IPv4Address("10.2.0.10") and got[9] == IPv4Address("10.2.0.19")
    assert got[10] is None and pool.free() == 0
    assert pool.describe() == "10.2.0.10-10.2.0.19/16"


def test_bounds_outside_the_network_are_refused():
    with pytest.raises(ValueError, match="outside"):
        AddressPool(IPv4Network("10.3.0.0/24"), first=IPv4Address("10.4.0.1"))
    with pytest.raises(ValueError, match="no address"):
        AddressPool(IPv4Network("10.3.0.0/24"), first=IPv4Address("10.3.0.9"),
                    last=IPv4Address("10.3.0.8"))


def test_a_large_pool_allocates_without_walking_it():
    pool = AddressPool(IPv4Network("10.64.0.0/12"))
    for n in range(50_000):
        pool.allocate(n)
    pool.release(17)
    assert pool.allocate("again") == IPv4Address("10.64.0.18")
    assert pool.allocate("next") == IPv4Address(int(IPv4Address("10.64.0.1")) + 50_000)


def test_churn_keeps_the_maps_compact():
    """Release one address and allocate another, again and again, with as many owners
    the whole time: a plain dict under that churn grows to a table for three times its
    entries once its free slots are used up (CPython never reuses a deleted slot); the
    pool's maps are rebuilt (pmipview.agents.churn) and stay the size of a fresh copy."""
    import sys

    pool = AddressPool(IPv4Network("10.64.0.0/18"))
    n = 2800  # a fresh table for 2,800 has room for the 2,425 inserts before a rebuild
    control: dict[int, str] = {}
    for i in range(n):
        pool.allocate(f"o{i}")
        control[i] = f"o{i}"
    for i in range(n, n + 10_000):
        pool.release(f"o{i - n}")
        assert pool.allocate(f"o{i}") is not None
        del control[i - n]
        control[i] = f"o{i}"
    pool.check()
    assert sys.getsizeof(control) > sys.getsizeof(dict(control))  # it does grow
    for table in (pool._owner, pool._by_owner):
        assert len(table) == n
        assert sys.getsizeof(table) == sys.getsizeof(dict(table))
