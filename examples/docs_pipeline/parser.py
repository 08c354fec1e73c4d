"""Pipeline stage: fetch one CSV document (a UrlResource) and emit it as ONE DataAsset.

The asset is `weather.readings` for `COUNTRY` (default NL), partitioned by
`observed_date` and unique on (`station`, `observed_at`), so the lake writer can merge
documents that overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pylon
from examples.docs_pipeline.download import fetch_text, request_headers
from examples.docs_pipeline.inputs import require_body
from examples.docs_pipeline.readings import parse_readings
from examples.docs_pipeline.settings import http_timeout
from pylon import BaseMessage, DataAsset, ObjectType, UrlResource

ASSET_NAME = "weather.readings"
PARTITION_KEYS = ["observed_date"]
UNIQUE_KEYS = ["station", "observed_at"]


@pylon.PipelineComponent
def parseReadings(message: BaseMessage | None, config: Mapping[str, Any]) -> pylon.PylonResult:
    resource = require_body(message, UrlResource, ObjectType.URL_RESOURCE, "parseReadings")
    text = fetch_text(resource.url, http_timeout(config), request_headers(resource))
    asset = DataAsset(
        dataAssetName=ASSET_NAME,
        dataAssetCountry=str(config.get("COUNTRY", "NL")),
        dataAssetPartitionKeys=list(PARTITION_KEYS),
        dataAssetUniqueKeys=list(UNIQUE_KEYS),
        data=parse_readings(text, resource.url),
    )
    output = BaseMessage(body=asset, objectType=ObjectType.DATA_ASSET)
    return pylon.result([output], {"document": resource.url, "rows": len(asset.data)})


def lambda_entrypoint(event: Any, context: Any) -> dict[str, Any]:
    return parseReadings.lambda_handler(event, context)


if __name__ == "__main__":
    parseReadings.runForever()
