"""The web server behind `pylon ui` comes with the `ui` extra (Starlette, uvicorn, Jinja2);
the rest of the harness, and its image, do without. Commands load it through here, so a
missing extra is one clear error instead of an ImportError at start-up."""

from __future__ import annotations

import importlib
from types import ModuleType

from harness.errors import HarnessError

# Where the inspector listens unless told otherwise (`--port`, `--ui-port`).
DEFAULT_PORT = 8765


class UiExtraMissingError(HarnessError):
    """The inspector's web server is not installed."""


def server_module() -> ModuleType:
    """`harness.inspector.server`, or a clear error saying what to install."""
    try:
        return importlib.import_module("harness.inspector.server")
    except ImportError as exc:
        raise UiExtraMissingError(
            f"the web inspector needs the `ui` extra ({exc.name} is not installed): "
            "pip install 'pylon-pipelines[harness,ui]'"
        ) from None
