"""Pinned Python tools installed in their own virtualenvs under the user's cache.

An emulator such as MiniStack pins botocore exactly; installed next to the project it
would fight the project's own boto3. Each tool therefore gets a private virtualenv,
created once per version and shared by every checkout on the machine.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import venv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import EmulatorError

_MARKER = ".pylon-installed"
_PIP_OUTPUT_TAIL_LINES = 30

# Variables that would make a tool's interpreter see packages other than its own.
_PYTHON_LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """`$PYLON_CACHE_DIR`, else `$XDG_CACHE_HOME/pylon`, else `~/.cache/pylon`."""
    if environ.get("PYLON_CACHE_DIR"):
        return Path(environ["PYLON_CACHE_DIR"]).expanduser()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "pylon"
    return Path.home() / ".cache" / "pylon"


def isolated_python_env(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of `environ` safe for another virtualenv's interpreter."""
    return {name: value for name, value in environ.items() if name not in _PYTHON_LEAKS}


def _output_tail(output: str) -> str:
    return "\n".join(output.strip().splitlines()[-_PIP_OUTPUT_TAIL_LINES:])


@dataclass(frozen=True)
class IsolatedTool:
    """One exact version of a PyPI package, in `<cache_dir>/<package>-<version>/`."""

    package: str
    version: str
    cache_dir: Path

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def root(self) -> Path:
        return self.cache_dir / f"{self.package}-{self.version}"

    def bin(self, name: str) -> Path:
        """Path of a console script or interpreter inside the tool's virtualenv."""
        return self.root / "bin" / name

    def is_installed(self) -> bool:
        """True once an install ran to completion (the marker is written last)."""
        marker = self.root / _MARKER
        return marker.is_file() and marker.read_text().strip() == self.requirement

    def install(self) -> Path:
        """Install the tool if needed and return its virtualenv; idempotent.

        Concurrent callers (parallel test sessions, `make dev` in two shells) serialise
        on a lock file; whoever comes second finds the marker and returns at once. A
        half-built virtualenv from an interrupted run has no marker and is rebuilt.
        """
        if self.is_installed():
            return self.root
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        lock_path = self.cache_dir / f"{self.package}-{self.version}.lock"
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_installed():
                self._build()
        return self.root

    def _build(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(self.root)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise EmulatorError(
                f"cannot create a virtualenv for {self.requirement} at {self.root}: {exc}; "
                "check the directory is writable, or set PYLON_CACHE_DIR elsewhere"
            ) from exc
        self._pip_install()
        marker = self.root / _MARKER
        partial = marker.with_suffix(".tmp")
        partial.write_text(self.requirement + "\n")
        os.replace(partial, marker)

    def _pip_install(self) -> None:
        command = [str(self.bin("python")), "-m", "pip", "install", "--no-input", self.requirement]
        result = subprocess.run(
            command,
            env=isolated_python_env(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EmulatorError(
                f"pip could not install {self.requirement} into {self.root} "
                f"(exit code {result.returncode}); check network/index access and retry. "
                f"pip said:\n{_output_tail(result.stdout)}"
            )
