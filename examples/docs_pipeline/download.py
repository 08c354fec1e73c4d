"""Fetching a document over HTTP(S) with a timeout, failing with an error that names the URL."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Mapping

import pylon
from pylon import UrlResource


class DownloadError(pylon.PylonError):
    """A document could not be fetched; the message names the URL and the reason."""


def fetch_text(url: str, timeout: float, headers: Mapping[str, str] | None = None) -> str:
    """GET `url` and decode it as UTF-8 (a leading BOM, common in exported CSV, is dropped)."""
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"cannot fetch {url!r}: only http:// and https:// URLs are supported")
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read()
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"GET {url} failed: HTTP {exc.code} {exc.reason}") from None
    except OSError as exc:  # URLError, refused connections and timeouts are all OSErrors
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DownloadError(
            f"GET {url} failed: {reason} (timeout {timeout:g} s); is the server up?"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DownloadError(f"GET {url}: the document is not UTF-8 text ({exc})") from None


def request_headers(resource: UrlResource) -> dict[str, str]:
    """The resource's own headers plus its `auth`, as HTTP request headers."""
    headers = dict(resource.headers)
    auth = resource.auth or {}
    if auth.get("type") == "bearer":
        headers["Authorization"] = f"Bearer {auth['token']}"
    elif auth.get("type") == "basic":
        pair = f"{auth['username']}:{auth['password']}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    elif auth.get("type") == "header":
        headers[str(auth["name"])] = str(auth["value"])
    return headers
