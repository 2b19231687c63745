"""``pmipview mag``: the help teaches, bad input is one line and a non-zero exit.

The command on real interfaces is exercised in tests/netns (root)."""

from __future__ import annotations

from typer.testing import CliRunner

from pmipview.cli import app
from tests.cli_util import one_line_error

BASE = ["mag", "--lma", "192.0.2.1", "--listen", "192.0.2.11"]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_help_teaches_both_modes_and_the_outputs():
    r = run("mag", "--help")
    assert r.exit_code == 0
    for word in ("--lma", "--listen", "--access", "--dhcp", "server", "relay",
                 "--dhcp-server", "--config", "--transport", "--log", "--pcap", "--events",
                 "SIGTERM", "Examples", "CAP_NET_RAW"):
        assert word in r.output, word


def test_missing_options_name_what_to_give():
    one_line_error(run("mag", "--listen", "192.0.2.11", "--access", "lo"), 2, "--lma")
    one_line_error(run("mag", "--lma", "192.0.2.1", "--access", "lo"), 2, "--listen")
    one_line_error(run(*BASE), 2, "--access")
    one_line_error(run(*BASE, "--access", "lo", "--dhcp", "relay"), 2, "--dhcp-server")


def test_bad_values_are_one_line():
    one_line_error(run("mag", "--lma", "lma.example", "--listen", "192.0.2.11",
                       "--access", "lo"), 2, "lma", "IP address")
    one_line_error(run(*BASE, "--access", "lo", "--dhcp", "proxy"), 2, "dhcp_mode")
    one_line_error(run(*BASE, "--access", "lo", "--transport", "ipv6"), 2, "--transport ipv6")
    one_line_error(run(*BASE, "--access", "lo", "--dhcp", "relay", "--dhcp-server",
                       "192.0.2.300"), 2, "dhcp_server")


def test_config_problems_name_the_file_and_key(tmp_path):
    cfg = tmp_path / "mag.toml"
    cfg.write_text('lifetime = 60\ncolour = "blue"\n')
    one_line_error(run(*BASE, "--access", "lo", "--config", str(cfg)), 2, "mag.toml",
                   "unknown key 'colour'")
    one_line_error(run(*BASE, "--access", "lo", "--config", str(tmp_path / "no.toml")), 2,
                   "cannot read")


def test_a_missing_interface_or_address_is_one_line():
    one_line_error(run(*BASE, "--access", "nosuch0"), 1)
    # 192.0.2.11 is on no interface of this machine
    one_line_error(run(*BASE, "--access", "lo"), 1, "192.0.2.11")


def test_a_mac_that_is_not_the_interfaces_is_refused(tmp_path):
    cfg = tmp_path / "mag.toml"
    cfg.write_text('mac = "02:00:00:00:0a:99"\n')
    one_line_error(run(*BASE, "--access", "lo", "--config", str(cfg)), 1,
                   "lo has 00:00:00:00:00:00", "ip link set lo address")
