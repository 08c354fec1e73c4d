"""The `pylon` app: every module of `harness.cli.commands` adds its verbs to it.

A new verb is a new module there with a `register(app)` function (and a `PANEL`, the
heading `pylon --help` lists it under); nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType

import typer

from harness.cli import commands

app = typer.Typer(
    help="Pylon: run and test AWS data pipelines offline.",
    no_args_is_help=True,
    add_completion=False,
)


# `pylon --help` lists its panels in this order; a panel not named here comes last.
PANELS = ("Run a pipeline", "Messages", "Lineage", "Deploying to AWS", "Packaging")


def _register_commands(root: typer.Typer) -> None:
    modules = [
        importlib.import_module(f"{commands.__name__}.{found.name}")
        for found in pkgutil.iter_modules(commands.__path__)
    ]
    for module in sorted(modules, key=_panel_order):
        module.register(root)


def _panel_order(module: ModuleType) -> tuple[int, str]:
    panel = getattr(module, "PANEL", "")
    rank = PANELS.index(panel) if panel in PANELS else len(PANELS)
    return rank, module.__name__


_register_commands(app)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
