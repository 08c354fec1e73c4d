"""The pipeline's buckets and objects: listing, viewing as text with links to the journeys
of their records, downloading. Only the pipeline's own buckets are served."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from harness.inspector.web import Inspector, notices, render
from pylon.aws.s3 import S3Store
from pylon.errors import PylonError
from pylon.s3_pointer import S3Location

_LISTED_OBJECTS = 1000
_OBJECT_PREVIEW = 20_000
_INGESTION_ID = re.compile(r'"ingestionId"\s*:\s*"([^"]{1,200})"')


def buckets_page(inspector: Inspector, request: Request) -> Response:
    s3 = inspector.session.client("s3")
    buckets: list[dict[str, Any]] = []
    for name in inspector.pipeline.buckets:
        try:
            listing = s3.list_objects_v2(Bucket=name, MaxKeys=_LISTED_OBJECTS)
        except (ClientError, BotoCoreError) as exc:
            buckets.append({"name": name, "objects": [], "error": f"cannot list: {exc}"})
            continue
        objects = [
            {
                "key": o["Key"],
                "uri": f"s3://{name}/{o['Key']}",
                "size": o["Size"],
                "modified": o["LastModified"].strftime("%Y-%m-%d %H:%M:%S"),
            }
            for o in listing.get("Contents", [])
        ]
        buckets.append({"name": name, "objects": objects, "truncated": listing.get("IsTruncated")})
    return render(inspector, "buckets.html", buckets=buckets, **notices(request))


def object_page(inspector: Inspector, request: Request) -> Response:
    """An object as text, with links to the journeys of the records it holds (a lake
    file's records carry the ingestionId of the step that produced them)."""
    uri = str(request.query_params.get("uri", ""))
    try:
        location = _pipeline_object(inspector, uri)
        data = S3Store(inspector.session.client("s3")).get_bytes(location)
    except _NotThisPipelineError as exc:
        return PlainTextResponse(str(exc), status_code=403)
    except PylonError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    text = data.decode("utf-8", errors="replace")
    ids = list(dict.fromkeys(_INGESTION_ID.findall(text)))
    return render(
        inspector, "object.html", uri=location.uri, size=len(data), ingestion_ids=ids,
        preview=text[:_OBJECT_PREVIEW], truncated=len(text) > _OBJECT_PREVIEW, **notices(request),
    )  # fmt: skip


class _NotThisPipelineError(PylonError):
    """The inspector serves objects of the pipeline's own buckets only."""


def _pipeline_object(inspector: Inspector, uri: str) -> S3Location:
    location = S3Location.parse(uri, "uri")
    if location.bucket not in set(inspector.pipeline.buckets):
        raise _NotThisPipelineError(
            f"{location.bucket} is not a bucket of this pipeline ({', '.join(inspector.pipeline.buckets)})"
        )
    return location


def payload(inspector: Inspector) -> Any:
    async def endpoint(request: Request) -> Response:
        uri = str(request.query_params.get("uri", ""))
        try:
            location = _pipeline_object(inspector, uri)
            data = await asyncio.to_thread(
                S3Store(inspector.session.client("s3")).get_bytes, location
            )
        except _NotThisPipelineError as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except PylonError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if request.query_params.get("download"):
            name = location.key.rsplit("/", 1)[-1] or "payload"
            return Response(data, media_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
        # As text, never as HTML: a payload is data, whatever it contains.
        return PlainTextResponse(data.decode("utf-8", errors="replace"))

    return endpoint
