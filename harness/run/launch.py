"""`python -m harness.run.launch module:function`: run one component's `runForever`.

The process runner starts every component this way, so a component needs no
`if __name__ == "__main__"` block to run locally (though the seed shape has one).
"""

from __future__ import annotations

import sys
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
    component.runForever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
