"""Our packages import one another in one direction only, and no module needs itself.

The graph is read from the source with :mod:`ast`, so an import inside a function or
under ``TYPE_CHECKING`` counts like any other: hiding an import in a function does not
break a circle, it only postpones it.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geodata", "mapping", "web")
# Each package may import only the packages listed after it here.
MAY_IMPORT = {"geodata": set(), "mapping": {"geodata"}, "web": {"mapping", "geodata"}}


def module_files() -> dict[str, Path]:
    """Every module of our packages, by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    """The dotted names one module imports, relative imports made absolute."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([node.module] if node.module else [])])
            # ``from package import name`` imports a submodule when one has that name.
            yield from (f"{base}.{alias.name}" for alias in node.names)
            yield base


def import_graph() -> dict[str, set[str]]:
    """Which of our modules each of our modules runs on import (and when called)."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        for name in imported_names(module, path):
            if name.split(".")[0] not in PACKAGES:
                continue
            while name and name not in modules:  # a name inside a module: the module
                name = name.rpartition(".")[0]
            # Importing ``a.b.c`` runs ``a`` and ``a.b`` first; those of them that are not
            # packages around the importer itself are imports of it too.
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def test_the_import_graph_reads_every_package() -> None:
    graph = import_graph()
    assert {"geodata.store.base", "mapping", "web.cli"} <= graph.keys()
    assert "geodata.store.base" in graph["geodata.store.sqlite"]


def test_no_module_imports_itself_through_others() -> None:
    sorter = graphlib.TopologicalSorter(import_graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"import circle: {' -> '.join(cycle.args[1])}")


def test_packages_import_only_the_packages_below_them() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if target.split(".")[0] not in MAY_IMPORT[module.split(".")[0]] | {module.split(".")[0]}
    )
    assert wrong == []
