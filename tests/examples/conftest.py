"""Fixtures for the example pipelines' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.docs_pipeline.data_server import serve_in_thread


@pytest.fixture
def data_url() -> Iterator[str]:
    """The docs pipeline's sample data, served on a free loopback port."""
    url, stop = serve_in_thread()
    yield url
    stop()
