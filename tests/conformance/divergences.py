"""Where a backend does not behave as AWS does, per feature of the conformance suite.

Each entry turns that (feature, backend) test into a strict expected failure with the
reason: the test still runs (and the run fails if the backend starts to conform, so the
table is corrected), and the README's "Backend conformance" table, generated from the
run by `make conformance`, prints the reason. Nothing here is a skip.
"""

from __future__ import annotations

# (feature, backend) -> how it diverges from AWS, and why.
DIVERGENCES: dict[tuple[str, str], str] = {
    ("partial batch failure (Lambda)", "moto"): (
        "moto runs Lambda code only in Docker images it pulls from a registry; offline "
        "(Docker use off) it answers every invocation with a canned response"
    ),
    ("DLQ redrive", "moto"): (
        "moto does not set DeadLetterQueueSourceArn on a dead letter, so where it failed is "
        "unknown; `pylon dlq redrive --to QUEUE` still works"
    ),
    ("FIFO queue refused on a standard topic", "embedded"): (
        "MiniStack subscribes a FIFO queue to a standard topic, which AWS refuses; Pylon's "
        "spec check refuses it before provisioning, on every backend"
    ),
    ("FIFO queue refused on a standard topic", "ministack-container"): (
        "MiniStack subscribes a FIFO queue to a standard topic, which AWS refuses; Pylon's "
        "spec check refuses it before provisioning, on every backend"
    ),
    ("FIFO topic from CloudFormation", "embedded"): (
        "MiniStack's CloudFormation ignores FifoTopic on AWS::SNS::Topic and creates a "
        "standard topic (its queues do become FIFO): deployed there, a FIFO pipeline gets "
        "no de-duplication on its topics; the local provisioner creates FIFO topics"
    ),
    ("FIFO topic from CloudFormation", "ministack-container"): (
        "MiniStack's CloudFormation ignores FifoTopic on AWS::SNS::Topic and creates a "
        "standard topic (its queues do become FIFO): deployed there, a FIFO pipeline gets "
        "no de-duplication on its topics; the local provisioner creates FIFO topics"
    ),
}

# (feature, backend) -> what the reader of the table must know although the test passes.
NOTES: dict[tuple[str, str], str] = {
    ("partial batch failure (Lambda)", "localstack"): (
        "the function runs in MiniStack beside LocalStack (no Docker executor offline), "
        "fed from LocalStack's queue by the harness's event source mapping"
    ),
    ("lineage records (DynamoDB)", "localstack"): (
        "the table is in MiniStack beside LocalStack (DynamoDB Local cannot be fetched offline)"
    ),
    ("example pipeline (docs)", "localstack"): "its lineage table in MiniStack beside LocalStack",
}
