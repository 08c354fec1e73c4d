"""Fetching documents: auth becomes headers, and every failure names the URL."""

from __future__ import annotations

import pytest

from examples.docs_pipeline.download import DownloadError, fetch_text, request_headers
from pylon import UrlResource

URL = "https://example.test/doc.csv"


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({"type": "bearer", "token": "t0k"}, {"Authorization": "Bearer t0k"}),
        ({"type": "basic", "username": "u", "password": "p"}, {"Authorization": "Basic dTpw"}),
        ({"type": "header", "name": "X-Key", "value": "k"}, {"X-Key": "k"}),
        (None, {}),
    ],
)
def test_resource_auth_becomes_request_headers(
    auth: dict[str, str] | None, expected: dict[str, str]
) -> None:
    resource = UrlResource(url=URL, headers={"Accept": "text/csv"}, auth=auth)

    assert request_headers(resource) == {"Accept": "text/csv", **expected}


def test_fetch_returns_the_document_text(data_url: str) -> None:
    assert fetch_text(f"{data_url}2024-05-02.csv", 5).startswith("station,observed_at,")


def test_http_error_names_url_and_status(data_url: str) -> None:
    with pytest.raises(DownloadError, match=rf"GET {data_url}missing.csv failed: HTTP 404"):
        fetch_text(f"{data_url}missing.csv", 5)


def test_non_http_url_is_refused_before_any_request() -> None:
    with pytest.raises(DownloadError, match="only http:// and https:// URLs are supported"):
        fetch_text("s3://bucket/doc.csv", 5)
