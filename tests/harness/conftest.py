"""Fixtures shared by the harness tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulators.ministack import ministack_tool


@pytest.fixture(scope="session")
def ministack_cache_dir() -> Path:
    """The populated cache, resolved before pytester gives each test its own HOME."""
    return ministack_tool().cache_dir
