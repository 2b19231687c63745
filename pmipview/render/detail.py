"""``dissect -V``: the decoded tree of a frame, as ``tshark -V`` shows it, with rich."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree

from dissectors.fields import to_dict
from dissectors.frame import Frame
from dissectors.link import Ethernet, LinuxSLL, LinuxSLL2, Null, RawIP
from dissectors.mh_options import option_name, option_type
from pmipview.packets import Packet

_SKIP = {"options", "wire"}
_HEX = {"ethertype", "checksum", "xid", "tpid", "protocol"}


def _value_text(key: str, d: dict[str, Any]) -> str:
    v = d[key]
    if f"{key}_names" in d:
        names = " ".join(d[f"{key}_names"]) or "none"
        return f"0x{v:04x} ({names})"
    if f"{key}_name" in d:
        return f"{v} ({d[f'{key}_name']})"
    if f"{key}_s" in d:
        return f"{v} ({d[f'{key}_s']} s)"
    if isinstance(v, bool):
        return "set" if v else "not set"
    if key in _HEX and isinstance(v, int):
        return f"0x{v:04x}"
    return "" if v is None else str(v)


def _derived(key: str, d: dict[str, Any]) -> bool:
    """``x_name``, ``x_names`` and ``x_s`` are shown with ``x``."""
    for suffix in ("_name", "_names", "_s"):
        if key.endswith(suffix) and key[: -len(suffix)] in d:
            return True
    return False


def add_fields(tree: Tree, d: dict[str, Any], skip: frozenset[str] = frozenset()) -> None:
    """Every field of ``d`` (a :func:`to_dict` result) as a ``name: value`` leaf."""
    for key in d:
        if key in _SKIP or key in skip or _derived(key, d):
            continue
        v = d[key]
        if isinstance(v, dict):
            add_fields(tree.add(Text(key)), v)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            branch = tree.add(Text(f"{key} ({len(v)})"))
            for i, item in enumerate(v):
                add_fields(branch.add(Text(f"[{i}]")), item)
        else:
            tree.add(Text(f"{key.replace('_', ' ')}: {_value_text(key, d)}"))


def _link_title(frame: Frame) -> str:
    link = frame.link
    if isinstance(link, Ethernet):
        tags = "".join(f", VLAN {t.vid}" for t in link.vlans)
        return f"Ethernet II, Src: {link.src}, Dst: {link.dst}{tags}"
    if isinstance(link, LinuxSLL):
        return "Linux cooked capture v1"
    if isinstance(link, LinuxSLL2):
        return f"Linux cooked capture v2, interface index {link.ifindex}"
    if isinstance(link, Null):
        return f"Null/Loopback, family {link.family}"
    if isinstance(link, RawIP):
        return "Raw IP"
    return "Link layer"


def _checksum_text(ok: bool | None) -> str:
    return {True: "[correct]", False: "[incorrect]", None: "[not verified]"}[ok]


def packet_tree(packet: Packet) -> Tree:
    frame = packet.frame
    root = Tree(Text(f"Frame {packet.frame_no}: {frame.length} bytes, interface "
                     f"{packet.interface}, link type {frame.linktype}", style="bold"))
    if packet.comment:
        root.add(Text(f"comment: {packet.comment}"))
    if frame.link is not None:
        add_fields(root.add(Text(_link_title(frame), style="bold")), to_dict(frame.link))
    ip = frame.ip
    if ip is not None:
        branch = root.add(Text(f"Internet Protocol Version {ip.version}, Src: {ip.src}, "
                               f"Dst: {ip.dst}", style="bold"))
        add_fields(branch, to_dict(ip), frozenset(("checksum", "checksum_ok")))
        if ip.version == 4:
            branch.add(Text(f"header checksum: 0x{ip.checksum:04x} "
                            f"{_checksum_text(ip.checksum_ok)}"))
        if frame.fragment:
            branch.add(Text("fragment: not reassembled, payload not decoded", style="yellow"))
    if frame.udp is not None:
        u = frame.udp
        branch = root.add(Text(f"User Datagram Protocol, Src Port: {u.sport}, "
                               f"Dst Port: {u.dport}", style="bold"))
        branch.add(Text(f"length: {u.length}"))
        branch.add(Text(f"checksum: 0x{u.checksum:04x} {_checksum_text(u.checksum_ok)}"))
    if frame.mh is not None:
        _mh_tree(root, frame)
    if frame.dhcp is not None:
        branch = root.add(Text(f"Dynamic Host Configuration Protocol: "
                               f"{frame.dhcp.info()}", style="bold green"))
        add_fields(branch, to_dict(frame.dhcp))
    for w in frame.warnings:
        root.add(Text(f"[Expert Info (Warning): {w.layer} @{w.offset}: {w.reason}]",
                      style="yellow"))
    if frame.malformed is not None:
        m = frame.malformed
        root.add(Text(f"[Malformed Packet: {m.layer} @{m.offset}: {m.reason}]",
                      style="bold red"))
    return root


def _mh_tree(root: Tree, frame: Frame) -> None:
    mh = frame.mh
    assert mh is not None
    base = frame.offset_of("mh") or 0
    branch = root.add(Text(f"Mobility Header: {mh.name} ({mh.short})", style="bold cyan"))
    if frame.malformed is not None and frame.malformed.layer == "mh":
        branch.add(Text("[decoded up to the fault below]", style="red"))
    if mh.wire is not None:
        w = mh.wire
        branch.add(Text(f"header length: {w.header_len} ({(w.header_len + 1) * 8} bytes)"))
        transport_note = "" if frame.udp is None else " (IPv4/UDP: 0 is correct, RFC 5844)"
        branch.add(Text(f"checksum: 0x{w.checksum:04x} {_checksum_text(w.checksum_ok)}"
                        f"{transport_note}"))
    add_fields(branch, to_dict(mh))
    options = getattr(mh, "options", ())
    if options:
        opts = branch.add(Text(f"Mobility Options ({len(options)})"))
        offsets = mh.wire.option_offsets if mh.wire is not None else ()
        for i, opt in enumerate(options):
            where = f" @{base + offsets[i]}" if i < len(offsets) else ""
            leaf = opts.add(Text(f"{option_name(opt)} ({option_type(opt)}){where}"))
            add_fields(leaf, to_dict(opt), frozenset(("type", "type_name")))
