"""`pylon check`: what works locally and bites only in AWS, found before deploying.

Each rule has an id, a severity and a message naming the resource; the README lists
them. A spec is checked through the template it exports (the same resources AWS would
get) and through the spec itself for what only it knows (which component sets what);
a template is checked as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from harness.cloudformation.export import Target, export_template
from harness.cloudformation.references import logical_id_of
from harness.cloudformation.template_io import LoadedTemplate
from harness.spec import PipelineSpec
from pylon.codec import PYLON_ATTRIBUTES


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    resource: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str


RULES = {
    rule.id: rule
    for rule in (
        Rule("PYL001", Severity.ERROR, "event source mapping without ReportBatchItemFailures"),
        Rule("PYL002", Severity.WARNING, "queue visibility timeout under 6x the function timeout"),
        Rule("PYL003", Severity.ERROR, "queue without a dead-letter queue"),
        Rule("PYL004", Severity.WARNING, "filter on an attribute no upstream component sets"),
        Rule("PYL005", Severity.WARNING, "raw delivery off for a Pylon consumer"),
        Rule("PYL006", Severity.ERROR, "FIFO/standard mismatch between topic and queue"),
        Rule("PYL007", Severity.ERROR, "queue policy not scoped to its topics"),
        Rule("PYL008", Severity.WARNING, "outputs can exceed 256 KiB with no payload bucket"),
        Rule("PYL009", Severity.ERROR, "a loop in the topology"),
    )
}


def check_spec(spec: PipelineSpec) -> list[Finding]:
    """The spec's own rules, and every template rule on what it exports (Lambda target:
    the strictest, with its event source mappings)."""
    template = LoadedTemplate(spec.source, export_template(spec, Target.LAMBDA))
    findings = list(check_template(template))
    findings += list(_unset_attributes(spec))
    findings += list(_no_payload_bucket(spec))
    findings += list(_loops(spec))
    return sorted(set(findings), key=lambda f: (f.severity != Severity.ERROR, f.rule, f.resource))


def check_template(template: LoadedTemplate) -> list[Finding]:
    found: list[Finding] = []
    for check in _TEMPLATE_CHECKS:
        found += list(check(template))
    return found


def _finding(rule: str, resource: str, message: str) -> Finding:
    return Finding(rule, RULES[rule].severity, resource, message)


def _of_type(template: LoadedTemplate, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.resources.items() if v.get("Type") == kind}


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties") or {})


# ---------------------------------------------------------------- template rules


def _batch_item_failures(template: LoadedTemplate) -> Iterator[Finding]:
    for logical_id, mapping in _of_type(template, "AWS::Lambda::EventSourceMapping").items():
        types = _properties(mapping).get("FunctionResponseTypes") or []
        if "ReportBatchItemFailures" not in types:
            yield _finding(
                "PYL001",
                logical_id,
                f"{logical_id} ({template.where(logical_id)}) has no FunctionResponseTypes: "
                "[ReportBatchItemFailures]: one failed record makes Lambda retry the whole "
                "batch, done records included (Pylon's handler reports failures per record)",
            )


def _visibility_vs_timeout(template: LoadedTemplate) -> Iterator[Finding]:
    functions = _of_type(template, "AWS::Lambda::Function")
    queues = _of_type(template, "AWS::SQS::Queue")
    for mapping in _of_type(template, "AWS::Lambda::EventSourceMapping").values():
        properties = _properties(mapping)
        queue = logical_id_of(properties.get("EventSourceArn"))
        function = logical_id_of(properties.get("FunctionName"))
        if queue not in queues or function not in functions:
            continue
        timeout = int(_properties(functions[function]).get("Timeout", 3))
        visibility = int(_properties(queues[queue]).get("VisibilityTimeout", 30))
        if visibility < 6 * timeout:
            yield _finding(
                "PYL002",
                queue,
                f"{queue}'s VisibilityTimeout {visibility} s is under 6x {function}'s Timeout "
                f"{timeout} s ({6 * timeout} s): AWS recommends 6x so a batch retried after a "
                "throttle is not seen twice",
            )


def _dead_letter_queues(template: LoadedTemplate) -> Iterator[Finding]:
    queues = _of_type(template, "AWS::SQS::Queue")
    dead_letters = {
        logical_id_of(_properties(q).get("RedrivePolicy", {}).get("deadLetterTargetArn"))
        for q in queues.values()
    }
    for logical_id, queue in queues.items():
        if logical_id in dead_letters or _properties(queue).get("RedrivePolicy"):
            continue
        yield _finding(
            "PYL003",
            logical_id,
            f"{logical_id} has no RedrivePolicy: a message that always fails is redelivered "
            "for its whole retention period instead of moving to a dead-letter queue",
        )


def _raw_delivery(template: LoadedTemplate) -> Iterator[Finding]:
    consumed = _consumed_queues(template)
    for logical_id, subscription in _of_type(template, "AWS::SNS::Subscription").items():
        properties = _properties(subscription)
        if logical_id_of(properties.get("Endpoint")) not in consumed:
            continue
        if str(properties.get("RawMessageDelivery", "false")).lower() != "true":
            yield _finding(
                "PYL005",
                logical_id,
                f"{logical_id} delivers SNS envelopes to a Pylon consumer: attribute filters "
                "still work, but every message is wrapped (Pylon unwraps it and logs a "
                "warning); set RawMessageDelivery: true",
            )


def _fifo_mismatch(template: LoadedTemplate) -> Iterator[Finding]:
    topics = _of_type(template, "AWS::SNS::Topic")
    queues = _of_type(template, "AWS::SQS::Queue")
    for logical_id, subscription in _of_type(template, "AWS::SNS::Subscription").items():
        properties = _properties(subscription)
        topic = logical_id_of(properties.get("TopicArn"))
        queue = logical_id_of(properties.get("Endpoint"))
        if topic not in topics or queue not in queues:
            continue
        topic_fifo = _is_fifo(topics[topic], "TopicName")
        queue_fifo = _is_fifo(queues[queue], "QueueName")
        if not topic_fifo and queue_fifo:
            yield _finding(
                "PYL006",
                logical_id,
                f"{logical_id}: standard topic {topic} cannot deliver to FIFO queue {queue} "
                "(AWS refuses the subscription); make the topic FIFO too",
            )


def _is_fifo(resource: dict[str, Any], name_property: str) -> bool:
    properties = _properties(resource)
    name = properties.get(name_property)
    return bool(properties.get("FifoTopic") or properties.get("FifoQueue")) or (
        isinstance(name, str) and name.endswith(".fifo")
    )


def _queue_policies(template: LoadedTemplate) -> Iterator[Finding]:
    for logical_id, policy in _of_type(template, "AWS::SQS::QueuePolicy").items():
        document = _properties(policy).get("PolicyDocument") or {}
        for statement in document.get("Statement") or []:
            if statement.get("Effect") != "Allow":
                continue
            condition = json.dumps(statement.get("Condition") or {})
            if "aws:SourceArn" not in condition:
                yield _finding(
                    "PYL007",
                    logical_id,
                    f"{logical_id} lets {statement.get('Principal')!r} send with no "
                    "aws:SourceArn condition: any topic (in any account) may write to the "
                    "queue; scope it to its subscribed topics",
                )


def _consumed_queues(template: LoadedTemplate) -> set[str | None]:
    return {
        logical_id_of(_properties(m).get("EventSourceArn"))
        for m in _of_type(template, "AWS::Lambda::EventSourceMapping").values()
    } | {
        logical_id
        for logical_id, queue in _of_type(template, "AWS::SQS::Queue").items()
        if (queue.get("Metadata") or {}).get("Pylon")
    }


_TEMPLATE_CHECKS: tuple[Callable[[LoadedTemplate], Iterator[Finding]], ...] = (
    _batch_item_failures,
    _visibility_vs_timeout,
    _dead_letter_queues,
    _raw_delivery,
    _fifo_mismatch,
    _queue_policies,
)


# ---------------------------------------------------------------- spec rules


def _unset_attributes(spec: PipelineSpec) -> Iterator[Finding]:
    """A filter on an attribute only Pylon's own or a declared external topic can set."""
    produced = {c.output_topic for c in spec.components.values() if c.output_topic}
    for component in spec.components.values():
        for subscription in component.subscriptions:
            if subscription.topic not in produced or not subscription.filter_policy:
                continue  # an external topic: its producers may set anything
            if subscription.filter_scope.value == "body":
                continue
            for attribute in subscription.filter_policy:
                if attribute not in PYLON_ATTRIBUTES:
                    yield _finding(
                        "PYL004",
                        f"{component.name}.subscribe[{subscription.topic}]",
                        f"component {component.name} filters topic {subscription.topic} on "
                        f"attribute {attribute!r}, which Pylon does not set: only a task "
                        "that adds it to message.attributes does, else nothing matches",
                    )


def _no_payload_bucket(spec: PipelineSpec) -> Iterator[Finding]:
    if spec.payload_s3_path:
        return
    for component in spec.components.values():
        if component.output_topic and "OUTPUT_PAYLOAD_S3_PATH" not in component.config:
            yield _finding(
                "PYL008",
                component.name,
                f"component {component.name} publishes with no payload bucket: an output "
                "over SNS's 256 KiB fails instead of moving to S3; set payloads.s3_path",
            )


def _loops(spec: PipelineSpec) -> Iterator[Finding]:
    """A component that receives its own outputs, directly or through others."""
    edges: dict[str, list[tuple[str, bool]]] = {}
    for component in spec.components.values():
        for subscription in component.subscriptions:
            for producer in spec.components.values():
                if producer.output_topic == subscription.topic:
                    edges.setdefault(producer.name, []).append(
                        (component.name, bool(subscription.filter_policy))
                    )
    for cycle, filtered in _cycles(edges):
        names = " -> ".join([*cycle, cycle[0]])
        if filtered:
            continue  # a filter may break it: what it lets through is the task's business
        yield _finding(
            "PYL009",
            cycle[0],
            f"loop {names}: every output comes back as input with no filter on the way, so "
            "messages circle for ever; filter one subscription (e.g. on objectType)",
        )


def _cycles(edges: dict[str, list[tuple[str, bool]]]) -> Iterator[tuple[list[str], bool]]:
    """Each elementary cycle once (from its smallest node), with whether any edge filters."""
    seen: set[tuple[str, ...]] = set()

    def walk(
        start: str, node: str, path: list[str], filtered: bool
    ) -> Iterator[tuple[list[str], bool]]:
        for neighbour, has_filter in edges.get(node, []):
            if neighbour == start:
                key = tuple(path)
                if key not in seen:
                    seen.add(key)
                    yield list(path), filtered or has_filter
            elif neighbour not in path and neighbour > start:
                yield from walk(start, neighbour, [*path, neighbour], filtered or has_filter)

    for start in sorted(edges):
        yield from walk(start, start, [start], False)


def report(findings: list[Finding], as_json: bool) -> str:
    if as_json:
        return json.dumps([finding.as_dict() for finding in findings], indent=2)
    if not findings:
        return "no findings"
    return "\n".join(f"{f.severity.value:<7} {f.rule} {f.resource}: {f.message}" for f in findings)
