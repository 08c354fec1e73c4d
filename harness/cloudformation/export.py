"""`pylon export cloudformation`: a pipeline spec as a deploy-ready CloudFormation template.

The template is plain data (dicts and lists) validated by cfn-lint, not a troposphere
object model: the same data is read back by `pylon import cloudformation`, compared by
the round-trip and drift tests and walked by `pylon check`, so one representation
serves all of them, and cfn-lint (the AWS CloudFormation team's own linter) checks it
against the resource specification that troposphere would only approximate.

Everything the local provisioner creates is here with the same settings (queues, their
dead-letter queues and redrive, the SourceArn-scoped queue policies, topics, the
subscriptions' raw delivery and filter policies, buckets, the lineage table), plus what
only AWS needs: a least-privilege role per component, its compute (a Lambda function and
event source mapping, or a Fargate task and service), log groups with metric filters on
the README's heartbeat and timed_execution lines, and alarms. PYLON_CONFIG is not in
the template: CloudFormation cannot create a SecureString, and config carries secrets,
so each component's environment names its parameter and `pylon config push` writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.cloudformation import names
from harness.lineage.recorder import RECORDER_NAME, with_lineage_recorder
from harness.provision import config_parameter_name, subscription_attributes
from harness.spec import ComponentSpec, PipelineSpec
from pylon.config import ComponentKind
from pylon.fifo import is_fifo
from pylon.s3_pointer import S3Location

Template = dict[str, Any]


class Target(StrEnum):
    LAMBDA = "lambda"
    ECS = "ecs"


RUNTIME = "python3.11"
HANDLER = "pylon_lambda_handler.handler"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
PAYLOAD_EXPIRY_DAYS = 14
LOG_RETENTION_DAYS = 30
# Lambda's limit for the SQS batching window, and an alarm on messages waiting this long.
QUEUE_AGE_ALARM_SECONDS = 900
METADATA_KEY = "Pylon"
# Data outlives the stack: the lake and the lineage records are kept when it is deleted.
_KEEP = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def export_template(spec: PipelineSpec, target: Target) -> Template:
    """The whole template for `spec` (the lineage recorder included when it has lineage)."""
    return _Export(with_lineage_recorder(spec), target).template()


@dataclass
class _Export:
    spec: PipelineSpec
    target: Target

    def __post_init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self.resources: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}

    def template(self) -> Template:
        for topic in self.spec.all_topics:
            self._topic(topic)
        for bucket in self.spec.buckets:
            self._bucket(bucket)
        for parameter in self.spec.parameters:
            if not parameter.secure:  # SecureStrings: `pylon config push`
                self._ssm_parameter(parameter.name, parameter.value)
        if self.spec.lineage_table:
            self._lineage_table(self.spec.lineage_table)
        self._compute_parameters()
        for component in self.spec.components.values():
            self._component(component)
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"Pylon pipeline {self.spec.name} ({self.target.value} target), "
            "exported by `pylon export cloudformation`",
            "Metadata": {METADATA_KEY: {"pipeline": self.spec.name, "target": self.target.value}},
            "Parameters": self.parameters,
            "Resources": self.resources,
            "Outputs": self.outputs,
        }

    # ------------------------------------------------------------ shared resources

    def _topic(self, name: str) -> None:
        logical = names.topic(name)
        properties: dict[str, Any] = {"TopicName": name}
        if is_fifo(name):
            properties["FifoTopic"] = True
            properties["ContentBasedDeduplication"] = name in self.spec.deduplicated_topics
        self.resources[logical] = {"Type": "AWS::SNS::Topic", "Properties": properties}
        self._output(f"{logical}Arn", ref(logical), f"ARN of topic {name}")

    def _bucket(self, name: str) -> None:
        properties: dict[str, Any] = {
            "BucketName": name,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        }
        payloads = self.payload_location()
        if payloads and payloads.bucket == name:
            # Offloaded payloads are only needed until every consumer has read them.
            properties["LifecycleConfiguration"] = {
                "Rules": [
                    {
                        "Id": "ExpireOffloadedPayloads",
                        "Status": "Enabled",
                        "Prefix": payloads.key,
                        "ExpirationInDays": PAYLOAD_EXPIRY_DAYS,
                    }
                ]
            }
        self.resources[names.bucket(name)] = {
            "Type": "AWS::S3::Bucket",
            **_KEEP,
            "Properties": properties,
        }
        self._output(f"{names.bucket(name)}Name", ref(names.bucket(name)), f"bucket {name}")

    def _ssm_parameter(self, name: str, value: str) -> None:
        self.resources[names.parameter(name)] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": name, "Type": "String", "Value": value},
        }

    def _lineage_table(self, name: str) -> None:
        self.resources[names.LINEAGE_TABLE] = {
            "Type": "AWS::DynamoDB::Table",
            **_KEEP,
            "Properties": {
                "TableName": name,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "ingestionId", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "ingestionId", "KeyType": "HASH"}],
            },
        }
        self._output("LineageTableName", ref(names.LINEAGE_TABLE), "the lineage table")

    def _compute_parameters(self) -> None:
        if self.target is Target.LAMBDA:
            self.parameters[names.LAYER_PARAMETER] = {
                "Type": "String",
                "Description": "ARN of the Pylon layer (`pylon layer build`, then publish it)",
            }
            self.parameters[names.ARTIFACT_BUCKET_PARAMETER] = {
                "Type": "String",
                "Description": "Bucket holding each component's code zip (`pylon deploy` uploads them)",
            }
            return
        self.parameters[names.SUBNETS_PARAMETER] = {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets the Fargate tasks run in (with a route to the AWS APIs)",
        }
        self.parameters[names.SECURITY_GROUPS_PARAMETER] = {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "Security groups of the Fargate tasks (outbound HTTPS only)",
        }
        self.parameters[names.DESIRED_COUNT_PARAMETER] = {
            "Type": "Number",
            "Default": 1,
            "MinValue": 0,
            "Description": "Tasks per component (consumers of one queue scale out)",
        }
        self.resources[names.CLUSTER] = {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterName": self.spec.name},
        }

    # ------------------------------------------------------------ per component

    def _component(self, component: ComponentSpec) -> None:
        if component.input_queue and component.dead_letter_queue:
            self._queues(component)
        self._log_group(component)
        self._role(component)
        if self.target is Target.LAMBDA:
            self._function(component)
        else:
            self._task(component)
        self._metric_filters(component)
        self._alarms(component)

    def _queues(self, component: ComponentSpec) -> None:
        assert component.input_queue and component.dead_letter_queue
        name = component.name
        dlq, queue = names.dead_letter_queue(name), names.queue(name)
        self.resources[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": component.dead_letter_queue,
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
            }
            | ({"FifoQueue": True} if component.fifo else {}),
        }
        self.resources[queue] = {
            "Type": "AWS::SQS::Queue",
            "Metadata": {METADATA_KEY: _component_metadata(component)},
            "Properties": {
                "QueueName": component.input_queue,
                "VisibilityTimeout": component.visibility_timeout,
                "RedrivePolicy": {
                    "deadLetterTargetArn": get_att(dlq, "Arn"),
                    "maxReceiveCount": component.max_receive_count,
                },
            }
            | _fifo_queue_properties(component),
        }
        self._output(f"{queue}Url", ref(queue), f"input queue of {name}")
        self._output(f"{dlq}Url", ref(dlq), f"dead-letter queue of {name}")
        self._queue_policy(component)
        for subscription in component.subscriptions:
            attributes = subscription_attributes(subscription)
            properties: dict[str, Any] = {
                "TopicArn": ref(names.topic(subscription.topic)),
                "Protocol": "sqs",
                "Endpoint": get_att(queue, "Arn"),
                "RawMessageDelivery": attributes["RawMessageDelivery"] == "true",
            }
            if "FilterPolicy" in attributes:
                properties["FilterPolicy"] = json.loads(attributes["FilterPolicy"])
                properties["FilterPolicyScope"] = attributes["FilterPolicyScope"]
            self.resources[names.subscription(name, subscription.topic)] = {
                "Type": "AWS::SNS::Subscription",
                "DependsOn": [names.queue_policy(name)],
                "Properties": properties,
            }

    def _queue_policy(self, component: ComponentSpec) -> None:
        """SNS may deliver to the queue from exactly its subscribed topics."""
        queue = names.queue(component.name)
        topics = [ref(names.topic(s.topic)) for s in component.subscriptions]
        statement: dict[str, Any] = {
            "Sid": "PylonSubscribedTopics",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": get_att(queue, "Arn"),
            "Condition": {"ArnEquals": {"aws:SourceArn": topics}},
        }
        if not topics:
            return
        self.resources[names.queue_policy(component.name)] = {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref(queue)],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            },
        }

    def _log_group(self, component: ComponentSpec) -> None:
        self.resources[names.log_group(component.name)] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": self._log_group_name(component),
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        }

    def _log_group_name(self, component: ComponentSpec) -> str:
        if self.target is Target.LAMBDA:
            return f"/aws/lambda/{self._function_name(component)}"
        return f"/ecs/{self.spec.name}/{component.name}"

    def _function_name(self, component: ComponentSpec) -> str:
        return f"{self.spec.name}-{component.name}"

    # ------------------------------------------------------------ IAM

    def _role(self, component: ComponentSpec) -> None:
        service = (
            "lambda.amazonaws.com" if self.target is Target.LAMBDA else "ecs-tasks.amazonaws.com"
        )
        self.resources[names.role(component.name)] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _trust(service),
                "Policies": [
                    {
                        "PolicyName": f"{self.spec.name}-{component.name}",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": _role_statements(self, component),
                        },
                    }
                ],
            },
        }
        if self.target is Target.ECS:
            self._execution_role(component)

    def _execution_role(self, component: ComponentSpec) -> None:
        """What ECS itself needs to start the task: pull its image, write its log."""
        self.resources[names.execution_role(component.name)] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _trust("ecs-tasks.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": f"{self.spec.name}-{component.name}-execution",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": [
                                        "ecr:GetAuthorizationToken",
                                        "ecr:BatchCheckLayerAvailability",
                                        "ecr:GetDownloadUrlForLayer",
                                        "ecr:BatchGetImage",
                                    ],
                                    "Resource": "*",
                                },
                                _log_statement(component),
                            ],
                        },
                    }
                ],
            },
        }

    def payload_location(self) -> S3Location | None:
        path = self.spec.payload_s3_path
        return S3Location.parse(path) if path else None

    # ------------------------------------------------------------ compute

    def _environment(self, component: ComponentSpec) -> dict[str, str]:
        """The component's environment: its spec env, and where its PYLON_CONFIG is."""
        return {
            "IMAGE_NAME": component.name,
            **dict(component.env),
            "PYLON_CONFIG": config_parameter_name(self.spec, component),
        }

    def _function(self, component: ComponentSpec) -> None:
        name = component.name
        self.parameters[names.code_key_parameter(name)] = {
            "Type": "String",
            "Default": f"pylon/{self.spec.name}/{name}.zip",
            "Description": f"Key of {name}'s code zip in the artifact bucket",
        }
        function = names.function(name)
        self.resources[function] = {
            "Type": "AWS::Lambda::Function",
            "DependsOn": [names.log_group(name)],
            "Metadata": {METADATA_KEY: _component_metadata(component)},
            "Properties": {
                "FunctionName": self._function_name(component),
                "Runtime": RUNTIME,
                "Handler": HANDLER,
                "Role": get_att(names.role(name), "Arn"),
                "Code": {
                    "S3Bucket": ref(names.ARTIFACT_BUCKET_PARAMETER),
                    "S3Key": ref(names.code_key_parameter(name)),
                },
                "Layers": [ref(names.LAYER_PARAMETER)],
                "Timeout": component.lambda_timeout,
                "MemorySize": 256,
                "Environment": {"Variables": self._environment(component)},
            },
        }
        if component.kind is ComponentKind.SOURCE:
            self._schedule(component)
            return
        mapping: dict[str, Any] = {
            "EventSourceArn": get_att(names.queue(name), "Arn"),
            "FunctionName": ref(function),
            "BatchSize": component.batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "Enabled": True,
        }
        if component.batch_window:
            mapping["MaximumBatchingWindowInSeconds"] = component.batch_window
        self.resources[names.event_source_mapping(name)] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": mapping,
        }

    def _schedule(self, component: ComponentSpec) -> None:
        """A source as a Lambda function runs on a schedule (its SOURCE_INTERVAL_SECONDS)."""
        seconds = int(component.config.get("SOURCE_INTERVAL_SECONDS", 60))
        minutes = max(1, seconds // 60)
        function = names.function(component.name)
        self.resources[names.schedule(component.name)] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": f"rate({minutes} minute{'s' if minutes > 1 else ''})",
                "State": "ENABLED",
                "Targets": [{"Arn": get_att(function, "Arn"), "Id": "PylonSource"}],
            },
        }
        self.resources[names.schedule_permission(component.name)] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": ref(function),
                "Principal": "events.amazonaws.com",
                "SourceArn": get_att(names.schedule(component.name), "Arn"),
            },
        }

    def _task(self, component: ComponentSpec) -> None:
        name = component.name
        self.parameters[names.image_parameter(name)] = {
            "Type": "String",
            "Description": f"Image URI of {name} (built FROM the Pylon base image)",
        }
        environment = [{"Name": k, "Value": v} for k, v in self._environment(component).items()]
        self.resources[names.task_definition(name)] = {
            "Type": "AWS::ECS::TaskDefinition",
            "Metadata": {METADATA_KEY: _component_metadata(component)},
            "Properties": {
                "Family": f"{self.spec.name}-{name}",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ExecutionRoleArn": get_att(names.execution_role(name), "Arn"),
                "TaskRoleArn": get_att(names.role(name), "Arn"),
                "ContainerDefinitions": [
                    {
                        "Name": name,
                        "Image": ref(names.image_parameter(name)),
                        "Essential": True,
                        # ECS's stop timeout: the message in hand finishes after SIGTERM.
                        "StopTimeout": 30,
                        "Environment": environment,
                        "LogConfiguration": {
                            "LogDriver": "awslogs",
                            "Options": {
                                "awslogs-group": ref(names.log_group(name)),
                                "awslogs-region": ref("AWS::Region"),
                                "awslogs-stream-prefix": name,
                            },
                        },
                    }
                ],
            },
        }
        self.resources[names.service(name)] = {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": name,
                "Cluster": ref(names.CLUSTER),
                "TaskDefinition": ref(names.task_definition(name)),
                "DesiredCount": ref(names.DESIRED_COUNT_PARAMETER),
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "Subnets": ref(names.SUBNETS_PARAMETER),
                        "SecurityGroups": ref(names.SECURITY_GROUPS_PARAMETER),
                        "AssignPublicIp": "DISABLED",
                    }
                },
            },
        }

    # ------------------------------------------------------------ observability

    def _metric_filters(self, component: ComponentSpec) -> None:
        """CloudWatch metrics from the README's fixed log lines (text format)."""
        start = "lambda_handler" if self.target is Target.LAMBDA else "run_forever"
        filters = {
            "Processed": ('"heartbeat core_process"', "1"),
            "Starts": (f'"heartbeat {start}"', "1"),
            "CoreProcessMs": (
                "[..., metric=timed_execution, name=core_process, time, unit]",
                "$time",
            ),
            "TotalMs": ("[..., metric=timed_execution, name=total, time, unit]", "$time"),
        }
        if self.target is Target.ECS:
            filters["Alive"] = ('?"heartbeat core_process" ?"liveness run_forever"', "1")
        for metric, (pattern, value) in filters.items():
            self.resources[f"{names.pascal(component.name)}{metric}Filter"] = {
                "Type": "AWS::Logs::MetricFilter",
                "Properties": {
                    "LogGroupName": ref(names.log_group(component.name)),
                    "FilterPattern": pattern,
                    "MetricTransformations": [
                        {
                            "MetricNamespace": f"Pylon/{self.spec.name}",
                            "MetricName": f"{names.pascal(component.name)}{metric}",
                            "MetricValue": value,
                        }
                    ],
                },
            }

    def _alarms(self, component: ComponentSpec) -> None:
        prefix = names.pascal(component.name)
        if component.dead_letter_queue:
            self.resources[f"{prefix}DeadLettersAlarm"] = _alarm(
                f"{component.name}: messages in its dead-letter queue",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                [
                    {
                        "Name": "QueueName",
                        "Value": get_att(names.dead_letter_queue(component.name), "QueueName"),
                    }
                ],
                threshold=0,
                comparison="GreaterThanThreshold",
                statistic="Maximum",
                missing="notBreaching",
            )
        if self.target is Target.ECS:
            # runForever says it is alive at least once a minute (liveness), even idle.
            self.resources[f"{prefix}HeartbeatAlarm"] = _alarm(
                f"{component.name}: no heartbeat or liveness line for 5 minutes",
                f"Pylon/{self.spec.name}",
                f"{prefix}Alive",
                [],
                threshold=1,
                comparison="LessThanThreshold",
                statistic="Sum",
                missing="breaching",
            )
        elif component.input_queue:
            # A Lambda function logs only when invoked: an idle queue means no heartbeat.
            # What must not happen is work waiting without being taken.
            self.resources[f"{prefix}WaitingAlarm"] = _alarm(
                f"{component.name}: a message waited over {QUEUE_AGE_ALARM_SECONDS} s",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                [{"Name": "QueueName", "Value": get_att(names.queue(component.name), "QueueName")}],
                threshold=QUEUE_AGE_ALARM_SECONDS,
                comparison="GreaterThanThreshold",
                statistic="Maximum",
                missing="notBreaching",
            )

    def _output(self, name: str, value: Any, description: str) -> None:
        self.outputs[name] = {"Description": description, "Value": value}


def _component_metadata(component: ComponentSpec) -> dict[str, Any]:
    """What the template cannot say otherwise, for `pylon import` (never config: secrets)."""
    metadata = {
        "component": component.name,
        "type": _KIND_NAMES[component.kind],
        "entrypoint": component.entrypoint,
        "mode": component.mode.value,
        "outputTopic": component.output_topic,
        "configInSsm": component.config_in_ssm,
        "buckets": list(component.buckets),
    }
    return {key: value for key, value in metadata.items() if value is not None}


_KIND_NAMES = {
    ComponentKind.PIPELINE: "pipeline",
    ComponentKind.SOURCE: "source",
    ComponentKind.SINK: "sink",
}


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _log_statement(component: ComponentSpec) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": get_att(names.log_group(component.name), "Arn"),
    }


def _role_statements(export: _Export, component: ComponentSpec) -> list[dict[str, Any]]:
    """Its own queue, its output topic, the payload bucket, its parameter(s), the lineage
    table (the recorder only), its own log group: nothing else."""
    statements: list[dict[str, Any]] = []
    if component.input_queue:
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                "Resource": get_att(names.queue(component.name), "Arn"),
            }
        )
    if component.output_topic:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": ref(names.topic(component.output_topic)),
            }
        )
    statements += _bucket_statements(export, component)
    statements += _config_statements(export.spec, component)
    if export.spec.lineage_table and component.name == RECORDER_NAME:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
                "Resource": get_att(names.LINEAGE_TABLE, "Arn"),
            }
        )
    if export.target is Target.LAMBDA:
        statements.append(_log_statement(component))
    return statements


def _bucket_statements(export: _Export, component: ComponentSpec) -> list[dict[str, Any]]:
    statements = []
    payloads = export.payload_location()
    if payloads:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": sub(f"arn:${{AWS::Partition}}:s3:::{payloads.bucket}/{payloads.key}*"),
            }
        )
    for bucket in component.buckets:
        statements += [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/*"),
            },
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": sub(f"arn:${{AWS::Partition}}:s3:::{bucket}"),
            },
        ]
    return statements


def _config_statements(spec: PipelineSpec, component: ComponentSpec) -> list[dict[str, Any]]:
    parameter = config_parameter_name(spec, component)
    return [
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": sub(
                f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{parameter}"
            ),
        },
        {
            # SecureString: decrypted with SSM's key, and only through SSM.
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": sub("ssm.${AWS::Region}.amazonaws.com")}
            },
        },
    ]


def _alarm(
    description: str,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, Any]],
    *,
    threshold: float,
    comparison: str,
    statistic: str,
    missing: str,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Statistic": statistic,
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "TreatMissingData": missing,
    }
    if dimensions:
        properties["Dimensions"] = dimensions
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _fifo_queue_properties(component: ComponentSpec) -> dict[str, Any]:
    if not component.fifo:
        return {}
    return {"FifoQueue": True, "ContentBasedDeduplication": component.content_based_deduplication}
