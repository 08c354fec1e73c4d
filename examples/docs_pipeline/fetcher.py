"""Source stage: read the document index and publish one UrlResource per CSV document.

The index at `SOURCE_URL` is a JSON object `{"documents": [{"path": ..., "name": ...}]}`;
each `path` is relative to the index URL (or absolute).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import pylon
from examples.docs_pipeline.download import fetch_text
from examples.docs_pipeline.settings import http_timeout, required_text
from pylon import BaseMessage, ObjectType, UrlResource

CSV_MIME_TYPE = "text/csv"


class DocumentIndexError(pylon.PylonError):
    """The document index is not the JSON shape this source expects."""


def parse_index(text: str, index_url: str) -> list[UrlResource]:
    """The documents an index lists, as absolute-URL resources, in index order."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentIndexError(f"index {index_url} is not valid JSON: {exc}") from None
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        raise DocumentIndexError(f'index {index_url} must be a JSON object with a "documents" list')
    return [_resource(entry, index_url, i) for i, entry in enumerate(documents)]


def _resource(entry: Any, index_url: str, index: int) -> UrlResource:
    path = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(path, str) or not path.strip():
        raise DocumentIndexError(
            f'index {index_url}: documents[{index}] needs a non-empty string "path", got {entry!r}'
        )
    name = entry.get("name")
    resource = UrlResource(
        url=urljoin(index_url, path),
        name=name if isinstance(name, str) else path,
        mimeType=CSV_MIME_TYPE,
    )
    resource.validate(f"index {index_url}: documents[{index}]")
    return resource


@pylon.SourceComponent
def fetchDocuments(message: BaseMessage | None, config: Mapping[str, Any]) -> pylon.PylonResult:
    index_url = required_text(config, "SOURCE_URL", "the URL of the document index")
    resources = parse_index(fetch_text(index_url, http_timeout(config)), index_url)
    messages = [BaseMessage(body=r, objectType=ObjectType.URL_RESOURCE) for r in resources]
    return pylon.result(messages, {"index": index_url, "documents": len(messages)})


def lambda_entrypoint(event: Any, context: Any) -> dict[str, Any]:
    return fetchDocuments.lambda_handler(event, context)


if __name__ == "__main__":
    fetchDocuments.runForever()
