"""Deterministic zip archives of Python packages: Lambda deployment packages and layers.

Entries get a fixed timestamp and permissions, so an archive depends on its content
only (Lambda's CodeSha256 stays the same when nothing changed), and bytecode is left
out (the runtime compiles for its own interpreter).
"""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Sequence
from pathlib import Path

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def package_dir(name: str) -> Path:
    """The directory of an importable package (e.g. `pylon`)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not a package"
    return Path(next(iter(spec.submodule_search_locations)))


def tree_files(directory: Path) -> list[tuple[str, Path]]:
    """Every file under a package directory, named from the directory's parent."""
    return [
        (path.relative_to(directory.parent).as_posix(), path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not is_bytecode(path.relative_to(directory).parts)
    ]


def is_bytecode(parts: Sequence[str]) -> bool:
    return "__pycache__" in parts or parts[-1].endswith((".pyc", ".pyo"))


def write_entry(archive: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    """Add one file with the fixed date, readable by the runtime's user as Lambda requires."""
    entry = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
    entry.external_attr = 0o644 << 16
    # botocore's service models are gzip files already; deflating them again buys nothing.
    entry.compress_type = zipfile.ZIP_STORED if arcname.endswith(".gz") else zipfile.ZIP_DEFLATED
    archive.writestr(entry, data, compresslevel=1)
