"""Helpers behind the pytest fixtures, usable without pytest too."""

from harness.messaging.sending import publish_message, send_message
from harness.testing.lineage import LineageChain, assert_lineage, lineage_chain
from harness.testing.recorder import TopicRecorder
from harness.testing.waiting import WaitTimeoutError, wait_until

__all__ = [
    "LineageChain",
    "TopicRecorder",
    "WaitTimeoutError",
    "assert_lineage",
    "lineage_chain",
    "publish_message",
    "send_message",
    "wait_until",
]
