"""Imports point down the layers and form no cycle: ``python -m sianode.devtools.layers``.

Every module of the package is given a layer (:data:`LAYERS`, bottom to top); a module may
import from a lower layer or from its own group (the packages of one row share a group only
when they are listed under the same name: ``calculators`` and ``transport`` sit on one layer
but may not import each other). Module-level and function-level imports both count; imports
under ``if TYPE_CHECKING:`` do not. Separately, no import cycle is allowed, inside a package
either (every import counts; importing ``a.b.c`` is not counted as importing ``a`` and
``a.b``, which Python does implicitly).

Prints one line per violation and exits 1 when there is any (0 and a summary line when
there is none). A module that no row of :data:`LAYERS` covers is a violation too, so a new
package must be given its layer.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

#: (module or package, layer, group), bottom to top. The package itself (``sianode``:
#: its ``__init__``) matches only exactly; every other row matches its submodules too.
LAYERS: tuple[tuple[str, int, str], ...] = (
    ("sianode", 1, "base"),
    ("sianode.errors", 1, "base"),
    ("sianode.constants", 1, "base"),
    ("sianode.plotting", 1, "base"),
    ("sianode.structures", 2, "structures"),
    ("sianode.calculators", 3, "calculators"),
    ("sianode.transport", 3, "transport"),
    ("sianode.continuum", 4, "continuum"),
    ("sianode.store", 5, "store"),
    ("sianode.workflows", 6, "workflows"),
    ("sianode.analysis", 7, "analysis"),
    ("sianode.recipes", 8, "recipes"),
    ("sianode.cli", 9, "cli"),
    ("sianode.commands", 9, "cli"),
    ("sianode.__main__", 9, "cli"),
    ("sianode.devtools", 10, "devtools"),
)


@dataclass(frozen=True)
class Import:
    """One import of a package module by another."""

    source: str
    target: str
    path: Path
    line: int
    function_level: bool


@dataclass(frozen=True)
class Violation:
    """An upward import, a sideways one (between groups of one layer), a cycle, or a module without layer."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


# ------------------------------------------------------------------ modules
def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file of every module of ``package`` found under ``root``
    (``root`` is the package directory)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = [package, *rel.parts]
        if parts[-1] == "__init__":
            parts.pop()
        if all(p.isidentifier() for p in parts):
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import statements under ``node`` (not under ``if TYPE_CHECKING:``), with whether
    they sit in a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]), in_function)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_function
            continue
        yield from _import_nodes(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                          ast.Lambda)))


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a known module."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in known:
            return candidate
    return None


def imports(known: dict[str, Path], package: str) -> list[Import]:
    """Every import of one module of the package by another (duplicates per line removed)."""
    out: list[Import] = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        for node, in_function in _import_nodes(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = source.split(".") if is_pkg else source.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from a.b import c``: the submodule a.b.c when there is one, else a.b
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for name in dict.fromkeys(targets):
                if name != package and not name.startswith(package + "."):
                    continue
                target = _resolve(name, known)
                if target is not None and target != source:
                    out.append(Import(source, target, path, node.lineno, in_function))
    return out


# ------------------------------------------------------------------- layers
def layer_of(module: str, layers: Sequence[tuple[str, int, str]], package: str) -> tuple[int, str] | None:
    """``(layer, group)`` of a module: the longest matching row of ``layers``."""
    best: tuple[int, tuple[int, str]] | None = None
    for prefix, layer, group in layers:
        exact_only = prefix == package
        if module == prefix or (not exact_only and module.startswith(prefix + ".")):
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), (layer, group))
    return None if best is None else best[1]


def layer_violations(found: Iterable[Import], known: Iterable[str], layers: Sequence[tuple[str, int, str]],
                     package: str, root: Path) -> list[Violation]:
    out = []
    for module in sorted(known):
        if layer_of(module, layers, package) is None:
            out.append(Violation("no layer", f"{module} is in no row of LAYERS; give it a layer"))
    for imp in found:
        src, dst = layer_of(imp.source, layers, package), layer_of(imp.target, layers, package)
        if src is None or dst is None or src[1] == dst[1] or dst[0] < src[0]:
            continue
        where = f"{imp.path.relative_to(root.parent)}:{imp.line}"
        what = "upward import" if dst[0] > src[0] else "sideways import"
        scope = " (in a function)" if imp.function_level else ""
        out.append(Violation(what, f"{where}: {imp.source} (layer {src[0]} {src[1]}) imports {imp.target} "
                                   f"(layer {dst[0]} {dst[1]}){scope}"))
    return out


# ------------------------------------------------------------------- cycles
def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest cycle through the first member, within the component."""
    inside = set(members)
    start = members[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child in inside and child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return members


def cycle_violations(found: Iterable[Import]) -> list[Violation]:
    graph: dict[str, set[str]] = {}
    lines: dict[tuple[str, str], str] = {}
    for imp in found:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
        lines.setdefault((imp.source, imp.target), f"{imp.path.name}:{imp.line}")
    out = []
    for comp in _components(graph):
        cycle = _shortest_cycle(graph, comp)
        steps = " -> ".join(f"{a} ({lines[(a, b)]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"
        others = f"; component of {len(comp)} modules: {', '.join(comp)}" if len(comp) > len(cycle) - 1 else ""
        out.append(Violation("import cycle", steps + others))
    return out


# --------------------------------------------------------------------- main
def check(root: Path, package: str | None = None,
          layers: Sequence[tuple[str, int, str]] = LAYERS) -> list[Violation]:
    """Every violation of the package in directory ``root`` (its name is the package's
    unless ``package`` is given)."""
    root = Path(root).resolve()
    package = package or root.name
    known = modules(root, package)
    found = imports(known, package)
    return layer_violations(found, known, layers, package, root) + cycle_violations(found)


def main(argv: Sequence[str] | None = None, layers: Sequence[tuple[str, int, str]] = LAYERS) -> int:
    """The command line: prints the violations of a package directory; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m sianode.devtools.layers", description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parents[1],
                        help="package directory (default: the installed sianode)")
    args = parser.parse_args(argv)
    violations = check(args.root, layers=layers)
    for v in violations:
        print(v)
    if violations:
        print(f"{len(violations)} layer violation(s)", file=sys.stderr)
        return 1
    print(f"layers ok: {len(modules(args.root.resolve(), args.root.resolve().name))} modules, imports point down, "
          "no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
