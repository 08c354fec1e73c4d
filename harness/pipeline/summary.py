"""What a local pipeline did: messages per topic and type, queue depths, bucket contents."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import boto3

from harness.pipeline.activity import QueueDepth, queue_depths
from harness.pipeline.local_pipeline import LocalPipeline
from pylon.aws.s3 import S3Store
from pylon.s3_pointer import S3Location


@dataclass(frozen=True)
class PipelineSummary:
    published: dict[str, Counter[str]]
    queues: list[QueueDepth]
    objects: dict[str, list[tuple[str, int]]]


def summarise(
    pipeline: LocalPipeline, session: boto3.session.Session | None = None
) -> PipelineSummary:
    session = session or boto3.session.Session()
    published = {}
    for topic, recorder in pipeline.recorders.items():
        recorder.poll()
        published[topic] = Counter(recorder.counts)
    return PipelineSummary(published, queue_depths(pipeline, session), _objects(pipeline, session))


def _objects(
    pipeline: LocalPipeline, session: boto3.session.Session
) -> dict[str, list[tuple[str, int]]]:
    s3 = session.client("s3")
    listing: dict[str, list[tuple[str, int]]] = {}
    for bucket in pipeline.resources.buckets:
        keys = S3Store(s3).list_keys(S3Location(bucket, ""))
        listing[bucket] = [
            (key, s3.head_object(Bucket=bucket, Key=key)["ContentLength"]) for key in keys
        ]
    return listing
