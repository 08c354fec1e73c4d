"""`pylon deploy`: the exported template as a CloudFormation stack, then the config pushed.

    pylon deploy examples/readme/lineage.yaml --target lambda     # on the emulator
    pylon up examples/readme/lineage.yaml --stack greeter          # run on the stack

Deploying is what a team does on AWS, on the emulator's CloudFormation: the Lambda
target's code zips are uploaded to an artifact bucket and the Pylon layer published
first (their locations are the template's parameters), the stack is created (or
updated), and `push_config` writes each component's PYLON_CONFIG as a SecureString where
the template's environment points (CloudFormation cannot create SecureStrings). The
stack's Outputs then give a `ProvisionedPipeline`, so components run as processes bound
to the stack's resources exactly as they run on what `pylon provision` creates.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

import pylon
from harness.cloudformation import names
from harness.cloudformation.export import Target, export_template
from harness.endpoints import is_loopback
from harness.errors import HarnessError
from harness.lineage.recorder import with_lineage_recorder
from harness.packaging.zip_archive import package_dir, tree_files, write_entry
from harness.provision import (
    ProvisionedComponent,
    ProvisionedPipeline,
    config_parameter_name,
    pylon_config,
)
from harness.run.lambda_deploy import build_package
from harness.spec import PipelineSpec

_POLL_SECONDS = 0.5
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
_FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")


class DeployError(HarnessError):
    """The stack could not be created or updated; the message names the resources."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    outputs: dict[str, str]
    pipeline: ProvisionedPipeline


def stack_name_for(spec: PipelineSpec) -> str:
    return f"pylon-{spec.name}"


def deploy(
    spec: PipelineSpec,
    target: Target,
    session: boto3.session.Session | None = None,
    *,
    stack_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
    timeout_s: float = 300,
    allow_remote: bool = False,
) -> DeployedStack:
    """Create or update the stack of `spec`, push its config; the pipeline it describes.

    Refuses an endpoint that is not on this machine unless `allow_remote` (a real
    account is deployed to on purpose, not by a stray environment variable).
    """
    session = session or boto3.session.Session()
    if not allow_remote:
        _refuse_remote(session)
    spec = with_lineage_recorder(spec)
    stack = stack_name or stack_name_for(spec)
    template = export_template(spec, target)
    values = _default_parameters(spec, target, session) | dict(parameters or {})
    _create_or_update(session, stack, _numbers_resolved(template, values), values, timeout_s)
    outputs = stack_outputs(session, stack)
    push_config(spec, outputs, session)
    return DeployedStack(stack, outputs, pipeline_from_outputs(spec, outputs, session))


def stack_provisioner(target: Target, stack_name: str | None = None) -> Any:
    """A LocalPipeline provisioner that deploys the exported template as a stack."""

    def provision_as_stack(
        spec: PipelineSpec, session: boto3.session.Session, *, allow_remote: bool
    ) -> ProvisionedPipeline:
        return deploy(
            spec, target, session, stack_name=stack_name, allow_remote=allow_remote
        ).pipeline

    return provision_as_stack


_DEPLOY_SERVICES = ("cloudformation", "s3", "lambda", "ssm", "sqs", "sns", "dynamodb")


def _refuse_remote(session: boto3.session.Session) -> None:
    for service in _DEPLOY_SERVICES:
        url = session.client(service).meta.endpoint_url  # type: ignore[call-overload]
        if not is_loopback(url):
            raise DeployError(
                f"the {service} endpoint {url} is not on this machine; refusing to deploy "
                "there. Point AWS_ENDPOINT_URL at a local emulator, or pass --allow-remote "
                "to deploy to a real account on purpose"
            )


# ---------------------------------------------------------------- parameters


def _default_parameters(
    spec: PipelineSpec, target: Target, session: boto3.session.Session
) -> dict[str, str]:
    if target is Target.ECS:
        # Components run as processes bound to the stack on an emulator: no tasks.
        return {
            names.DESIRED_COUNT_PARAMETER: "0",
            names.SUBNETS_PARAMETER: "subnet-00000000",
            names.SECURITY_GROUPS_PARAMETER: "sg-00000000",
            **{
                names.image_parameter(name): f"pylon-{spec.name}-{name}:local"
                for name in spec.components
            },
        }
    bucket = f"pylon-{spec.name}-artifacts"
    _upload_code(spec, bucket, session)
    return {
        names.ARTIFACT_BUCKET_PARAMETER: bucket,
        names.LAYER_PARAMETER: publish_layer(spec, session),
    }


def _upload_code(spec: PipelineSpec, bucket: str, session: boto3.session.Session) -> None:
    """Each component's code zip, at the key its template parameter defaults to."""
    s3 = session.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)
    for name, component in spec.components.items():
        key = f"pylon/{spec.name}/{name}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=build_package(component.entrypoint))


def publish_layer(spec: PipelineSpec, session: boto3.session.Session) -> str:
    """Pylon as a layer (`python/pylon/...`), published; its version ARN."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, path in tree_files(package_dir(pylon.__name__)):
            write_entry(archive, f"python/{arcname}", path.read_bytes())
    published = session.client("lambda").publish_layer_version(
        LayerName=f"pylon-{spec.name}",
        Content={"ZipFile": buffer.getvalue()},
        CompatibleRuntimes=["python3.11"],
    )
    return str(published["LayerVersionArn"])


def _numbers_resolved(template: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The template with each ECS service's DesiredCount given as the number itself.

    MiniStack 1.5.33 hands a Number parameter to ECS::Service as text and fails the
    service ("unsupported operand type(s) for -: 'str' and 'int'"); CloudFormation on
    AWS converts it. Substituting the value deploys the same stack everywhere.
    """
    count = values.get(names.DESIRED_COUNT_PARAMETER)
    if count is None:
        return template
    resolved: dict[str, Any] = json.loads(json.dumps(template))
    for resource in resolved["Resources"].values():
        if resource["Type"] == "AWS::ECS::Service":
            resource["Properties"]["DesiredCount"] = int(count)
    return resolved


# ---------------------------------------------------------------- the stack


def _create_or_update(
    session: boto3.session.Session,
    stack: str,
    template: dict[str, Any],
    values: Mapping[str, str],
    timeout_s: float,
) -> None:
    cloudformation = session.client("cloudformation")
    arguments: dict[str, Any] = {
        "StackName": stack,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        existing = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError:
        existing = []
    if existing and existing[0]["StackStatus"] != "DELETE_COMPLETE":
        try:
            cloudformation.update_stack(**arguments)
        except ClientError as exc:
            if "No updates are to be performed" in str(exc):
                return
            raise DeployError(f"updating stack {stack} failed: {exc}") from None
    else:
        cloudformation.create_stack(**arguments)
    _wait(cloudformation, stack, timeout_s)


def _wait(cloudformation: Any, stack: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if status in _DONE:
            return
        if status.endswith(_FAILED_SUFFIXES):
            raise DeployError(f"stack {stack} is {status}: {_failures(cloudformation, stack)}")
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack} still {status} after {timeout_s:g} s")
        time.sleep(_POLL_SECONDS)


def _failures(cloudformation: Any, stack: str) -> str:
    """The resources that failed, by logical id, with CloudFormation's reasons."""
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [
        f"{e['LogicalResourceId']} ({e.get('ResourceType', '?')}): {e.get('ResourceStatusReason', '?')}"
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("_FAILED")
    ]
    return "; ".join(failed) or "no resource reported a failure"


def stack_outputs(session: boto3.session.Session, stack: str) -> dict[str, str]:
    description = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}


def delete_stack(session: boto3.session.Session, stack: str, timeout_s: float = 120) -> None:
    cloudformation = session.client("cloudformation")
    cloudformation.delete_stack(StackName=stack)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError:
            return
        if status == "DELETE_COMPLETE":
            return
        time.sleep(_POLL_SECONDS)
    raise DeployError(f"stack {stack} was not deleted within {timeout_s:g} s")


# ---------------------------------------------------------------- config and pipeline


def push_config(
    spec: PipelineSpec, outputs: Mapping[str, str], session: boto3.session.Session
) -> list[str]:
    """Write each component's PYLON_CONFIG (and the spec's secure parameters) as
    SecureStrings; the parameter names written."""
    ssm = session.client("ssm")
    written = []
    for component in spec.components.values():
        output_arn = _output_topic_arn(component.output_topic, outputs)
        name = config_parameter_name(spec, component)
        value = json.dumps(pylon_config(spec, component, output_arn), sort_keys=True)
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        written.append(name)
    for parameter in spec.parameters:
        if parameter.secure:
            ssm.put_parameter(
                Name=parameter.name, Value=parameter.value, Type="SecureString", Overwrite=True
            )
            written.append(parameter.name)
    return written


def pipeline_from_outputs(
    spec: PipelineSpec, outputs: Mapping[str, str], session: boto3.session.Session
) -> ProvisionedPipeline:
    """What the stack created, as the local provisioner reports it."""
    spec = with_lineage_recorder(spec)
    topics = {t: _output(outputs, f"{names.topic(t)}Arn") for t in spec.all_topics}
    sqs = session.client("sqs")
    components = {}
    queues: dict[str, str] = {}
    for name, component in spec.components.items():
        url = outputs.get(f"{names.queue(name)}Url")
        dlq = outputs.get(f"{names.dead_letter_queue(name)}Url")
        arn = None
        if url and component.input_queue and component.dead_letter_queue and dlq:
            # The order the local provisioner creates them in (so summaries read alike).
            queues |= {component.dead_letter_queue: dlq, component.input_queue: url}
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        output_arn = _output_topic_arn(component.output_topic, outputs)
        components[name] = ProvisionedComponent(
            spec=component,
            queue_url=url,
            queue_arn=arn,
            dead_letter_queue_url=dlq,
            output_topic_arn=output_arn,
            pylon_config=pylon_config(spec, component, output_arn),
            pylon_config_value=config_parameter_name(spec, component),
        )
    table = outputs.get("LineageTableName")
    table_arn = None
    if table:
        table_arn = session.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    return ProvisionedPipeline(
        spec=spec,
        topics=topics,
        queues=queues,
        components=components,
        buckets=spec.buckets,
        parameters=tuple(config_parameter_name(spec, c) for c in spec.components.values()),
        lineage_table_arn=table_arn,
    )


def _output_topic_arn(topic: str | None, outputs: Mapping[str, str]) -> str | None:
    return _output(outputs, f"{names.topic(topic)}Arn") if topic else None


def _output(outputs: Mapping[str, str], key: str) -> str:
    if key not in outputs:
        raise DeployError(f"the stack has no output {key}; was it deployed from this spec?")
    return outputs[key]
