"""Removing what a changed spec no longer names (`pylon up --watch --prune`).

Only what the spec stopped naming goes: queues (with their dead-letter queues) and
subscriptions of removed components, removed topics, parameters no longer used. Buckets
(they hold data) and the lineage table are never removed here.
"""

from __future__ import annotations

import dataclasses

import boto3

from harness.provision.provisioner import ProvisionedPipeline, teardown


def prune(
    old: ProvisionedPipeline,
    new: ProvisionedPipeline,
    session: boto3.session.Session | None = None,
    *,
    allow_remote: bool = False,
) -> list[str]:
    """Delete what `old` had and `new` has not; what was deleted, one line each."""
    gone = ProvisionedPipeline(
        spec=dataclasses.replace(old.spec, lineage_table=None),
        topics={n: a for n, a in old.topics.items() if n not in new.topics},
        queues={n: u for n, u in old.queues.items() if n not in new.queues},
        components={},
        buckets=(),
        subscriptions={k: a for k, a in old.subscriptions.items() if k not in new.subscriptions},
        parameters=tuple(p for p in old.parameters if p not in new.parameters),
    )
    teardown(gone, session, allow_remote=allow_remote)
    return (
        [f"deleted topic {name}" for name in gone.topics]
        + [f"deleted queue {name}" for name in gone.queues]
        + [f"unsubscribed {queue} from {topic}" for topic, queue in gone.subscriptions]
        + [f"deleted parameter {name}" for name in gone.parameters]
    )
