"""Regenerate the simulated samples: every samples/scenarios/NAME.toml -> samples/NAME.pcapng,
and samples/README.md, the index of what each shows and the facts to check.

    python samples/build.py            # rewrite (make samples)
    python samples/build.py --check    # exit 1 when a committed file is not up to date
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pmipview.sim.engine import capture_comment, run
from pmipview.sim.scenario import Scenario, load
from pmipview.sources.capfile import write_pcapng

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"


def capture_bytes(sc: Scenario) -> bytes:
    result = run(sc)
    buf = io.BytesIO()
    write_pcapng(buf, result.records, result.interfaces, comment=capture_comment(sc))
    return buf.getvalue()


def index(scenarios: list[Scenario]) -> str:
    lines = ["# Samples", "",
             "Captures of every scenario of the seed and RFC 5844, produced by the reference",
             "agents (`pmipview simulate`) from the scenario files in `scenarios/`.",
             "Regenerate with `make samples`; `tests/test_samples.py` proves these files are",
             "up to date, that each capture shows its expected facts (frame patterns) and",
             "that its timeline (`pmipview timeline FILE --json`) shows its timeline facts.",
             "",
             "`tour.pcap` is different: a hand-scripted capture of every signaling kind",
             "(`make_tour.py`), the fixed point of the CLI tests and of `make demo`.", ""]
    for sc in scenarios:
        lines += [f"## {sc.name}", "", " ".join(sc.description.split()), "",
                  f"Capture: `{sc.name}.pcapng` (interfaces: {', '.join(sc.capture)}). "
                  f"Scenario: `scenarios/{Path(sc.path).name}`.", "", "Expected facts:", ""]
        lines += [f"- {e.get('fact', '(unnamed)')}" for e in sc.expect]
        if sc.timeline:
            lines += ["", "Timeline facts (`pmipview timeline`):", ""]
            lines += [f"- {e.get('fact', '(unnamed)')}" for e in sc.timeline]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    scenarios = [load(p) for p in sorted(SCENARIOS.glob("*.toml"))]
    outputs = {HERE / f"{sc.name}.pcapng": capture_bytes(sc) for sc in scenarios}
    outputs[HERE / "README.md"] = index(scenarios).encode()
    stale = 0
    for path, data in outputs.items():
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                print(f"{path.relative_to(HERE.parent)} is not up to date: run make samples",
                      file=sys.stderr)
                stale += 1
        else:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(HERE.parent)} ({len(data)} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
