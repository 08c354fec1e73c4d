"""The pipeline spec: a YAML file naming components, queues, topics, buckets and parameters.

It is validated completely before anything touches AWS; every error names the file, the
key path and the problem (`pipeline.yaml: components.parser.subscribe[0].filter: ...`).

    name: docs
    payloads: {s3_path: s3://docs-payloads/offload/}
    buckets: [docs-lake, docs-payloads]
    parameters:
      - {name: /docs/api-token, value: abc, secure: true}
    components:
      fetcher:
        type: source
        entrypoint: examples.docs.fetcher:fetchDocuments
        output_topic: documents
        config: {SOURCE_INTERVAL_SECONDS: 30}
      parser:
        type: pipeline
        entrypoint: examples.docs.parser:parseDocument
        subscribe:
          - {topic: documents, filter: {objectType: [urlResource]}}
        output_topic: assets
      writer:
        type: sink
        entrypoint: examples.docs.writer:writeToLake
        subscribe: [{topic: assets, filter: {objectType: [dataAsset]}}]

FIFO: a topic or queue whose name ends in `.fifo` is a FIFO one; `fifo: true` on a
component names its input queue `<name>-in.fifo` (and its DLQ `<name>-in-dlq.fifo`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import yaml

from harness.errors import HarnessError
from pylon.config import ComponentKind
from pylon.fifo import FIFO_SUFFIX, is_fifo


class SpecError(HarnessError):
    """The pipeline spec is invalid; the message names file, key and problem."""


class RunMode(StrEnum):
    """How a component runs locally: a long-lived process (ECS-like) or as a Lambda."""

    CONTAINER = "container"
    LAMBDA = "lambda"


KIND_NAMES = {
    "pipeline": ComponentKind.PIPELINE,
    "source": ComponentKind.SOURCE,
    "sink": ComponentKind.SINK,
}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Queues and topics may be FIFO ones, whose AWS names end in `.fifo`.
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.fifo)?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENTRYPOINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_COMPONENT_KEYS = {
    "type", "entrypoint", "input_queue", "subscribe", "output_topic", "config", "env",
    "config_in_ssm", "max_receive_count", "visibility_timeout", "mode",
    "function_timeout", "batch_size", "batch_window", "buckets", "fifo",
    "content_based_deduplication",
}  # fmt: skip
_TOP_KEYS = {
    "name",
    "components",
    "buckets",
    "parameters",
    "payloads",
    "topics",
    "lineage",
    "services",
}


class FilterScope(StrEnum):
    """What an SNS filter policy is matched against."""

    ATTRIBUTES = "attributes"  # the message attributes (Pylon's objectType, ...)
    BODY = "body"  # the JSON body (SNS's FilterPolicyScope=MessageBody)


@dataclass(frozen=True)
class Subscription:
    topic: str
    filter_policy: Mapping[str, Any] | None = None
    filter_scope: FilterScope = FilterScope.ATTRIBUTES
    # Raw delivery keeps Pylon's attributes as SQS attributes; without it SNS wraps each
    # message in its JSON envelope (which Pylon unwraps, with a warning).
    raw: bool = True


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    value: str
    secure: bool = False


@dataclass(frozen=True)
class ServiceSpec:
    """A helper process started before the components (a mock API, a data server).

    `{port}` in the command or env is replaced by a free loopback port, and `ready_url`
    (with `{port}` too) is polled until it answers, like a compose healthcheck.
    """

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    ready_url: str | None = None


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    kind: ComponentKind
    entrypoint: str
    input_queue: str | None = None
    subscriptions: tuple[Subscription, ...] = ()
    output_topic: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    config_in_ssm: bool = False
    max_receive_count: int = 3
    visibility_timeout: int = 30
    mode: RunMode = RunMode.CONTAINER
    # As a Lambda function: its timeout (default a sixth of the queue's visibility
    # timeout, as AWS recommends), and its event source mapping's batch size and window.
    function_timeout: int | None = None
    batch_size: int = 10
    batch_window: int = 0
    # Buckets of the spec the component reads or writes itself (beyond the payload
    # bucket): what its IAM role is granted in the CloudFormation export.
    buckets: tuple[str, ...] = ()
    # FIFO input queues only: SQS derives the de-duplication id from the body (a SHA-256)
    # when a sender gives none.
    content_based_deduplication: bool = False

    @property
    def fifo(self) -> bool:
        """Its input queue is a FIFO queue (and so is its dead-letter queue)."""
        return self.input_queue is not None and is_fifo(self.input_queue)

    @property
    def lambda_timeout(self) -> int:
        """Seconds the function may run: the spec's, else a sixth of the visibility timeout."""
        return self.function_timeout or max(1, self.visibility_timeout // 6)

    @property
    def module(self) -> str:
        return self.entrypoint.split(":")[0]

    @property
    def function(self) -> str:
        return self.entrypoint.split(":")[1]

    @property
    def dead_letter_queue(self) -> str | None:
        """`<queue>-dlq`, or `<queue>-dlq.fifo` for a FIFO queue (AWS: a FIFO queue's DLQ
        must be FIFO too)."""
        return dead_letter_queue_name(self.input_queue) if self.input_queue else None


def dead_letter_queue_name(queue: str) -> str:
    """`<queue>-dlq`, keeping a FIFO queue's `.fifo` suffix last."""
    if is_fifo(queue):
        return f"{queue.removesuffix(FIFO_SUFFIX)}-dlq{FIFO_SUFFIX}"
    return f"{queue}-dlq"


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    components: Mapping[str, ComponentSpec]
    buckets: tuple[str, ...] = ()
    parameters: tuple[ParameterSpec, ...] = ()
    topics: tuple[str, ...] = ()
    # FIFO topics (listed under `topics` as mappings) on which SNS derives the
    # de-duplication id from the body when a publisher gives none.
    deduplicated_topics: frozenset[str] = frozenset()
    payload_s3_path: str | None = None
    lineage_table: str | None = None
    services: Mapping[str, ServiceSpec] = field(default_factory=dict)
    source: str = "<dict>"

    def warnings(self) -> list[str]:
        """What AWS accepts but the user probably does not want (printed by provision/up)."""
        order_lost = [
            f"{self.source}: components.{component.name}.subscribe[{index}]: FIFO topic "
            f"{subscription.topic!r} feeds the standard queue {component.input_queue!r}: "
            "delivery works, but the order per message group is lost"
            for component in self.components.values()
            for index, subscription in enumerate(component.subscriptions)
            if is_fifo(subscription.topic) and not component.fifo
        ]
        shared_fate = [
            f"{self.source}: components.{component.name}.batch_size: {component.batch_size} "
            "records per batch from a FIFO queue: a record that keeps failing is retried with "
            "the records behind it in its group, whose receives count too, so they reach the "
            "dead-letter queue with it (AWS Lambda does the same); batch_size: 1 avoids that"
            for component in self.components.values()
            if component.fifo and component.mode is RunMode.LAMBDA and component.batch_size > 1
        ]
        return order_lost + shared_fate

    @property
    def all_topics(self) -> list[str]:
        """Every topic named anywhere, in first-mention order."""
        names = list(self.topics)
        for component in self.components.values():
            names += [s.topic for s in component.subscriptions]
            names += [component.output_topic] if component.output_topic else []
        return list(dict.fromkeys(names))

    def with_prefix(self, prefix: str) -> PipelineSpec:
        """The same pipeline with every AWS resource name prefixed (test isolation)."""
        if not prefix:
            return self
        rename = _Renamer(prefix, self.buckets, tuple(p.name for p in self.parameters))
        return dataclasses.replace(
            self,
            name=f"{prefix}{self.name}",
            components={n: rename.component(c) for n, c in self.components.items()},
            buckets=tuple(rename.bucket(b) for b in self.buckets),
            parameters=tuple(
                dataclasses.replace(p, name=rename.parameter(p.name)) for p in self.parameters
            ),
            topics=tuple(f"{prefix}{t}" for t in self.topics),
            deduplicated_topics=frozenset(f"{prefix}{t}" for t in self.deduplicated_topics),
            payload_s3_path=rename.s3_path(self.payload_s3_path),
            lineage_table=f"{prefix}{self.lineage_table}" if self.lineage_table else None,
        )


@dataclass(frozen=True)
class _Renamer:
    """Prefixes resource names, and rewrites config values that refer to listed buckets
    (`s3://bucket/...`) or parameters (an exact parameter name) so they still resolve."""

    prefix: str
    buckets: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()

    def bucket(self, name: str) -> str:
        return f"{self.prefix}{name}".lower().replace("_", "-")

    def parameter(self, name: str) -> str:
        return (
            f"/{self.prefix.strip('-_')}{name}" if name.startswith("/") else f"{self.prefix}{name}"
        )

    def s3_path(self, path: str | None) -> str | None:
        if not path:
            return path
        bucket, _, key = path[len("s3://") :].partition("/")
        return f"s3://{self.bucket(bucket)}/{key}"

    def component(self, spec: ComponentSpec) -> ComponentSpec:
        p = self.prefix
        return dataclasses.replace(
            spec,
            input_queue=f"{p}{spec.input_queue}" if spec.input_queue else None,
            output_topic=f"{p}{spec.output_topic}" if spec.output_topic else None,
            subscriptions=tuple(
                dataclasses.replace(s, topic=f"{p}{s.topic}") for s in spec.subscriptions
            ),
            config={key: self.config_value(value) for key, value in spec.config.items()},
        )

    def config_value(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in self.parameters:
            return self.parameter(value)
        for bucket in self.buckets:
            if value == f"s3://{bucket}" or value.startswith(f"s3://{bucket}/"):
                return self.s3_path(value)
        return value


# ---------------------------------------------------------------- loading


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and validate a spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the pipeline spec ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save the spec as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return spec_from_dict(data, str(path))


def spec_from_dict(data: Any, source: str = "<dict>") -> PipelineSpec:
    """Validate an already-parsed spec (a dict, as in tests)."""
    check = _Checker(source)
    mapping = check.mapping(data, "", required=True)
    check.known_keys(mapping, _TOP_KEYS, "")
    name = check.name(mapping.get("name"), "name")
    components_raw = check.mapping(mapping.get("components"), "components", required=True)
    if not components_raw:
        check.fail("components", "at least one component is required")
    components = {n: _component(check, str(n), c) for n, c in components_raw.items()}
    topics = [
        _topic(check, t, f"topics[{i}]")
        for i, t in enumerate(check.list(mapping.get("topics"), "topics"))
    ]
    payloads = check.mapping(mapping.get("payloads"), "payloads")
    check.known_keys(payloads, {"s3_path"}, "payloads")
    spec = PipelineSpec(
        name=name,
        components=components,
        buckets=tuple(
            _bucket(check, b, f"buckets[{i}]")
            for i, b in enumerate(check.list(mapping.get("buckets"), "buckets"))
        ),
        parameters=tuple(
            _parameter(check, p, f"parameters[{i}]")
            for i, p in enumerate(check.list(mapping.get("parameters"), "parameters"))
        ),
        topics=tuple(name for name, _ in topics),
        deduplicated_topics=frozenset(name for name, deduplicated in topics if deduplicated),
        payload_s3_path=_s3_path(check, payloads.get("s3_path"), "payloads.s3_path"),
        lineage_table=_lineage(check, mapping.get("lineage")),
        services={
            str(n): _service(check, str(n), s)
            for n, s in check.mapping(mapping.get("services"), "services").items()
        },
        source=source,
    )
    _check_references(check, spec)
    return spec


def _component(check: _Checker, name: str, raw: Any) -> ComponentSpec:
    where = f"components.{name}"
    check.name(name, where)
    data = check.mapping(raw, where, required=True)
    check.known_keys(data, _COMPONENT_KEYS, where)
    kind_name = data.get("type")
    if kind_name not in KIND_NAMES:
        check.fail(f"{where}.type", f"must be one of {sorted(KIND_NAMES)}, got {kind_name!r}")
    kind = KIND_NAMES[kind_name]
    entrypoint = data.get("entrypoint")
    if not isinstance(entrypoint, str) or not _ENTRYPOINT.match(entrypoint):
        check.fail(f"{where}.entrypoint", f"must be 'package.module:function', got {entrypoint!r}")
    has_input = kind is not ComponentKind.SOURCE
    has_output = kind is not ComponentKind.SINK
    _forbid(check, data, where, "input_queue", not has_input, "a source has no input queue")
    _forbid(check, data, where, "subscribe", not has_input, "a source subscribes to nothing")
    _forbid(check, data, where, "output_topic", not has_output, "a sink has no output topic")
    mode = data.get("mode", "container")
    if mode not in {m.value for m in RunMode}:
        check.fail(f"{where}.mode", f"must be one of {[m.value for m in RunMode]}, got {mode!r}")
    if mode == RunMode.LAMBDA and kind is ComponentKind.SOURCE:
        check.fail(
            f"{where}.mode",
            "a source cannot run in lambda mode locally (it has no queue to trigger it)",
        )
    fifo = check.boolean(data.get("fifo", False), f"{where}.fifo")
    _forbid(check, data, where, "fifo", not has_input, "a source has no input queue to make FIFO")
    spec = ComponentSpec(
        name=name,
        kind=kind,
        entrypoint=entrypoint,
        input_queue=_input_queue(check, data, name, fifo, where) if has_input else None,
        subscriptions=tuple(_subscription(check, s, f"{where}.subscribe[{i}]") for i, s in enumerate(check.list(data.get("subscribe"), f"{where}.subscribe"))),
        output_topic=check.resource_name(data.get("output_topic", f"{name}-out"), f"{where}.output_topic") if has_output else None,
        config=check.mapping(data.get("config"), f"{where}.config"),
        env={str(k): str(v) for k, v in check.mapping(data.get("env"), f"{where}.env").items()},
        config_in_ssm=check.boolean(data.get("config_in_ssm", False), f"{where}.config_in_ssm"),
        max_receive_count=check.integer(data.get("max_receive_count", 3), f"{where}.max_receive_count", 1, 1000),
        visibility_timeout=check.integer(data.get("visibility_timeout", 30), f"{where}.visibility_timeout", 0, 43200),
        mode=RunMode(mode),
        function_timeout=check.integer(data["function_timeout"], f"{where}.function_timeout", 1, 900) if "function_timeout" in data else None,
        batch_size=check.integer(data.get("batch_size", 10), f"{where}.batch_size", 1, 10),
        batch_window=check.integer(data.get("batch_window", 0), f"{where}.batch_window", 0, 300),
        buckets=tuple(_bucket(check, b, f"{where}.buckets[{i}]") for i, b in enumerate(check.list(data.get("buckets"), f"{where}.buckets"))),
        content_based_deduplication=check.boolean(data.get("content_based_deduplication", False), f"{where}.content_based_deduplication"),
    )  # fmt: skip
    _check_fifo_component(check, spec, where)
    return spec


def _input_queue(check: _Checker, data: Mapping[str, Any], name: str, fifo: bool, where: str) -> str:
    """The spec's input_queue, else `<name>-in` (`<name>-in.fifo` with `fifo: true`)."""
    default = f"{name}-in{FIFO_SUFFIX}" if fifo else f"{name}-in"
    queue = check.resource_name(data.get("input_queue", default), f"{where}.input_queue")
    if fifo and not is_fifo(queue):
        check.fail(
            f"{where}.input_queue",
            f"the component is `fifo: true`, so its queue name must end in .fifo, got {queue!r}",
        )
    return queue


def _check_fifo_component(check: _Checker, spec: ComponentSpec, where: str) -> None:
    if spec.content_based_deduplication and not spec.fifo:
        check.fail(
            f"{where}.content_based_deduplication",
            f"only a FIFO queue de-duplicates; {spec.input_queue!r} is a standard queue "
            "(set `fifo: true` or name the queue *.fifo)",
        )
    if spec.fifo and spec.mode is RunMode.LAMBDA and spec.batch_window:
        check.fail(
            f"{where}.batch_window",
            f"must be 0 for a FIFO queue (AWS has no batching window for FIFO event sources), "
            f"got {spec.batch_window}",
        )


def _topic(check: _Checker, raw: Any, where: str) -> tuple[str, bool]:
    """A `topics:` entry: a name, or `{name: x.fifo, content_based_deduplication: true}`."""
    if not isinstance(raw, dict):
        return check.resource_name(raw, where), False
    check.known_keys(raw, {"name", "content_based_deduplication"}, where)
    name = check.resource_name(raw.get("name"), f"{where}.name")
    deduplicated = check.boolean(
        raw.get("content_based_deduplication", False), f"{where}.content_based_deduplication"
    )
    if deduplicated and not is_fifo(name):
        check.fail(
            f"{where}.content_based_deduplication",
            f"only a FIFO topic de-duplicates; {name!r} is a standard topic (name it *.fifo)",
        )
    return name, deduplicated


def _service(check: _Checker, name: str, raw: Any) -> ServiceSpec:
    where = f"services.{name}"
    check.name(name, where)
    data = check.mapping(raw, where, required=True)
    check.known_keys(data, {"command", "env", "ready_url"}, where)
    command = data.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        check.fail(f"{where}.command", f"must be a non-empty list of strings, got {command!r}")
    ready_url = data.get("ready_url")
    if ready_url is not None and not (
        isinstance(ready_url, str) and ready_url.startswith("http://127.0.0.1:")
    ):
        check.fail(f"{where}.ready_url", f"must be an http://127.0.0.1:... URL, got {ready_url!r}")
    env = {str(k): str(v) for k, v in check.mapping(data.get("env"), f"{where}.env").items()}
    return ServiceSpec(name, tuple(command), env, ready_url)


def _forbid(
    check: _Checker, data: Mapping[str, Any], where: str, key: str, forbidden: bool, why: str
) -> None:
    if forbidden and key in data:
        check.fail(f"{where}.{key}", why)


def _subscription(check: _Checker, raw: Any, where: str) -> Subscription:
    if isinstance(raw, str):
        return Subscription(check.resource_name(raw, where))
    data = check.mapping(raw, where, required=True)
    check.known_keys(data, {"topic", "filter", "filter_scope", "raw"}, where)
    policy = data.get("filter")
    if policy is not None:
        _check_filter_policy(check, policy, f"{where}.filter")
    scope = _filter_scope(check, data.get("filter_scope", FilterScope.ATTRIBUTES.value), where)
    if scope is FilterScope.BODY and policy is None:
        check.fail(f"{where}.filter_scope", "is `body`, but the subscription has no filter")
    return Subscription(
        check.resource_name(data.get("topic"), f"{where}.topic"),
        policy,
        scope,
        check.boolean(data.get("raw", True), f"{where}.raw"),
    )


def _filter_scope(check: _Checker, raw: Any, where: str) -> FilterScope:
    try:
        return FilterScope(raw)
    except ValueError:
        check.fail(
            f"{where}.filter_scope",
            f"must be one of {[scope.value for scope in FilterScope]}, got {raw!r}",
        )


def _check_filter_policy(check: _Checker, policy: Any, where: str) -> None:
    """SNS rejects these, but emulators accept them: catch them here (DESIGN.md gaps)."""
    data = check.mapping(policy, where, required=True)
    if not data:
        check.fail(where, "a filter policy needs at least one attribute")
    for attribute, rule in data.items():
        if not isinstance(rule, list) or not rule:
            check.fail(
                f"{where}.{attribute}",
                f"must be a non-empty list of values or conditions, got {rule!r}",
            )
        for index, value in enumerate(rule):
            if not isinstance(value, str | int | float | dict) or isinstance(value, bool):
                check.fail(
                    f"{where}.{attribute}[{index}]",
                    f"must be a string, number or condition object, got {value!r}",
                )


def _bucket(check: _Checker, raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not _BUCKET.match(raw):
        check.fail(
            where,
            f"must be a valid S3 bucket name (3-63 lowercase letters, digits, '-', '.'), got {raw!r}",
        )
    return str(raw)


def _parameter(check: _Checker, raw: Any, where: str) -> ParameterSpec:
    data = check.mapping(raw, where, required=True)
    check.known_keys(data, {"name", "value", "secure"}, where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        check.fail(f"{where}.name", "must be a non-empty string")
    value = data.get("value")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        check.fail(f"{where}.value", "must be a string or a number")  # never echo it: may be secret
    return ParameterSpec(
        name, str(value), check.boolean(data.get("secure", False), f"{where}.secure")
    )


def _s3_path(check: _Checker, raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not re.match(
        r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", raw
    ):
        check.fail(where, f"must be s3://bucket/prefix, got {raw!r}")
    return str(raw)


def _lineage(check: _Checker, raw: Any) -> str | None:
    if raw is None:
        return None
    data = check.mapping(raw, "lineage", required=True)
    check.known_keys(data, {"table"}, "lineage")
    return check.name(data.get("table", "lineage"), "lineage.table")


def _check_references(check: _Checker, spec: PipelineSpec) -> None:
    produced = {c.output_topic for c in spec.components.values() if c.output_topic} | set(
        spec.topics
    )
    for component in spec.components.values():
        topics = [s.topic for s in component.subscriptions]
        for index, subscription in enumerate(component.subscriptions):
            if topics.index(subscription.topic) != index:
                check.fail(
                    f"components.{component.name}.subscribe[{index}].topic",
                    f"topic {subscription.topic!r} is subscribed twice; SNS keeps one subscription (one filter) per topic and queue",
                )
            if subscription.topic not in produced:
                check.fail(
                    f"components.{component.name}.subscribe[{index}].topic",
                    f"topic {subscription.topic!r} is not any component's output_topic nor listed under topics",
                )
            if component.fifo and not is_fifo(subscription.topic):
                check.fail(
                    f"components.{component.name}.subscribe[{index}].topic",
                    f"the FIFO queue {component.input_queue!r} cannot subscribe to the standard topic {subscription.topic!r}: AWS refuses it (only a FIFO topic, *.fifo, can feed a FIFO queue)",
                )
    queues = [c.input_queue for c in spec.components.values() if c.input_queue]
    duplicates = sorted({q for q in queues if queues.count(q) > 1})
    if duplicates:
        check.fail("components", f"input queue(s) {duplicates} are used by more than one component")
    if spec.payload_s3_path:
        bucket = spec.payload_s3_path[len("s3://") :].split("/")[0]
        if bucket not in spec.buckets:
            check.fail("payloads.s3_path", f"bucket {bucket!r} is not listed under buckets")
    for component in spec.components.values():
        for index, bucket in enumerate(component.buckets):
            if bucket not in spec.buckets:
                check.fail(
                    f"components.{component.name}.buckets[{index}]",
                    f"bucket {bucket!r} is not listed under buckets",
                )


class _Checker:
    """Type checks that raise SpecError with the file and key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise SpecError(f"{self.source}: {where or '(top level)'}: {problem}")

    def known_keys(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(map(str, data)) - allowed)
        if unknown:
            self.fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")

    def mapping(self, value: Any, where: str, required: bool = False) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"must be a mapping, got {type(value).__name__}")
        return value

    def list(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, f"must be a list, got {type(value).__name__}")
        return value

    def name(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            self.fail(where, f"must be 1-64 letters, digits, '-' or '_', got {value!r}")
        return str(value)

    def resource_name(self, value: Any, where: str) -> str:
        """A queue or topic name: like `name`, optionally ending in `.fifo`."""
        if not isinstance(value, str) or not _RESOURCE_NAME.match(value):
            self.fail(
                where,
                f"must be 1-64 letters, digits, '-' or '_' (a FIFO one ending in .fifo), got {value!r}",
            )
        return str(value)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"must be true or false, got {value!r}")
        return bool(value)

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(where, f"must be an integer from {low} to {high}, got {value!r}")
        return int(value)
