"""Pylon: AWS data-pipeline components (SQS -> your function -> SNS) with lineage.

import pylon

@pylon.PipelineComponent
def pipelineTask(message, config):
    message.body = 'Hello pylon!'
    return pylon.result([message], {'task': 'example transform task'})
"""

from pylon.components import PipelineComponent, SinkComponent, SourceComponent
from pylon.config import ComponentConfig, ComponentKind
from pylon.errors import (
    ConfigError,
    MessageDecodeError,
    PayloadError,
    PublishError,
    PylonError,
    TaskError,
    ValidationError,
)
from pylon.models import (
    BaseMessage,
    DataAsset,
    IngestionStep,
    LambdaEvent,
    ObjectType,
    PayloadType,
    UpdateNotification,
    UrlResource,
)
from pylon.result import PylonResult, result

__version__ = "0.1.0"

__all__ = [
    "BaseMessage",
    "ComponentConfig",
    "ComponentKind",
    "ConfigError",
    "DataAsset",
    "IngestionStep",
    "LambdaEvent",
    "MessageDecodeError",
    "ObjectType",
    "PayloadError",
    "PayloadType",
    "PipelineComponent",
    "PublishError",
    "PylonError",
    "PylonResult",
    "SinkComponent",
    "SourceComponent",
    "TaskError",
    "UpdateNotification",
    "UrlResource",
    "ValidationError",
    "result",
]
