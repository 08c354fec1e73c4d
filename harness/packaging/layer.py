"""`pylon layer build`: a Lambda layer zip holding Pylon and its runtime dependencies.

    python/pylon/...          Pylon itself (this installation's files)
    python/dotenv/...         python-dotenv, orjson, and everything else pip resolved

Lambda puts /opt/python on a Python function's path, hence the `python/` prefix. The
dependencies are resolved by pip for the layer's target, not for this machine: binary
wheels only, for the manylinux2014 platform of the architecture and the runtime's
Python version, so a layer built on x86_64 runs on arm64 Lambdas when asked to.

The AWS SDK (boto3, botocore, s3transfer and their dependencies) is left out by default:
every Python runtime of Lambda ships it, and it is most of a layer's size. Build with
the SDK (`--with-sdk`) to pin the version Pylon was tested with instead of the
runtime's (Pylon needs boto3 >= 1.34, which current runtimes provide).
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from packaging.requirements import Requirement

from harness.errors import HarnessError
from harness.packaging.zip_archive import is_bytecode, package_dir, tree_files, write_entry

LAYER_ROOT = "python"
DISTRIBUTION = "pylon-pipelines"
# The runtime's SDK: what Lambda provides and a layer may leave out.
SDK_REQUIREMENTS = frozenset({"boto3"})
# Lambda's limit on a function plus its layers, unzipped.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
_PYTHON_VERSION = re.compile(r"3\.\d{1,2}")
_PIP_OUTPUT_TAIL_LINES = 25


class LayerBuildError(HarnessError):
    """The layer cannot be built (bad target, or pip could not resolve for it)."""


class Architecture(StrEnum):
    """Lambda's two instruction set architectures, by their Lambda names."""

    X86_64 = "x86_64"
    ARM64 = "arm64"

    @property
    def platform(self) -> str:
        """pip's platform tag for wheels that run on Lambda's Amazon Linux (glibc 2.17+)."""
        machine = "aarch64" if self is Architecture.ARM64 else "x86_64"
        return f"manylinux2014_{machine}"


@dataclass(frozen=True)
class LayerTarget:
    """What the layer is for, and where pip may look besides the index."""

    python: str = "3.11"
    architecture: Architecture = Architecture.X86_64
    include_sdk: bool = False
    find_links: Sequence[Path] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not _PYTHON_VERSION.fullmatch(self.python):
            raise LayerBuildError(
                f"--python must be a Lambda Python version such as 3.11 or 3.12, got {self.python!r}"
            )

    @property
    def runtime(self) -> str:
        return f"python{self.python}"


@dataclass(frozen=True)
class BuiltLayer:
    path: Path
    size_bytes: int
    unzipped_bytes: int
    entries: int
    distributions: tuple[str, ...]


def runtime_requirements(include_sdk: bool) -> list[str]:
    """Pylon's own requirements (no extras), without the SDK unless asked for."""
    requirements = [
        Requirement(text)
        for text in importlib.metadata.requires(DISTRIBUTION) or []
        if Requirement(text).marker is None
    ]
    return [
        str(requirement)
        for requirement in requirements
        if include_sdk or requirement.name not in SDK_REQUIREMENTS
    ]


def pip_command(target: LayerTarget, directory: Path) -> list[str]:
    """`pip install` of the requirements into `directory`, for the target, not this machine."""
    links = [option for path in target.find_links for option in ("--find-links", str(path))]
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--target", str(directory),
        "--platform", target.architecture.platform,
        "--implementation", "cp",
        "--python-version", target.python,
        "--only-binary=:all:",
        *links,
        *runtime_requirements(target.include_sdk),
    ]  # fmt: skip


def _install_dependencies(target: LayerTarget, directory: Path) -> None:
    result = subprocess.run(
        pip_command(target, directory), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        raise LayerBuildError(
            f"pip could not install Pylon's dependencies for {target.runtime} on "
            f"{target.architecture.value} (exit {result.returncode}):\n"
            + "\n".join(lines[-_PIP_OUTPUT_TAIL_LINES:])
        )


def _installed_files(directory: Path) -> list[tuple[str, Path]]:
    """What pip put in `directory`, minus bytecode and console scripts (no PATH in a layer)."""
    return [
        (path.relative_to(directory).as_posix(), path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
        and not is_bytecode(path.relative_to(directory).parts)
        and path.relative_to(directory).parts[0] != "bin"
    ]


def _distributions(directory: Path) -> tuple[str, ...]:
    return tuple(sorted(p.name.removesuffix(".dist-info") for p in directory.glob("*.dist-info")))


def build_layer(target: LayerTarget, output: Path) -> BuiltLayer:
    """Resolve the dependencies for `target` and write the layer zip to `output`."""
    with tempfile.TemporaryDirectory(prefix="pylon-layer-") as scratch:
        installed = Path(scratch)
        _install_dependencies(target, installed)
        files = [*tree_files(package_dir("pylon")), *_installed_files(installed)]
        output.parent.mkdir(parents=True, exist_ok=True)
        unzipped = 0
        with zipfile.ZipFile(output, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
            for arcname, path in files:
                data = path.read_bytes()
                unzipped += len(data)
                write_entry(archive, f"{LAYER_ROOT}/{arcname}", data)
        distributions = _distributions(installed)
    return BuiltLayer(output, output.stat().st_size, unzipped, len(files), distributions)
