"""The structure, checked instead of described: docs/ARCHITECTURE.md names every module of engine/ and dashapp/, the
package build holds every one of them, and no two of them import each other in a cycle — at module level or inside
a function (a function-level import only delays the cycle to the first call).

Fast: the import graph is read from the source with ast (nothing is imported) and the build's package list is
setuptools' own discovery with pyproject's settings; the slow test builds the wheel and lists it.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

ROOTS = ("engine", "dashapp")

# Known cycles, each as its sorted module names, with who removes it. Any other cycle fails the test.
KNOWN_CYCLES: set[tuple[str, ...]] = set()  # none: every cycle fails the test


def source_files() -> list[Path]:
    return sorted(p for root in ROOTS for p in (REPO / root).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# -- the module map in docs/ARCHITECTURE.md ------------------------------------------------------------------------
def test_the_architecture_names_every_module_and_every_package():
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    at = text.find("## Module map")
    assert at >= 0, "docs/ARCHITECTURE.md has no '## Module map' section"
    section = text[at:]
    nxt = re.search(r"\n## (?!Module map)", section)
    section = section[:nxt.start()] if nxt else section
    named = set(re.findall(r"^- `([\w/]+(?:\.py|/))` — \S", section, flags=re.M))
    missing = []
    for path in source_files():
        rel = path.relative_to(REPO).as_posix()
        want = rel[: -len("__init__.py")] if path.name == "__init__.py" else rel
        if want not in named:
            missing.append(want)
    assert not missing, ("docs/ARCHITECTURE.md's module map lacks a line '- `PATH` — what it owns' for: "
                         + ", ".join(missing))
    stale = sorted(n for n in named if not (REPO / n).exists())
    assert not stale, f"the module map names modules that do not exist: {', '.join(stale)}"


# -- the package build -----------------------------------------------------------------------------------------------
def _find_config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]


def test_setuptools_finds_every_package_of_engine_and_dashapp():
    from setuptools import find_packages

    cfg = _find_config()
    found = set(find_packages(where=str(REPO), include=cfg.get("include", ["*"]), exclude=cfg.get("exclude", ())))
    needed = {module_name(p.parent / "__init__.py") for p in source_files()}
    missing = sorted(needed - found)
    assert not missing, f"the wheel would lack these packages (no __init__.py, or pyproject's find): {missing}"


@pytest.mark.slow
def test_the_built_wheel_holds_every_module(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(REPO / name, src / name)
    for root in ROOTS:
        shutil.copytree(REPO / root, src / root, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("*.whl"))
    held = set(zipfile.ZipFile(wheel).namelist())
    missing = [p.relative_to(REPO).as_posix() for p in source_files() if p.relative_to(REPO).as_posix() not in held]
    assert not missing, f"{wheel.name} lacks {len(missing)} modules: {missing}"


# -- import cycles ---------------------------------------------------------------------------------------------------
def _type_checking_only(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, package: str, is_package: bool) -> list[str]:
    """Every module name an import statement anywhere in the tree names (functions included), relative imports
    resolved; `if TYPE_CHECKING:` blocks skipped (they never run)."""
    out: list[str] = []

    def visit(node):
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if is_package else package.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(mod)
            out.extend(f"{mod}.{a.name}" for a in node.names)  # kept when it is a module (a submodule import)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the engine/dashapp modules it imports (module- and function-level)."""
    files = {module_name(p): p for p in source_files()}
    graph = {}
    for name, path in files.items():
        targets = _imports(ast.parse(path.read_text()), name, path.name == "__init__.py")
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a → … → a) per strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
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
                comps.append(sorted(comp))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return [_cycle_path(graph, comp) for comp in comps]


def _cycle_path(graph, comp: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, for the message (breadth-first)."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def test_the_cycle_finder_sees_module_and_function_level_imports_and_reports_the_path():
    tree = ast.parse("import engine.a\nfrom . import b\nif TYPE_CHECKING:\n    import engine.z\n"
                     "def f():\n    from engine.c import thing\n")
    assert set(_imports(tree, "engine.pkg.mod", False)) >= {"engine.a", "engine.pkg.b", "engine.c"}
    assert "engine.z" not in _imports(tree, "engine.pkg.mod", False)
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_engine_and_dashapp_modules():
    found = cycles(import_graph())
    unexpected = [c for c in found if tuple(sorted(set(c))) not in KNOWN_CYCLES]
    assert not unexpected, "import cycles: " + "; ".join(" -> ".join(c) for c in unexpected)
    gone = KNOWN_CYCLES - {tuple(sorted(set(c))) for c in found}
    assert not gone, f"no longer a cycle, remove it from KNOWN_CYCLES: {sorted(gone)}"
