"""The import graph of the project, read with ``ast``: no module uses another module's
private names (package, tests, notebooks, benchmarks), and the package has no import
cycles (imports inside functions and under ``TYPE_CHECKING`` count too).

Private means a leading underscore (not a dunder). A module may use its own private
names; a test may not reach into the module it tests: what a test needs is public.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("irrigation", "tests", "notebooks", "benchmarks")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _scan(path: Path) -> tuple[set[str], list[tuple[str, str]]]:
    """Modules of the project ``path`` imports, and the (module, name) private names it
    takes from other project modules."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    edges: set[str] = set()
    private: list[tuple[str, str]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for alias in node.names:
                full = f"{src}.{alias.name}"
                target = full if _is_module(full) else src
                if target.startswith("irrigation"):
                    edges.add(target)
                    aliases[alias.asname or alias.name] = target
                    if _private(alias.name):
                        private.append((src, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("irrigation"):
                    edges.add(alias.name)
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
    for node in ast.walk(tree):  # module._name on an imported project module
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in aliases
                and _is_module(aliases[node.value.id])):
            private.append((aliases[node.value.id], node.attr))
    return edges, [(m, n) for m, n in private if m != mod]


def _files() -> list[Path]:
    return sorted(p for d in FOLDERS for p in (ROOT / d).rglob("*.py")
                  if "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_private_names_across_modules():
    used = {str(p.relative_to(ROOT)): _scan(p)[1] for p in _files()}
    bad = {f: names for f, names in used.items() if names}
    assert bad == {}, f"private names imported from other modules: {bad}"


def test_the_package_has_no_import_cycles():
    graph = {}
    for p in _files():
        if p.relative_to(ROOT).parts[0] == "irrigation":
            graph[_module(p)] = {e for e in _scan(p)[0] if e != _module(p)}
    assert _cycles(graph) == []


def test_the_checks_can_fail(tmp_path):
    """The scanner sees a private import, a private attribute and a cycle."""
    pkg = tmp_path / "irrigation"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import _hidden\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n_hidden = 1\n")
    (pkg / "c.py").write_text("from irrigation import b\nb._hidden\n")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert _scan(pkg / "a.py")[1] == [("irrigation.b", "_hidden")]
        assert _scan(pkg / "c.py")[1] == [("irrigation.b", "_hidden")]
        graph = {_module(p): _scan(p)[0] for p in pkg.glob("*.py")}
        assert _cycles(graph) == [["irrigation.a", "irrigation.b"]]
    finally:
        ROOT = old
