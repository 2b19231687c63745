"""mag.toml → MAGConfig: every key reachable, every mistake one line naming the key."""

from __future__ import annotations

import tomllib
from ipaddress import IPv4Address, IPv6Address

import pytest

from pmipview.agents.mag import MAG, MNPolicy
from pmipview.agents.mag_config import (
    MAG_KEYS,
    TABLE_KEYS,
    ConfigError,
    build_setup,
    config_fields,
    load_setup,
)

BASE = {"lma": "192.0.2.1", "listen": "192.0.2.11", "access": "veth1"}

FULL = """
name = "mag7"
lma = "192.0.2.1"
ipv4 = "192.0.2.11"
ipv6 = "2001:db8::11"
mac = "02-00-00-00-0A-07"
dhcp_mode = "relay"
dhcp_server_id = "10.0.0.1"
relay_address = "10.1.0.7"
dhcp_server = "192.0.2.53"
relay_order = "draft"
server_id_policy = "rebind"
lifetime = 600
reregister_before = 30.5
retransmit = [0.5, 1, 2]
max_retransmissions = 5
att = "ieee-802.3"
register_on_link_up = false
use_timestamp = false
epoch = 1700000000
mtu = 1400
lease = 120
dns = ["10.0.0.53", "10.0.0.54"]
gre_key = 77
max_hops = 4
restart_counter = 9
access = "wlan0"
transport = "udp4"
realm = "corp.example"
link_down_hold = 0.5

[nai]
"02:00:00:00:01:01" = "alice@corp.example"

[profiles."02:00:00:00:01:02"]
nai = "bob@corp.example"
ipv4 = true
ipv6 = true
static_hoa = "10.50.0.9"
static_prefix_len = 24
att = 4
iface_id = "02:00:00:00:ff:02"

[default]
ipv6 = true
"""


def test_every_magconfig_field_has_a_key():
    assert set(config_fields()) == set(MAG_KEYS) | set(TABLE_KEYS)


def test_full_file_sets_every_key(tmp_path):
    path = tmp_path / "mag.toml"
    path.write_text(FULL)
    setup = load_setup(path)
    c = setup.config
    assert (c.name, c.lma, c.ipv4, c.ipv6, c.mac) == (
        "mag7", IPv4Address("192.0.2.1"), IPv4Address("192.0.2.11"),
        IPv6Address("2001:db8::11"), "02:00:00:00:0a:07")
    assert (c.dhcp_mode, c.dhcp_server_id, c.relay_address, c.dhcp_server) == (
        "relay", IPv4Address("10.0.0.1"), IPv4Address("10.1.0.7"), IPv4Address("192.0.2.53"))
    assert (c.relay_order, c.server_id_policy, c.lifetime, c.reregister_before) == (
        "draft", "rebind", 600, 30.5)
    assert (c.retransmit, c.max_retransmissions, c.att) == ((0.5, 1.0, 2.0), 5, 3)
    assert (c.register_on_link_up, c.use_timestamp, c.epoch, c.mtu, c.lease) == (
        False, False, 1700000000.0, 1400, 120)
    assert c.dns == (IPv4Address("10.0.0.53"), IPv4Address("10.0.0.54"))
    assert (c.gre_key, c.max_hops, c.restart_counter) == (77, 4, 9)
    assert (setup.access, setup.transport, setup.realm, setup.link_down_hold) == (
        "wlan0", "udp4", "corp.example", 0.5)
    assert c.profiles["02:00:00:00:01:01"] == MNPolicy("alice@corp.example")
    assert c.profiles["02:00:00:00:01:02"] == MNPolicy(
        "bob@corp.example", True, True, IPv4Address("10.50.0.9"), 24, 4, "02:00:00:00:ff:02")
    assert c.default_policy == MNPolicy("{mac}@corp.example", ipv6=True)


def test_cli_overrides_win_and_nai_defaults_to_mac_at_realm():
    setup = build_setup({"lma": "192.0.2.99", "realm": "lab.test", "access": "x"},
                        {**BASE, "dhcp_mode": "server"})
    assert setup.config.lma == IPv4Address("192.0.2.1") and setup.access == "veth1"
    mag = MAG(setup.config)
    assert mag._policy("02:00:00:00:01:01").nai == "020000000101@lab.test"


def test_default_disabled_serves_only_listed_macs():
    setup = build_setup({"default": {"enabled": False},
                         "nai": {"02:00:00:00:01:01": "a@b"}}, BASE)
    assert setup.config.default_policy is None
    mag = MAG(setup.config)
    assert mag._policy("02:00:00:00:01:01").nai == "a@b"
    assert mag._policy("02:00:00:00:01:09") is None


def test_relay_giaddr_defaults_to_the_listen_address():
    setup = build_setup({}, {**BASE, "dhcp_mode": "relay", "dhcp_server": "192.0.2.53"})
    assert setup.config.relay_address == IPv4Address("192.0.2.11")


def test_ipv6_listen_sets_the_proxy_coa():
    setup = build_setup({}, {"lma": "2001:db8::1", "listen": "2001:db8::11", "access": "x"})
    assert setup.transport == "ipv6" and setup.config.ipv6 == IPv6Address("2001:db8::11")


@pytest.mark.parametrize(("data", "message"), [
    ({"lifetim": 5}, "unknown key 'lifetim'"),
    ({"dhcp_server": "192.0.2.300"}, "dhcp_server: expected an IP address"),
    ({"dhcp_server_id": "2001:db8::1"}, "dhcp_server_id: expected an IPv4 address"),
    ({"lifetime": "long"}, "lifetime: expected an integer"),
    ({"use_timestamp": 1}, "use_timestamp: expected true or false"),
    ({"dhcp_mode": "proxy"}, "dhcp_mode: expected 'server' or 'relay'"),
    ({"retransmit": []}, "retransmit: expected a non-empty list"),
    ({"dns": ["10.0.0.1", "x"]}, "dns[1]: expected an IP"),
    ({"att": "carrier-pigeon"}, "att: unknown access technology"),
    ({"mac": "02:00"}, "mac: expected a MAC address"),
    ({"nai": {"nope": "a@b"}}, "nai.nope: expected a MAC address"),
    ({"profiles": {"02:00:00:00:01:01": {"nai": "a@b", "colour": 1}}},
     "profiles.02:00:00:00:01:01: unknown key 'colour'"),
    ({"profiles": {"02:00:00:00:01:01": {"ipv4": True}}}, "needs a nai"),
    ({"dhcp_mode": "relay"}, "--dhcp relay needs the DHCP server"),
    ({"transport": "ipv6"}, "--transport ipv6 needs an IPv6 LMA address"),
    ({"transport": "sctp"}, "transport: expected 'udp4' or 'ipv6'"),
])
def test_bad_config_is_one_line_naming_the_key(data, message):
    with pytest.raises(ConfigError) as info:
        build_setup(data, BASE)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_missing_essentials_name_the_option():
    with pytest.raises(ConfigError, match="--lma"):
        build_setup({}, {"listen": "192.0.2.11", "access": "x"})
    with pytest.raises(ConfigError, match="--listen"):
        build_setup({}, {"lma": "192.0.2.1", "access": "x"})
    with pytest.raises(ConfigError, match="--access"):
        build_setup({}, {"lma": "192.0.2.1", "listen": "192.0.2.11"})


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "mag.toml"
    bad.write_text("lifetime = = 3")
    with pytest.raises(ConfigError, match=r"mag\.toml: not valid TOML"):
        load_setup(bad, BASE)
    bad.write_text("colour = 1")
    with pytest.raises(ConfigError, match=r"mag\.toml: unknown key 'colour'"):
        load_setup(bad, BASE)
    with pytest.raises(ConfigError, match="cannot read"):
        load_setup(tmp_path / "none.toml", BASE)


def test_the_documented_example_parses():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mag.md").read_text()
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    build_setup(tomllib.loads(block), {"access": "veth1"})
