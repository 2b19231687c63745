"""A/B of outputs: the correlator's commands on two checkouts must print the same bytes.

    python bench/same_output.py OTHER_CHECKOUT [FILE ...]

Runs ``timeline --json``, ``timeline``, ``timeline --csv``, ``stats --json``,
``ladder --format text`` and ``report`` on every file (default: every capture in samples/
and the cached shapes in bench/out/) with this checkout's pmipview and with
OTHER_CHECKOUT's (each with its own .venv when it has one), and prints one line per
command and file that differs (sha256 of stdout and exit code).  Exit 1 on any
difference.  A speed change in pmipview/correlate/ or the renderers must change nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: list[list[str]] = [  # SAME_COMMANDS=report (a substring) picks some
    ["timeline", "--json"], ["timeline"], ["timeline", "--csv"], ["stats", "--json"],
    ["ladder", "--format", "text"], ["report", "-o", "{out}"],
]


def python_of(tree: Path) -> str:
    venv = tree / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def digest(tree: Path, command: list[str], file: str) -> str:
    """sha256 of what ``command`` prints on ``file`` in ``tree`` (or of the file it
    writes, for ``report -o``), with its exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.html")
        args = [a.replace("{out}", out) for a in command]
        p = subprocess.run([python_of(tree), "-m", "pmipview", *args, file],
                           capture_output=True, cwd=tree,
                           env={**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "120"})
        data = p.stdout
        if "-o" in command and os.path.exists(out):
            # the report says when it was generated: the one byte string allowed to differ
            data += re.sub(rb"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", b"at TIME",
                           Path(out).read_bytes())
    return f"{hashlib.sha256(data).hexdigest()[:16]} rc={p.returncode}"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    other = Path(argv[0]).resolve()
    if not (other / "pmipview").is_dir():
        print(f"same_output: {other} is not a pmipview checkout", file=sys.stderr)
        return 2
    files = argv[1:] or sorted(
        [str(p) for p in (ROOT / "samples").glob("*.pcap*")]
        + [str(p) for p in (ROOT / "bench" / "out").glob("*-sig-*.pcap")
           if p.stat().st_size < 5_000_000])
    pick = os.environ.get("SAME_COMMANDS", "")
    jobs = [(c, f) for f in files for c in COMMANDS if pick in " ".join(c)]
    with ThreadPoolExecutor(2) as pool:
        mine = list(pool.map(lambda j: digest(ROOT, *j), jobs))
        theirs = list(pool.map(lambda j: digest(other, *j), jobs))
    bad = 0
    for (command, file), a, b in zip(jobs, mine, theirs, strict=True):
        if a != b:
            bad += 1
            print(f"DIFFERS {' '.join(command)} {file}: {a} vs {b}")
    print(f"{len(jobs) - bad} of {len(jobs)} outputs identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
