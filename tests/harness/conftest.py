"""Fixtures shared by the harness tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.containers import engine
from harness.emulators.ministack import ministack_tool


@pytest.fixture(scope="session")
def ministack_cache_dir() -> Path:
    """The populated cache, resolved before pytester gives each test its own HOME."""
    return ministack_tool().cache_dir


@pytest.fixture
def docker_engine() -> Iterator[Any]:
    """A docker SDK client (for tests marked `docker`, which skip without an engine)."""
    client = engine.client()
    yield client
    client.close()
