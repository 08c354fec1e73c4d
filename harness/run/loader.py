"""Finding a component object from its spec entrypoint (`package.module:function`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from harness.errors import HarnessError
from pylon.components import Component


class EntrypointError(HarnessError):
    """The entrypoint does not name an importable Pylon component."""


def load_component(entrypoint: str, project_root: Path | None = None) -> Component:
    """Import `module:function` and check it is decorated with a Pylon component."""
    module_name, _, attribute = entrypoint.partition(":")
    if project_root is not None and str(project_root) not in sys.path:
        sys.path.insert(0, str(project_root))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EntrypointError(
            f"entrypoint {entrypoint!r}: cannot import module {module_name!r} ({exc}); "
            "run from the project root or add it to PYTHONPATH"
        ) from None
    component = getattr(module, attribute, None)
    if component is None:
        raise EntrypointError(
            f"entrypoint {entrypoint!r}: module {module_name} has no {attribute!r}"
        )
    if not isinstance(component, Component):
        raise EntrypointError(
            f"entrypoint {entrypoint!r} is a {type(component).__name__}, not a Pylon component; "
            "decorate it with @pylon.PipelineComponent, @pylon.SourceComponent or @pylon.SinkComponent"
        )
    return component
