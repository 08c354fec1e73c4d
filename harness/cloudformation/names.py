"""Logical ids for a spec's resources: one rule, used by the export, the import and check.

CloudFormation logical ids are alphanumeric, so `lake-writer` becomes `LakeWriter`, and
each kind of resource gets its own suffix (`LakeWriterQueue`, `LakeWriterRole`, ...).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z0-9]+")


def pascal(name: str) -> str:
    """`lake-writer` -> `LakeWriter`, `docs.lake_2` -> `DocsLake2`."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(name))


def queue(component: str) -> str:
    return f"{pascal(component)}Queue"


def dead_letter_queue(component: str) -> str:
    return f"{pascal(component)}DeadLetterQueue"


def queue_policy(component: str) -> str:
    return f"{pascal(component)}QueuePolicy"


def subscription(component: str, topic: str) -> str:
    return f"{pascal(component)}From{pascal(topic)}"


def topic(name: str) -> str:
    return f"{pascal(name)}Topic"


def bucket(name: str) -> str:
    return f"{pascal(name)}Bucket"


def parameter(name: str) -> str:
    return f"{pascal(name)}Parameter"


def role(component: str) -> str:
    return f"{pascal(component)}Role"


def execution_role(component: str) -> str:
    return f"{pascal(component)}ExecutionRole"


def function(component: str) -> str:
    return f"{pascal(component)}Function"


def event_source_mapping(component: str) -> str:
    return f"{pascal(component)}Mapping"


def schedule(component: str) -> str:
    return f"{pascal(component)}Schedule"


def schedule_permission(component: str) -> str:
    return f"{pascal(component)}SchedulePermission"


def task_definition(component: str) -> str:
    return f"{pascal(component)}TaskDefinition"


def service(component: str) -> str:
    return f"{pascal(component)}Service"


def log_group(component: str) -> str:
    return f"{pascal(component)}LogGroup"


def image_parameter(component: str) -> str:
    return f"{pascal(component)}ImageUri"


def code_key_parameter(component: str) -> str:
    return f"{pascal(component)}CodeKey"


LINEAGE_TABLE = "LineageTable"
CLUSTER = "Cluster"
LAYER_PARAMETER = "PylonLayerArn"
ARTIFACT_BUCKET_PARAMETER = "ArtifactBucket"
SUBNETS_PARAMETER = "Subnets"
SECURITY_GROUPS_PARAMETER = "SecurityGroups"
DESIRED_COUNT_PARAMETER = "DesiredCount"
