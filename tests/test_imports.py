"""No import cycle anywhere in gapsearch/: every import, lazy ones inside functions included, is walked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gapsearch"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The gapsearch modules that ``path`` imports anywhere in its body."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*stem, base] if base else stem)
            # `from gapsearch import plots` imports the module gapsearch.plots; `from x import name` imports x
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import gapsearch.data.text` also runs its packages
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_walk_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walk_sees_lazy_relative_and_from_package_imports(tmp_path, monkeypatch):
    package = tmp_path / "gapsearch"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plots.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("def f():\n    from . import b\n    from gapsearch import plots\n")
    (package / "sub" / "b.py").write_text("import gapsearch.sub.a\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", package)
    graph = import_graph()
    assert graph["gapsearch.sub.a"] == {"gapsearch.sub.b", "gapsearch.plots"}
    assert cycles(graph) == [["gapsearch.sub.a", "gapsearch.sub.b"]]


@pytest.mark.parametrize("module", ["gapsearch.cli", "gapsearch.search.objective", "gapsearch.workers.loop"])
def test_the_graph_covers_the_package(module):
    graph = import_graph()
    assert module in graph and graph[module], module


def test_no_module_of_gapsearch_is_part_of_an_import_cycle():
    assert cycles(import_graph()) == []


#: No module of gapsearch/ grows past this many lines (issue 15: one responsibility a module).
MAX_LINES = 400


def test_no_module_of_gapsearch_is_over_400_lines():
    lengths = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert too_long == {}


#: The layers, lowest first. A module may import (anywhere in its body, lazily too) only modules of its
#: own layer or of a lower one; docs/pages/architecture.md describes them.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "gapsearch.errors",
            "gapsearch.masking",
            "gapsearch.runtime",
            "gapsearch.optuna_compat",
            "gapsearch.records",
            "gapsearch.trial_attrs",
            "gapsearch.study_attrs",
            "gapsearch.cost_names",
            "gapsearch.plots",
            "gapsearch.stats",
        ),
    ),
    ("study file", ("gapsearch.spec",)),
    ("database", ("gapsearch.storage",)),
    ("data", ("gapsearch.data",)),
    ("models", ("gapsearch.models",)),
    ("explanations", ("gapsearch.explain",)),
    ("training", ("gapsearch.training",)),
    ("search", ("gapsearch.search",)),
    ("workers", ("gapsearch.workers",)),
    ("results", ("gapsearch.results",)),
    ("interfaces", ("gapsearch", "gapsearch.__main__", "gapsearch.api", "gapsearch.cli")),
)


def layer_of(module: str) -> int:
    best, rank = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "gapsearch" and module.startswith(prefix + "."))
            if matches and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer of LAYERS"
    return rank


def test_every_module_imports_only_its_own_layer_or_lower_ones():
    graph = import_graph()
    against = sorted(
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert against == []


def test_every_package_says_what_it_owns_and_what_it_may_import():
    for path in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if path.parent.parent == PACKAGE or path.parent == PACKAGE:
            assert len(doc) > 80, f"{path.relative_to(PACKAGE.parent)} has no docstring saying what it owns"
        if path.parent.parent == PACKAGE:
            assert "May import" in doc, f"{path.relative_to(PACKAGE.parent)}'s docstring says nothing of its imports"
