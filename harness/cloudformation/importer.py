"""`pylon import cloudformation`: an existing template (plain or SAM) as a pipeline spec.

SAM templates (`Transform: AWS::Serverless-2016-10-31`) are first turned into plain
CloudFormation with aws-sam-translator, the library SAM itself uses. Then:

- a Lambda function with an SQS event source mapping is a component of its queue (its
  output topic from Pylon's metadata, else its `OUTPUT_TOPIC_ARN` variable: a sink
  when it has none); a function on a schedule is a source; an ECS task definition
  exported by Pylon is a component too;
- queues give input queues, dead-letter queues, maxReceiveCount and visibility
  timeouts; SNS subscriptions to them give `subscribe` with filters, their scope and
  raw delivery; topics, buckets (the payload-offload prefix from the lifecycle rule),
  String parameters and the lineage table (keyed by ingestionId) map one to one;
- what Pylon derives from a spec on export (roles, policies, log groups, metric
  filters, alarms, the cluster and services) is recognised and not needed;
- anything else is listed by logical id with the reason: nothing is dropped silently.

Entry points come from Pylon's metadata, else from the handler (`module.function` ->
`module:function`). Config never is in a template (it carries secrets): it stays in
SSM, where `pylon config push` writes it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from harness.cloudformation.export import HANDLER, METADATA_KEY
from harness.cloudformation.references import check_references, logical_id_of
from harness.cloudformation.template_io import LoadedTemplate, TemplateError
from harness.lineage.recorder import RECORDER_NAME
from harness.spec import dead_letter_queue_name

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
# Resources the export derives from a spec: recognised, and not needed in one.
DERIVED = frozenset(
    {
        "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy",
        "AWS::Logs::LogGroup", "AWS::Logs::MetricFilter", "AWS::CloudWatch::Alarm",
        "AWS::ECS::Cluster", "AWS::ECS::Service", "AWS::Lambda::Permission",
        "AWS::Lambda::LayerVersion", "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule",
    }
)  # fmt: skip
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass
class Imported:
    spec: dict[str, Any]
    # logical id -> why it has no place in a spec
    unmapped: dict[str, str] = field(default_factory=dict)


def import_template(template: LoadedTemplate) -> Imported:
    template = _without_sam(template)
    check_references(template)
    return _Importer(template).run()


def _without_sam(template: LoadedTemplate) -> LoadedTemplate:
    transform = template.body.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if SAM_TRANSFORM not in transforms:
        return template
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.public.exceptions import InvalidDocumentException
    from samtranslator.translator.translator import Translator

    # A region for the pseudo parameters SAM fills in (no AWS call is made): the
    # structure is what is read, not the ARNs it writes.
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1")
    )
    try:
        # AWS managed policy ARNs are not looked up (that would call IAM).
        plain = translator.translate(
            copy.deepcopy(template.body), parameter_values={}, get_managed_policy_map=dict
        )
    except InvalidDocumentException as exc:
        reasons = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"{template.path}: SAM cannot translate it: {reasons}") from None
    return LoadedTemplate(template.path, plain, template.lines)


class _Importer:
    def __init__(self, template: LoadedTemplate) -> None:
        self.template = template
        self.resources = template.resources
        self.unmapped: dict[str, str] = {}
        self.used: set[str] = set()

    def run(self) -> Imported:
        queues = self._of_type("AWS::SQS::Queue")
        dead_letter_ids = {
            logical_id_of(
                q.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
            )
            for q in queues.values()
        }
        components: dict[str, dict[str, Any]] = {}
        for logical_id, function in self._of_type("AWS::Lambda::Function").items():
            name, component = self._function_component(logical_id, function)
            components[name] = component
        for logical_id, task in self._of_type("AWS::ECS::TaskDefinition").items():
            found = self._task_component(logical_id, task)
            if found:
                components[found[0]] = found[1]
        for logical_id in queues:
            if logical_id not in self.used and logical_id not in dead_letter_ids:
                self.unmapped[logical_id] = "a queue no function or Pylon task consumes"
        spec: dict[str, Any] = {"name": self._pipeline_name(), "components": components}
        spec |= self._shared(components)
        self._list_the_rest(dead_letter_ids)
        return Imported(spec, self.unmapped)

    # ------------------------------------------------------------ helpers

    def _of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    def _name(self, logical_id: str, property_name: str) -> str:
        """The resource's physical name, else its logical id in kebab case."""
        value = (self.resources[logical_id].get("Properties") or {}).get(property_name)
        if isinstance(value, str):
            return value
        if value is not None:
            raise TemplateError(
                f"{self.template.where(logical_id)}: {logical_id}.{property_name} is not a "
                f"plain name ({value!r}); Pylon needs names it can create locally"
            )
        return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()

    def _pipeline_name(self) -> str:
        metadata = (self.template.body.get("Metadata") or {}).get(METADATA_KEY) or {}
        if metadata.get("pipeline"):
            return str(metadata["pipeline"])
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", self.template.path.rsplit("/", 1)[-1].split(".")[0])
        return stem.strip("-") or "imported"

    # ------------------------------------------------------------ components

    def _function_component(
        self, logical_id: str, function: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        properties = function.get("Properties") or {}
        metadata = (function.get("Metadata") or {}).get(METADATA_KEY) or {}
        variables = (properties.get("Environment") or {}).get("Variables") or {}
        mapping = self._mapping_of(logical_id)
        name = str(metadata.get("component") or properties.get("FunctionName") or logical_id)
        component: dict[str, Any] = {
            "type": metadata.get("type") or self._kind(mapping, variables),
            "entrypoint": metadata.get("entrypoint") or self._entrypoint(logical_id, properties),
        }
        if mapping is not None:
            queue_id = logical_id_of(mapping["Properties"].get("EventSourceArn"))
            component |= self._queue_settings(queue_id or "")
            if metadata.get("mode", "lambda") == "lambda":
                component["mode"] = "lambda"
            component |= _batch(mapping["Properties"])
            component |= _timeout(
                properties.get("Timeout"), component.get("visibility_timeout", 30)
            )
        else:
            component |= self._schedule(logical_id)
        component |= self._output(metadata, variables)
        component |= self._env(name, variables)
        component |= _extra(metadata)
        self.used.add(logical_id)
        return name, component

    def _task_component(
        self, logical_id: str, task: dict[str, Any]
    ) -> tuple[str, dict[str, Any]] | None:
        metadata = (task.get("Metadata") or {}).get(METADATA_KEY)
        if not metadata:
            self.unmapped[logical_id] = (
                "an ECS task not exported by Pylon: which component it runs is unknown "
                "(add Pylon metadata, or describe it in the spec)"
            )
            return None
        name = str(metadata["component"])
        containers = (task.get("Properties") or {}).get("ContainerDefinitions") or [{}]
        variables = {e["Name"]: e["Value"] for e in containers[0].get("Environment") or []}
        component: dict[str, Any] = {"type": metadata["type"], "entrypoint": metadata["entrypoint"]}
        queue_id = self._queue_of_component(name)
        if queue_id:
            component |= self._queue_settings(queue_id)
        component |= self._output(metadata, variables)
        component |= self._env(name, variables)
        component |= _extra(metadata)
        self.used.add(logical_id)
        return name, component

    def _mapping_of(self, function_id: str) -> dict[str, Any] | None:
        for logical_id, mapping in self._of_type("AWS::Lambda::EventSourceMapping").items():
            target = (mapping.get("Properties") or {}).get("FunctionName")
            if logical_id_of(target) == function_id:
                self.used.add(logical_id)
                return mapping
        return None

    def _queue_of_component(self, name: str) -> str | None:
        for logical_id, queue in self._of_type("AWS::SQS::Queue").items():
            metadata = (queue.get("Metadata") or {}).get(METADATA_KEY) or {}
            if metadata.get("component") == name:
                return logical_id
        return None

    def _kind(self, mapping: dict[str, Any] | None, variables: dict[str, Any]) -> str:
        if mapping is None:
            return "source"
        return "pipeline" if "OUTPUT_TOPIC_ARN" in variables else "sink"

    def _entrypoint(self, logical_id: str, properties: dict[str, Any]) -> str:
        handler = str(properties.get("Handler") or "")
        module, _, function = handler.rpartition(".")
        if handler == HANDLER or not module:
            raise TemplateError(
                f"{self.template.where(logical_id)}: function {logical_id} has handler "
                f"{handler!r}; which component it runs is unknown (a handler "
                "`package.module.function` is read as `package.module:function`)"
            )
        return f"{module}:{function}"

    def _queue_settings(self, queue_id: str) -> dict[str, Any]:
        if queue_id not in self.resources:
            raise TemplateError(
                f"{self.template.path}: the event source {queue_id} is no queue here"
            )
        self.used.add(queue_id)
        properties = self.resources[queue_id].get("Properties") or {}
        settings: dict[str, Any] = {"input_queue": self._name(queue_id, "QueueName")}
        if _true(properties.get("ContentBasedDeduplication")):
            settings["content_based_deduplication"] = True
        redrive = properties.get("RedrivePolicy") or {}
        if redrive:
            settings["max_receive_count"] = int(redrive.get("maxReceiveCount", 3))
            dead_letter = logical_id_of(redrive.get("deadLetterTargetArn"))
            expected = dead_letter_queue_name(settings["input_queue"])
            if dead_letter and self._name(dead_letter, "QueueName") != expected:
                self.unmapped[dead_letter] = (
                    f"Pylon names a dead-letter queue <queue>-dlq ({expected}); this one "
                    "will be created under that name locally"
                )
            if dead_letter:
                self.used.add(dead_letter)
        if "VisibilityTimeout" in properties:
            settings["visibility_timeout"] = int(properties["VisibilityTimeout"])
        subscriptions = self._subscriptions(queue_id)
        if subscriptions:
            settings["subscribe"] = subscriptions
        return settings

    def _subscriptions(self, queue_id: str) -> list[dict[str, Any]]:
        found = []
        for logical_id, subscription in self._of_type("AWS::SNS::Subscription").items():
            properties = subscription.get("Properties") or {}
            if logical_id_of(properties.get("Endpoint")) != queue_id:
                continue
            entry: dict[str, Any] = {
                "topic": self._name(logical_id_of(properties.get("TopicArn")) or "", "TopicName")
            }
            if properties.get("FilterPolicy"):
                entry["filter"] = properties["FilterPolicy"]
                if properties.get("FilterPolicyScope") == "MessageBody":
                    entry["filter_scope"] = "body"
            if str(properties.get("RawMessageDelivery", "false")).lower() != "true":
                entry["raw"] = False
            found.append(entry)
            self.used.add(logical_id)
        return found

    def _schedule(self, function_id: str) -> dict[str, Any]:
        for logical_id, rule in self._of_type("AWS::Events::Rule").items():
            properties = rule.get("Properties") or {}
            if any(
                logical_id_of(t.get("Arn")) == function_id for t in properties.get("Targets") or []
            ):
                self.used.add(logical_id)
                match = _RATE.match(str(properties.get("ScheduleExpression", "")))
                if match:
                    seconds = int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]
                    return {"config": {"SOURCE_INTERVAL_SECONDS": seconds}}
        return {}

    def _output(self, metadata: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
        if metadata.get("outputTopic"):
            return {"output_topic": metadata["outputTopic"]}
        topic = logical_id_of(variables.get("OUTPUT_TOPIC_ARN"))
        return {"output_topic": self._name(topic, "TopicName")} if topic else {}

    def _env(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        env = {
            k: str(v)
            for k, v in variables.items()
            if k not in ("PYLON_CONFIG", "OUTPUT_TOPIC_ARN", "INPUT_QUEUE_NAME")
            and isinstance(v, str | int | float)
        }
        if env.get("IMAGE_NAME") == name:
            del env["IMAGE_NAME"]  # what the export sets by default
        return {"env": env} if env else {}

    # ------------------------------------------------------------ the rest

    def _shared(self, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
        shared: dict[str, Any] = {}
        outputs = {c.get("output_topic") for c in components.values()}
        topics = {
            self._name(logical_id, "TopicName"): _true(
                (topic.get("Properties") or {}).get("ContentBasedDeduplication")
            )
            for logical_id, topic in self._of_type("AWS::SNS::Topic").items()
        }
        self.used.update(self._of_type("AWS::SNS::Topic"))
        # Listed: the topics no component outputs, and FIFO ones that de-duplicate by content
        # (only a `topics:` entry can say so).
        listed: list[Any] = [
            {"name": name, "content_based_deduplication": True} if deduplicated else name
            for name, deduplicated in topics.items()
            if deduplicated or name not in outputs
        ]
        if listed:
            shared["topics"] = listed
        buckets, payloads = self._buckets()
        if buckets:
            shared["buckets"] = buckets
        if payloads:
            shared["payloads"] = {"s3_path": payloads}
        parameters = self._parameters()
        if parameters:
            shared["parameters"] = parameters
        table = self._lineage_table()
        if table:
            shared["lineage"] = {"table": table}
            components.pop(RECORDER_NAME, None)  # added back by the recorder on export
        return shared

    def _buckets(self) -> tuple[list[str], str | None]:
        buckets, payloads = [], None
        for logical_id, bucket in self._of_type("AWS::S3::Bucket").items():
            name = self._name(logical_id, "BucketName")
            buckets.append(name)
            self.used.add(logical_id)
            rules = ((bucket.get("Properties") or {}).get("LifecycleConfiguration") or {}).get(
                "Rules"
            ) or []
            for rule in rules:
                if rule.get("Id") == "ExpireOffloadedPayloads":
                    payloads = f"s3://{name}/{rule.get('Prefix', '')}"
        return buckets, payloads

    def _parameters(self) -> list[dict[str, Any]]:
        found = []
        for logical_id, parameter in self._of_type("AWS::SSM::Parameter").items():
            properties = parameter.get("Properties") or {}
            if isinstance(properties.get("Name"), str) and isinstance(properties.get("Value"), str):
                found.append({"name": properties["Name"], "value": properties["Value"]})
                self.used.add(logical_id)
        return found

    def _lineage_table(self) -> str | None:
        for logical_id, table in self._of_type("AWS::DynamoDB::Table").items():
            keys = (table.get("Properties") or {}).get("KeySchema") or []
            if [(k.get("AttributeName"), k.get("KeyType")) for k in keys] == [
                ("ingestionId", "HASH")
            ]:
                self.used.add(logical_id)
                return self._name(logical_id, "TableName")
        return None

    def _list_the_rest(self, dead_letter_ids: set[str | None]) -> None:
        for logical_id, resource in self.resources.items():
            kind = resource.get("Type", "")
            if logical_id in self.used or logical_id in dead_letter_ids or kind in DERIVED:
                continue
            self.unmapped.setdefault(logical_id, f"{kind} has no local equivalent in a Pylon spec")


def _batch(properties: dict[str, Any]) -> dict[str, Any]:
    settings = {}
    if int(properties.get("BatchSize", 10)) != 10:
        settings["batch_size"] = int(properties["BatchSize"])
    if int(properties.get("MaximumBatchingWindowInSeconds", 0)):
        settings["batch_window"] = int(properties["MaximumBatchingWindowInSeconds"])
    return settings


def _timeout(timeout: Any, visibility_timeout: int) -> dict[str, Any]:
    """The function timeout, unless it is what the spec derives (a sixth of visibility)."""
    if timeout is None or int(timeout) == max(1, visibility_timeout // 6):
        return {}
    return {"function_timeout": int(timeout)}


def _extra(metadata: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if metadata.get("configInSsm"):
        extra["config_in_ssm"] = True
    if metadata.get("buckets"):
        extra["buckets"] = list(metadata["buckets"])
    return extra


def _true(value: Any) -> bool:
    """A CloudFormation boolean: true, or the string "true" as YAML templates often write it."""
    return str(value).lower() == "true"
