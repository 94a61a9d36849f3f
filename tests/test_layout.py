"""The layout the guide promises (guide/development.md): no import circle
(imports inside functions and under TYPE_CHECKING count), no folder of more
than 12 modules, no module over 400 lines, ``index`` never importing
``assistant``, no file read when a module is imported, and every path the
guide, README and pyproject.toml name existing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = ("index", "assistant", "training")
MAX_MODULES = 12
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of askdoc's packages by dotted name (a package by its ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "static" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The askdoc modules ``name`` imports anywhere in its file: ``from a.b import c``
    counts as ``a.b.c`` when that is a module, else as ``a.b``."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan).

    >>> cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_that_imports_it_back():
    known = modules()
    graph = {name: imports_of(name, path, set(known)) for name, path in known.items()}
    assert cycles(graph) == []


def test_index_never_imports_the_assistant():
    known = modules()
    leaks = {name: sorted(m for m in imports_of(name, path, set(known)) if m.startswith("assistant"))
             for name, path in known.items() if name.startswith("index")}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_no_folder_holds_more_than_twelve_modules_and_no_module_more_than_400_lines():
    folders: dict[Path, int] = {}
    long = {}
    for path in [*modules().values(), *(ROOT / "tests").rglob("*.py")]:
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and (ROOT / "tests") not in path.parents:
            long[str(path.relative_to(ROOT))] = lines
    assert {str(f.relative_to(ROOT)): n for f, n in folders.items() if n > MAX_MODULES} == {}
    assert long == {}


def test_importing_any_module_reads_no_file_of_askdoc():
    """Every module of ``index`` and ``assistant`` imported in a fresh interpreter with an audit hook on
    ``open``: nothing of the repository but Python source may be opened."""
    names = sorted(n for n in modules() if not n.endswith("__main__") and not n.startswith("training"))
    script = f"""
import importlib, sys
from pathlib import Path
root = Path({str(ROOT)!r})
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        path = Path(args[0])
        if root in path.parents and path.suffix not in (".py", ".pyc") and ".venv" not in path.parts:
            opened.append(str(path))
sys.addaudithook(hook)
for name in {names!r}:
    importlib.import_module(name)
print(sorted(set(opened)))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


# Paths the guide may name that are not in a checkout: what a run writes, and a file the user writes.
NOT_COMMITTED = ("tests/benchmarks/results/", "docs/.permissions.toml")
ROOTED = re.compile(r"(?<![\w./-])((?:\.\./shared|assistant|index|tests|training|guide|docs|\.ci)/[\w./-]*[\w/])")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
BARE_MODULE = re.compile(r"`([\w/]+/[\w]+\.py)\b")


def named_paths() -> list[tuple[str, str]]:
    """(where, what) for every path the guide, README and pyproject.toml name that does not exist."""
    missing = []
    for doc in [*sorted((ROOT / "guide").rglob("*.md")), ROOT / "README.md", ROOT / "pyproject.toml",
                ROOT / "tests" / "README.md", ROOT / "training" / "reader" / "README.md"]:
        text = doc.read_text(encoding="utf-8")
        where = str(doc.relative_to(ROOT))
        for match in ROOTED.finditer(text):
            path = match.group(1).rstrip(".")
            if not path.startswith(NOT_COMMITTED) and not (ROOT / path).exists():
                missing.append((where, path))
        for match in BARE_MODULE.finditer(text):  # `web/live.py`: a module named from inside a package
            path = match.group(1)
            if not any((ROOT / base / path).exists() for base in ("", "assistant", "index", "tests")):
                missing.append((where, path))
        if doc.suffix == ".md":
            for match in LINK.finditer(text):
                target = match.group(1)
                if not re.match(r"[a-z]+:", target) and not (doc.parent / target).exists():
                    missing.append((where, target))
    return missing


def test_every_path_the_guide_names_exists():
    assert named_paths() == []


@pytest.mark.parametrize("page", sorted((ROOT / "guide").rglob("*.md")), ids=lambda p: p.name)
def test_every_guide_page_is_at_most_400_lines(page):
    assert len(page.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
