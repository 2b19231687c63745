"""The packet list of ``pmipview dissect``: one line per frame, as Wireshark's top pane."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from pmipview.filters import rejected
from pmipview.packets import Packet

TIME_MODES = ("rel", "abs", "delta", "epoch")


def time_text(packet: Packet, mode: str, first_ts_ns: int | None, prev_ts_ns: int | None) -> str:
    """Seconds since the first frame (rel), since the previous listed one (delta), the UTC
    date-time (abs) or seconds since the epoch (epoch)."""
    if mode == "abs":
        from datetime import UTC, datetime
        dt = datetime.fromtimestamp(packet.ts_ns // 1_000_000_000, UTC)
        return f"{dt:%Y-%m-%d %H:%M:%S}.{packet.ts_ns % 1_000_000_000 // 1000:06d}"
    if mode == "epoch":
        return f"{packet.ts_ns / 1e9:.6f}"
    ref = prev_ts_ns if mode == "delta" else first_ts_ns
    return f"{(packet.ts_ns - (ref if ref is not None else packet.ts_ns)) / 1e9:.6f}"


@dataclass(frozen=True, slots=True)
class Row:
    frame_no: int
    time: str
    src: str
    dst: str
    protocol: str
    info: str
    style: str  # "error", "warning", "mh", "dhcp" or ""


def row(packet: Packet, time: str) -> Row:
    frame = packet.frame
    if frame.malformed is not None or rejected(packet):
        style = "error"
    elif frame.warnings:
        style = "warning"
    elif frame.mh is not None:
        style = "mh"
    elif frame.dhcp is not None:
        style = "dhcp"
    else:
        style = ""
    src = str(frame.src) if frame.src is not None else ""
    dst = str(frame.dst) if frame.dst is not None else ""
    info = frame.info()
    if frame.warnings and frame.malformed is None:
        info += " [" + "; ".join(w.reason for w in frame.warnings) + "]"
    return Row(packet.frame_no, time, src, dst, frame.protocol, info, style)


STYLES = {"error": "bold red", "warning": "yellow", "mh": "cyan", "dhcp": "green", "": ""}


def header(time_mode: str) -> Text:
    label = {"rel": "Time", "abs": "Time (UTC)", "delta": "Delta", "epoch": "Epoch"}[time_mode]
    width = 26 if time_mode == "abs" else 17 if time_mode == "epoch" else 11
    return Text(f"{'No.':>6} {label:<{width}} {'Source':<20} {'Destination':<20} "
                f"{'Protocol':<9} Info", style="bold")


def render(r: Row, time_mode: str) -> Text:
    width = 26 if time_mode == "abs" else 17 if time_mode == "epoch" else 11
    line = Text(f"{r.frame_no:>6} {r.time:<{width}} {r.src:<20} {r.dst:<20} {r.protocol:<9} ")
    line.append(r.info, style=STYLES[r.style])
    return line
