"""Models and their validation: errors name the field that is wrong."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from pylon import (
    BaseMessage,
    DataAsset,
    IngestionStep,
    ObjectType,
    UpdateNotification,
    UrlResource,
    ValidationError,
)
from pylon.models.lambda_event import LambdaEvent

ASSET = {
    "dataAssetName": "sales.orders",
    "dataAssetCountry": "NL",
    "dataAssetPartitionKeys": ["day"],
    "dataAssetUniqueKeys": ["id"],
    "data": [{"id": 1, "day": "2026-11-25", "amount": 3.5}],
}


def test_data_asset_round_trips_through_json() -> None:
    asset = DataAsset.from_dict(ASSET)
    again = DataAsset.from_json(asset.to_json())
    assert again.to_dict() == asset.to_dict()
    assert again.data[0]["amount"] == 3.5


def test_data_asset_name_must_be_schema_dot_entity() -> None:
    with pytest.raises(ValidationError, match=r"DataAsset.dataAssetName: must look like"):
        DataAsset.from_dict({**ASSET, "dataAssetName": "orders"})


def test_data_asset_names_are_checked_every_time_however_many_were_seen() -> None:
    for index in range(1100):  # past the number of good names kept
        DataAsset.from_dict({**ASSET, "dataAssetName": f"sales.orders_{index}"})
        with pytest.raises(ValidationError, match=r"dataAssetName: must look like"):
            DataAsset.from_dict({**ASSET, "dataAssetName": f"sales.orders-{index}"})


def test_data_asset_record_missing_a_unique_key_is_named_by_index() -> None:
    bad = {**ASSET, "data": [{"id": 1, "day": "d"}, {"day": "d"}]}
    with pytest.raises(ValidationError, match=r"DataAsset.data\[1\]: key\(s\) \['id'\] missing"):
        DataAsset.from_dict(bad)


def test_wrong_field_type_names_the_field_and_the_type() -> None:
    with pytest.raises(ValidationError, match=r"DataAsset.data: expected a list, got str"):
        DataAsset.from_dict({**ASSET, "data": "nope"})


def test_missing_required_field_is_named() -> None:
    without = {k: v for k, v in ASSET.items() if k != "dataAssetCountry"}
    with pytest.raises(
        ValidationError, match=r"DataAsset\.dataAssetCountry: required field is missing"
    ):
        DataAsset.from_dict(without)


def test_unknown_fields_survive_a_round_trip() -> None:
    asset = DataAsset.from_dict({**ASSET, "schemaVersion": 2})
    assert json.loads(asset.to_json())["schemaVersion"] == 2


def test_stamping_a_data_asset_marks_every_record() -> None:
    asset = DataAsset.from_dict({**ASSET, "data": [{"id": 1, "day": "a"}, {"id": 2, "day": "b"}]})
    asset.stamp("ing-1")
    assert asset.ingestionId == "ing-1"
    assert [r["ingestionId"] for r in asset.data] == ["ing-1", "ing-1"]


def test_ingestion_step_has_utc_dimensions() -> None:
    from datetime import datetime

    moment = datetime(2026, 11, 25, 18, 5, 1, tzinfo=UTC)
    step = IngestionStep.create("id-1", "fetcher", "1.0.0", "parent-0", now=moment)
    assert step.dimUTCDateId == 20261125
    assert step.dimUTCHour == 18
    assert step.dimUTCTimestamp == "2026-11-25T18:05:01.000Z"
    assert IngestionStep.from_json(step.to_json()).parentIngestionId == "parent-0"


def test_ingestion_step_rejects_an_impossible_hour() -> None:
    step = IngestionStep.create("id", "a", "1", None).to_dict()
    with pytest.raises(ValidationError, match=r"dimUTCHour: must be 0\.\.23"):
        IngestionStep.from_dict({**step, "dimUTCHour": 24})


def test_url_resource_needs_an_absolute_url() -> None:
    with pytest.raises(ValidationError, match=r"UrlResource.url: must be an absolute"):
        UrlResource.from_dict({"url": "/relative"})


def test_url_resource_auth_is_validated_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        UrlResource.from_dict(
            {"url": "https://x.test/a", "auth": {"type": "basic", "username": "u"}}
        )
    assert "password" in str(caught.value)
    assert "'u'" not in str(caught.value)


def test_url_resource_repr_masks_credentials() -> None:
    resource = UrlResource.from_dict(
        {"url": "https://x.test/a", "auth": {"type": "bearer", "token": "s3cr3t-token"}}
    )
    assert "s3cr3t-token" not in repr(resource)
    assert resource.auth == {"type": "bearer", "token": "s3cr3t-token"}


def test_update_notification_location_must_be_s3() -> None:
    good = {
        "dataAssetName": "sales.orders",
        "dataAssetCountry": "NL",
        "action": "updated",
        "location": "s3://lake/sales/orders/",
        "updatedAt": "2026-11-25T00:00:00Z",
    }
    assert UpdateNotification.from_dict(good).action == "updated"
    with pytest.raises(ValidationError, match="location: must be an s3:// URI"):
        UpdateNotification.from_dict({**good, "location": "/tmp/x"})
    with pytest.raises(ValidationError, match="action: must be one of"):
        UpdateNotification.from_dict({**good, "action": "exploded"})


def test_lambda_event_body_is_the_event_itself() -> None:
    event = LambdaEvent.from_json('{"detail-type": "Scheduled Event"}')
    assert json.loads(event.to_json()) == {"detail-type": "Scheduled Event"}


def test_object_types_are_the_seven_wire_values() -> None:
    assert {t.value for t in ObjectType} == {
        "dataAsset",
        "ingestionStep",
        "urlResource",
        "updateNotification",
        "rawContent",
        "null",
        "lambdaEvent",
    }


def test_copy_clears_delivery_facts() -> None:
    received = BaseMessage(body="x", messageId="m-1", receiveCount=3)
    copy = received.copy(body="y")
    assert (copy.body, copy.messageId, copy.receiveCount) == ("y", None, 0)


@pytest.mark.parametrize(
    "moments",
    [
        [1714554060.001, 1714554060.5, 1714554060.999],  # one second: its text reused
        [1714607999.999, 1714608000.0, 1714611600.25],  # next second, next day, next hour
    ],
)
def test_a_step_created_now_is_stamped_as_the_moment_in_utc(
    moments: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from pylon.models import ingestion_step

    for moment in moments:
        monkeypatch.setattr(ingestion_step.time, "time", lambda moment=moment: moment)
        step = IngestionStep.create("id", "artifact", "1.0", None)
        expected = IngestionStep.create(
            "id", "artifact", "1.0", None, now=datetime.fromtimestamp(moment, UTC)
        )

        assert (step.dimUTCTimestamp, step.dimUTCDateId, step.dimUTCHour) == (
            expected.dimUTCTimestamp,
            expected.dimUTCDateId,
            expected.dimUTCHour,
        )
