"""Which files a component's code is made of, and a version that changes with them.

A component is its entrypoint module plus every module of the project it imports,
directly or not (found by reading the import statements, nothing is executed). Two
components of one package share only what they both import: saving the parser
restarts the parser, not the fetcher beside it; saving a helper both import restarts both.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

# The framework is not the component's code, even when its source sits in the project (as
# in Pylon's own repository): reloading it under a running harness would replace the
# harness itself.
FRAMEWORK = frozenset({"pylon", "harness"})


def module_file(module: str, root: Path) -> Path | None:
    """The project file of a dotted module name (a module or a package), if it has one."""
    if module.partition(".")[0] in FRAMEWORK:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def source_files(entrypoint: str, root: Path) -> frozenset[Path]:
    """The entrypoint's module and the project modules it imports (transitively), plus
    the `__init__.py` of every package on the way (they run on import too)."""
    start = module_file(entrypoint.partition(":")[0], root)
    if start is None:
        return frozenset()
    seen: set[Path] = set()
    pending = [start]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path, root):
            for name in _with_parents(module):
                found = module_file(name, root)
                if found is not None and found not in seen:
                    pending.append(found)
    return frozenset(seen)


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


def _imported_modules(path: Path, root: Path) -> list[str]:
    """Modules `path` imports (absolute names; relative imports resolved), including
    `from package import module` where the name is a submodule."""
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (SyntaxError, ValueError):
        return []  # a file being edited: its imports are read again on the next save
    package = _package_of(path, root)
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None:
                continue
            modules.append(base)
            modules.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return modules


def _package_of(path: Path, root: Path) -> list[str]:
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    return parts if parts[-1] == "__init__" and parts.pop() is not None else parts[:-1]


def _absolute(node: ast.ImportFrom, package: list[str]) -> str | None:
    if node.level == 0:
        return node.module
    if node.level - 1 > len(package):
        return None
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None


def code_version(files: Iterable[Path], root: Path) -> str:
    """A short hash of the files' names and contents: it changes when the code does."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"(gone)")
    return digest.hexdigest()[:8]
