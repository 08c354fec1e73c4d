"""Print what the lake holds once it stopped changing: the pipeline's result, for people.

    python -m examples.docs_pipeline.lake_report s3://docs-lake/lake/ --settle 5

It polls the lake until it holds files and nothing changed for `--settle` seconds, then
prints one line per partition file with its row count (and exits 0), or gives up after
`--timeout` seconds (exit 1). `docker compose up` runs it as the `lake-report` service.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from examples.docs_pipeline.lake import from_jsonl
from pylon.aws.s3 import S3Store
from pylon.s3_pointer import S3Location

POLL_SECONDS = 0.5

Snapshot = dict[str, int]  # part file key -> rows


def lake_rows(store: S3Store, root: S3Location) -> Snapshot:
    """Every part file under `root` with its number of records."""
    return {
        key: len(from_jsonl(store.get_text(S3Location(root.bucket, key)), key))
        for key in store.list_keys(root)
    }


def wait_until_settled(
    look: Callable[[], Snapshot], settle_s: float, timeout_s: float
) -> Snapshot | None:
    """The first non-empty snapshot that stayed the same for `settle_s`; None on timeout."""
    deadline = time.monotonic() + timeout_s
    last: Snapshot = {}
    since = time.monotonic()
    while time.monotonic() < deadline:
        current = look()
        if current != last:
            last, since = current, time.monotonic()
        elif current and time.monotonic() - since >= settle_s:
            return current
        time.sleep(POLL_SECONDS)
    return None


def render(root: S3Location, snapshot: Snapshot) -> list[str]:
    width = max(len(key) for key in snapshot)
    lines = [f"{root.uri} holds {len(snapshot)} file(s), {sum(snapshot.values())} rows:"]
    lines += [f"  {key:<{width}}  {rows:>5} rows" for key, rows in sorted(snapshot.items())]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the docs pipeline's lake once settled.")
    parser.add_argument("lake", help="s3://bucket/prefix/ of the lake (LAKE_S3_PATH)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds without change")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before giving up")
    args = parser.parse_args(argv)
    root = S3Location.parse(args.lake, "lake")
    store = S3Store()
    snapshot = wait_until_settled(lambda: lake_rows(store, root), args.settle, args.timeout)
    if snapshot is None:
        print(f"{root.uri} did not fill and settle within {args.timeout:g} s", file=sys.stderr)
        return 1
    print("\n".join(render(root, snapshot)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
