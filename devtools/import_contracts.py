"""An import-linter contract the built-in ones do not cover: no private names across modules.

`private_modules` guards `_module.py` files; this guards names: `from harness.cli.shell
import _run` is refused, wherever the two modules sit. A private name is an
implementation detail of its module; another module that needs it needs a public name.

    [[tool.importlinter.contracts]]
    name = "Private names (_x) are not imported across modules"
    type = "private_names"
    packages = ["pylon", "harness"]
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


@dataclass(frozen=True, order=True)
class PrivateImport:
    importer: str
    line: int
    imported: str
    name: str


class PrivateNamesContract(Contract):
    type_name = "private_names"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        roots: list[str] = self.packages  # type: ignore[assignment]
        found: list[PrivateImport] = []
        for module in sorted(graph.modules):
            if module.split(".")[0] in roots:
                found += _private_imports(module, _source_file(module))
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("Private names imported from another module:", bold=False)
        output.new_line()
        for item in check.metadata["found"]:
            output.print_error(
                f"- {item.importer} (l.{item.line}) imports {item.name} from {item.imported}",
                bold=False,
            )
        output.new_line()


def _source_file(module: str) -> Path:
    """The module's file, found from its root package without importing the module."""
    root, *rest = module.split(".")
    spec = importlib.util.find_spec(root)
    assert spec is not None and spec.submodule_search_locations, f"{root} is not a package"
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    package = base / "__init__.py"
    return package if package.is_file() else base.with_suffix(".py")


def _private_imports(module: str, path: Path) -> list[PrivateImport]:
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        imported = _absolute(module, is_package, node)
        for alias in node.names:
            if _is_private(alias.name) and imported != module:
                found.append(PrivateImport(module, node.lineno, imported, alias.name))
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module an `ImportFrom` reads from, with relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")
