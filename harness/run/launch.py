"""`python -m harness.run.launch module:function`: run one component's `runForever`.

The process runner starts every component this way, so a component needs no
`if __name__ == "__main__"` block to run locally (though the seed shape has one).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from harness.run.loader import EntrypointError, load_component


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m harness.run.launch package.module:function", file=sys.stderr)
        return 2
    try:
        component = load_component(argv[0], Path.cwd())
    except EntrypointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the component's own code failed to import
        print(f"error: component {argv[0]} failed to load:", file=sys.stderr)
        print(_user_traceback(exc), file=sys.stderr, end="")
        return 1
    component.runForever()
    return 0


def _user_traceback(error: BaseException) -> str:
    """The traceback without the import machinery and the harness: the user's frames."""
    report = traceback.TracebackException.from_exception(error)
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if not _machinery(frame.filename)]
    )
    return "".join(report.format())


def _machinery(filename: str) -> bool:
    return (
        filename.startswith("<frozen")
        or f"{os.sep}harness{os.sep}" in filename
        or (f"{os.sep}importlib{os.sep}" in filename)
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
