"""Print which module of a package imports which, and any import cycle, read from the source with ast.

    python tools/import_graph.py                  # course_lib and course_tools
    python tools/import_graph.py course_lib       # one package

Every import counts, at the top of a module or inside a function: an import deferred to dodge a
cycle is still a cycle. The exit status is 1 when there is a cycle.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path, packages: tuple[str, ...]) -> set[str]:
    """The names under ``packages`` that the file imports: ``from p import m`` gives p and p.m (m may be a module)."""
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .a import b
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in packages:
                found.add(name)
    return found


def graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the modules of the same packages it imports (names that are not modules dropped)."""
    files = [p for package in packages for p in sorted((root / package).rglob("*.py"))]
    modules = {module_name(p, root): p for p in files}
    edges = {}
    for name, path in modules.items():
        edges[name] = {t for t in imports(path, root, packages) if t in modules and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return groups


def main(argv: list[str]) -> int:
    packages = tuple(argv) or ("course_lib", "course_tools")
    edges = graph(ROOT, packages)
    for name in sorted(edges):
        print(f"{name} -> {', '.join(sorted(edges[name])) or '(nothing of ours)'}")
    found = cycles(edges)
    for group in found:
        print("CYCLE:", " <-> ".join(group))
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
