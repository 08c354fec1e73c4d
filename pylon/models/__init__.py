"""Pylon's data model: messages and the bodies they carry."""

from pylon.models.data_asset import DataAsset
from pylon.models.ingestion_step import IngestionStep
from pylon.models.lambda_event import LambdaEvent
from pylon.models.messages import BaseMessage, ObjectType, PayloadType
from pylon.models.update_notification import UpdateNotification
from pylon.models.url_resource import UrlResource

__all__ = [
    "BaseMessage",
    "DataAsset",
    "IngestionStep",
    "LambdaEvent",
    "ObjectType",
    "PayloadType",
    "UpdateNotification",
    "UrlResource",
]
