"""What a command's run and its quick lane (pmipview/quick.py) share, in one place.

Imports neither typer nor rich (nor anything heavy at import time): the quick lanes load
this module without the command line.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any


def tune_gc() -> None:
    """Decoding allocates many small acyclic objects (headers, options) and keeps few:
    the cyclic GC's frequent young-generation passes cost ~9% of a large scan for
    nothing (bench/dissect_bench.py).  Freeze what is loaded and collect less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def write_timeline_json(report: Any, mobile_nodes: list, write: Callable[[str], Any]) -> None:
    """``pmipview timeline --json``'s standard output: one document and a newline."""
    from pmipview.render import timeline_json

    timeline_json.write(report, mobile_nodes, write)
    write("\n")
