"""Faults injected into a running local pipeline, each a failure production really sees.

- `signal_component`: SIGKILL (a crashed container) or SIGTERM (ECS stopping a task)
  sent to a component's process group;
- `TopicOutage`: the output topic refuses every publish (an explicit Deny for
  `sns:Publish` in its policy, as a broken policy or KMS key does on AWS), so the real
  publish-failure path runs; it needs an emulator that enforces policies (MiniStack
  with AUTH=true);
- an emulator restart (`MiniStack.restart`, state kept with PERSIST_STATE=1).

Every fault is written to a `FaultLog`, which the report lists.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3

from harness.errors import HarnessError
from harness.lifecycle import Running
from harness.run.processes import ProcessRunner
from pylon.aws.clients import new_client

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_OUTAGE_SID = "PylonFaultInjectionPublishOutage"


class FaultError(HarnessError):
    """A fault could not be injected (no such component, process already gone)."""


@dataclass(frozen=True)
class Fault:
    """A fault (or `count` of the same kind, for those counted rather than timed)."""

    kind: str
    target: str
    detail: str
    at_seconds: float
    count: int = 1


@dataclass
class FaultLog:
    """Faults in the order they were injected, timed from the log's creation."""

    started: float = field(default_factory=time.monotonic)
    faults: list[Fault] = field(default_factory=list)

    def add(self, kind: str, target: str, detail: str = "", count: int = 1) -> Fault:
        fault = Fault(kind, target, detail, round(time.monotonic() - self.started, 2), count)
        self.faults.append(fault)
        return fault

    def count(self, kind: str) -> int:
        return sum(fault.count for fault in self.faults if fault.kind == kind)


def signal_component(runner: ProcessRunner, name: str, signum: signal.Signals) -> int:
    """Send `signum` to the component's whole process group; return the process id."""
    process = runner.processes.get(name)
    if process is None or process.poll() is not None:
        raise FaultError(f"component {name!r} has no running process to signal")
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        raise FaultError(
            f"component {name!r} (pid {process.pid}) ended before {signum.name}"
        ) from None
    return process.pid


class TopicOutage(Running):
    """While active, every publish to the topic fails with AuthorizationError.

    The topic's policy gets an explicit Deny of `sns:Publish` for everyone on `start()`;
    `stop()` takes that statement out again. Deliveries already accepted are unaffected.
    """

    def __init__(self, topic_arn: str, session: boto3.session.Session | None = None) -> None:
        self.topic_arn = topic_arn
        self._sns: SNSClient = new_client("sns", session)

    def start(self) -> None:
        policy = self._policy()
        policy["Statement"] = [*_statements(policy), _deny_publish(self.topic_arn)]
        self._set_policy(policy)

    def stop(self) -> None:
        policy = self._policy()
        policy["Statement"] = [s for s in _statements(policy) if not _is_outage(s)]
        self._set_policy(policy)

    def _policy(self) -> dict[str, object]:
        raw = self._sns.get_topic_attributes(TopicArn=self.topic_arn)["Attributes"].get("Policy")
        policy: dict[str, object] = json.loads(raw) if raw else {}
        policy.setdefault("Version", "2012-10-17")
        return policy

    def _set_policy(self, policy: dict[str, object]) -> None:
        self._sns.set_topic_attributes(
            TopicArn=self.topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
        )


def _statements(policy: dict[str, object]) -> list[object]:
    statements = policy.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def _is_outage(statement: object) -> bool:
    return isinstance(statement, dict) and statement.get("Sid") == _OUTAGE_SID


def _deny_publish(topic_arn: str) -> dict[str, object]:
    return {
        "Sid": _OUTAGE_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic_arn,
    }
