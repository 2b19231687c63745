"""The import graph of the project's own modules has no cycle, and its layers point one way.

Read from the source with ``ast`` (function-level imports count too: a cycle hidden in a
function body is still a cycle), so the test needs no import side effects.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dissectors", "pmipview")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never run, so no cycle at run time
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for t in targets:
            # the longest known module that the target names
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: _imports(name, path, known) for name, path in mods.items()}


def _drop_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first; a package's
    ``__init__`` importing its own submodules is the usual re-export, not a cycle."""
    return {n: {t for t in ts if not n.startswith(t + ".")} for n, ts in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for t in sorted(graph.get(n, ())):
            if state.get(t) == 1:
                return [*stack[stack.index(t):], t]
            if t not in state and (found := visit(t)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_import_cycle():
    cycle = _cycle(_drop_parents(_graph()))
    assert cycle is None, " -> ".join(cycle or [])


def test_layers_point_one_way():
    graph = _graph()
    rules = {
        "dissectors": ("pmipview",),
        "pmipview.correlate": ("pmipview.render", "pmipview.cli", "pmipview.agents"),
        "pmipview.render": ("pmipview.cli", "pmipview.correlate.engine", "pmipview.sources"),
        "pmipview.agents": ("pmipview.cli", "pmipview.render", "pmipview.correlate"),
    }
    wrong = [f"{n} imports {t}" for n, ts in graph.items() for layer, banned in rules.items()
             if n == layer or n.startswith(layer + ".")
             for t in ts if any(t == b or t.startswith(b + ".") for b in banned)]
    assert not wrong, "\n".join(wrong)


def test_cli_commands_import_no_other_command():
    graph = _graph()
    commands = {n for n in graph if n.startswith("pmipview.cli.")
                and n not in ("pmipview.cli.common", "pmipview.cli.help")}
    wrong = [f"{n} imports {t}" for n in commands for t in graph[n]
             if t == "pmipview.cli" or t in commands]
    assert not wrong, "\n".join(wrong)


def test_graph_reader_sees_a_cycle():
    """The cycle finder itself: a two-module loop is found, a chain is not."""
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
