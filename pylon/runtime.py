"""Assembling a component's runtime from its config: clients, hooks and the message path.

This is the only place that decides what differs between pipeline, source and sink.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from pylon.aws.clients import new_client, new_session
from pylon.aws.s3 import S3Store
from pylon.aws.sns import SnsTopic
from pylon.aws.sqs import SqsQueue
from pylon.config import ComponentConfig, ComponentKind
from pylon.fifo import FifoHook, GroupOf, is_fifo
from pylon.hooks import Hook, Hooks
from pylon.lineage import LineageHook
from pylon.log_format import configure_logging
from pylon.observability import TimingHook
from pylon.payloads import PayloadOffloader, PayloadOffloadHook
from pylon.processing import MessagePath, NoOutput, Publisher, Task


@dataclass
class Runtime:
    config: ComponentConfig
    path: MessagePath
    queue: SqsQueue | None


def build_runtime(
    kind: ComponentKind,
    task: Task,
    task_name: str,
    config: ComponentConfig,
    session: boto3.session.Session | None = None,
    message_group: GroupOf | None = None,
) -> Runtime:
    """The runtime of one component; its AWS clients come from `session` (default: a new one).

    `message_group` chooses the group of each output when the output topic is FIFO.
    """
    config.check_settings()
    configure_logging(config.log_format, config.log_level, config.secret_values)
    # One session for all clients: each session loads botocore's endpoint and model data
    # anew, so three sessions cost ~15 MiB and ~0.2 s more than one.
    session = session or new_session()
    s3 = S3Store(new_client("s3", session))
    path = MessagePath(
        task,
        task_name,
        config,
        s3,
        _publisher(kind, config, task_name, session),
        Hooks(_hooks(kind, config, s3, task_name, message_group)),
    )
    queue = (
        SqsQueue(config.input_queue, new_client("sqs", session, assembled=True))
        if kind is not ComponentKind.SOURCE
        else None
    )
    return Runtime(config, path, queue)


def _publisher(
    kind: ComponentKind,
    config: ComponentConfig,
    task_name: str,
    session: boto3.session.Session,
) -> Publisher:
    if kind is ComponentKind.SINK:
        return NoOutput(task_name)
    return SnsTopic(config.output_topic_arn, new_client("sns", session, assembled=True))


def _hooks(
    kind: ComponentKind,
    config: ComponentConfig,
    s3: S3Store,
    task_name: str,
    message_group: GroupOf | None,
) -> list[Hook]:
    hooks: list[Hook] = [TimingHook()]
    if kind is not ComponentKind.SINK and is_fifo(config.output_topic_arn):
        # First in the list, so its before_publish runs last: after offloading, on the
        # wires that actually go out.
        hooks.insert(0, FifoHook(task_name, message_group, config.message_group_attribute))
    if kind is not ComponentKind.SINK:
        # Sinks record no ingestion step and publish nothing to offload.
        hooks += [
            LineageHook(),
            PayloadOffloadHook(
                PayloadOffloader(s3, config.payload_s3_path, config.payload_pointer_format)
            ),
        ]
    return hooks
