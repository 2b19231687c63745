"""The shared address objects of dissectors/addr.py behave as plain ipaddress objects."""

from __future__ import annotations

import copy
import json
import pickle
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from dissectors.addr import ipv4, ipv6

CASES = [(ipv4, IPv4Address("10.0.0.1")), (ipv4, IPv4Address(0)),
         (ipv6, IPv6Address("2001:db8::1")), (ipv6, IPv6Address("fe80::1:2:3:4")),
         (ipv6, IPv6Address("::ffff:10.0.0.1"))]


@pytest.mark.parametrize(("make", "plain"), CASES)
def test_cached_address_is_the_plain_address(make, plain):
    a = make(plain.packed)
    assert a is make(plain.packed)                       # shared
    assert isinstance(a, type(plain))
    assert a == plain and plain == a and hash(a) == hash(plain)
    assert {plain: 1}[a] == 1
    assert str(a) == str(plain) and f"{a}" == f"{plain}" and format(a, "x") == format(plain, "x")
    assert repr(a) == repr(plain)
    assert a.packed == plain.packed and int(a) == int(plain)
    assert a.exploded == plain.exploded and a.compressed == plain.compressed
    assert type(pickle.loads(pickle.dumps(a))) is type(plain)
    assert copy.deepcopy(a) == plain
    assert not a < plain and not a > plain and a <= plain
    assert json.dumps(str(a)) == json.dumps(str(plain))
    assert ip_address(str(a)) == plain


def test_cached_addresses_order_with_plain_ones():
    mixed = [ipv6(IPv6Address("2001:db8::2").packed), IPv6Address("2001:db8::1"),
             ipv6(IPv6Address("2001:db8::3").packed)]
    assert [str(a) for a in sorted(mixed)] == ["2001:db8::1", "2001:db8::2", "2001:db8::3"]
