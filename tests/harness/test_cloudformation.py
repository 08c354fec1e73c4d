"""One spec to AWS: export (cfn-lint clean), deploy into the emulator's CloudFormation and
run there, drift against the local provisioner, import back (round trip), and bad input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from cfnlint.api import lint_all

from harness.cloudformation.deploy import deploy, stack_provisioner
from harness.cloudformation.export import Target, export_template
from harness.cloudformation.importer import import_template
from harness.cloudformation.template_io import TemplateError, dump_template, parse_template
from harness.endpoints import AwsEndpoint
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.provision import provision
from harness.spec import SpecError, load_spec, spec_from_dict
from pylon import BaseMessage, ObjectType

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted(
    str(path.relative_to(ROOT))
    for path in (ROOT / "examples").rglob("*.yaml")
    if "components" in path.read_text()
)


def run_pylon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("target", list(Target))
@pytest.mark.parametrize("spec_file", EXAMPLES)
def test_exported_templates_are_cfn_lint_clean(spec_file: str, target: Target) -> None:
    template = dump_template(export_template(load_spec(ROOT / spec_file), target))

    problems = [m for m in lint_all(template) if m.rule.id[0] in ("E", "W")]

    assert problems == [], "\n".join(str(m) for m in problems)


def test_the_export_has_what_aws_needs_for_each_component() -> None:
    template = export_template(
        load_spec(ROOT / "examples/docs_pipeline/pipeline.yaml"), Target.LAMBDA
    )
    resources = template["Resources"]

    queue = resources["ParserQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue["VisibilityTimeout"] >= 6 * resources["ParserFunction"]["Properties"]["Timeout"]
    mapping = resources["ParserMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    subscription = resources["ParserFromDocuments"]["Properties"]
    assert subscription["RawMessageDelivery"] is True
    assert subscription["FilterPolicy"] == {"objectType": ["urlResource"]}
    policy = resources["ParserQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == [{"Ref": "DocumentsTopic"}]
    rules = resources["DocsPayloadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[0]["Prefix"] == "offload/"
    assert resources["LineageTable"]["Properties"]["KeySchema"][0]["AttributeName"] == "ingestionId"
    assert {"ParserQueueUrl", "DocumentsTopicArn", "ReadingsTopicArn"} <= set(template["Outputs"])
    assert "PylonLayerArn" in template["Parameters"]
    variables = resources["ParserFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["PYLON_CONFIG"] == "/pylon/docs/parser"  # the config itself is never in it


def test_each_role_grants_only_its_own_resources() -> None:
    template = export_template(load_spec(ROOT / "examples/docs_pipeline/pipeline.yaml"), Target.ECS)
    statements = template["Resources"]["ParserRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    resources = json.dumps([s["Resource"] for s in statements])

    assert "ParserQueue" in resources and "ReadingsTopic" in resources
    assert "LakeWriterQueue" not in resources and "DocumentsTopic" not in resources
    assert "LineageTable" not in resources  # only the recorder writes it
    assert "parameter/pylon/docs/parser" in resources
    assert all(s["Resource"] != "*" or s["Action"] == "kms:Decrypt" for s in statements)
    recorder = template["Resources"]["PylonLineageRole"]["Properties"]["Policies"][0]
    assert "LineageTable" in json.dumps(recorder)


def test_log_groups_have_metric_filters_for_the_readme_lines_and_alarms() -> None:
    template = export_template(load_spec(ROOT / "examples/readme/hello.yaml"), Target.ECS)
    resources = template["Resources"]

    patterns = {
        r["Properties"]["FilterPattern"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
    }
    assert '"heartbeat core_process"' in patterns
    assert '"heartbeat run_forever"' in patterns
    assert "[..., metric=timed_execution, name=core_process, time, unit]" in patterns
    assert '?"heartbeat core_process" ?"liveness run_forever"' in patterns
    alarms = {k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms == {"HelloDeadLettersAlarm", "HelloHeartbeatAlarm"}


def test_export_command_writes_yaml_or_json(tmp_path: Path) -> None:
    out = tmp_path / "docs.json"

    result = run_pylon(
        "export", "cloudformation", "examples/docs_pipeline/pipeline.yaml",
        "--target", "ecs", "-o", str(out), "--json",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["Resources"]["ParserService"]["Type"] == "AWS::ECS::Service"


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("target", list(Target))
@pytest.mark.parametrize("spec_file", EXAMPLES)
def test_export_import_export_gives_the_same_template(spec_file: str, target: Target) -> None:
    first = export_template(load_spec(ROOT / spec_file), target)

    imported = import_template(parse_template(dump_template(first), "exported.yaml"))
    second = export_template(spec_from_dict(imported.spec, "imported"), target)

    assert imported.unmapped == {}
    assert second == first


def test_import_command_writes_a_spec_that_runs(tmp_path: Path) -> None:
    template = tmp_path / "hello.yaml"
    template.write_text(
        dump_template(
            export_template(load_spec(ROOT / "examples/readme/hello.yaml"), Target.LAMBDA)
        )
    )
    spec = tmp_path / "hello.spec.yaml"

    result = run_pylon("import", "cloudformation", str(template), "-o", str(spec))

    assert result.returncode == 0, result.stderr
    loaded = load_spec(spec)
    assert loaded.components["hello"].entrypoint == "examples.readme.hello:pipelineTask"
    assert loaded.components["hello"].subscriptions[0].filter_policy == {
        "objectType": ["rawContent"]
    }


SAM_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Inbox:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders-in
      VisibilityTimeout: 120
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt InboxDlq.Arn
        maxReceiveCount: 5
  InboxDlq:
    Type: AWS::SQS::Queue
    Properties: {QueueName: orders-in-dlq}
  Orders:
    Type: AWS::SNS::Topic
    Properties: {TopicName: orders}
  Shipped:
    Type: AWS::SNS::Topic
    Properties: {TopicName: shipped}
  InboxSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
      Endpoint: !GetAtt Inbox.Arn
      RawMessageDelivery: true
      FilterPolicy: {objectType: [dataAsset]}
  Ship:
    Type: AWS::Serverless::Function
    Properties:
      Handler: shop.shipping.handler
      Runtime: python3.11
      CodeUri: s3://code/ship.zip
      Timeout: 15
      Environment:
        Variables:
          OUTPUT_TOPIC_ARN: !Ref Shipped
          IMAGE_NAME: shipper
      Events:
        FromInbox:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
            BatchSize: 5
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties: {DashboardBody: '{}'}
"""


def test_a_sam_function_with_an_sqs_event_becomes_a_lambda_component() -> None:
    imported = import_template(parse_template(SAM_TEMPLATE, "shop.yaml"))

    ship = imported.spec["components"]["Ship"]
    assert ship["entrypoint"] == "shop.shipping:handler"
    assert ship["input_queue"] == "orders-in"
    assert (ship["max_receive_count"], ship["visibility_timeout"]) == (5, 120)
    assert (ship["mode"], ship["batch_size"], ship["function_timeout"]) == ("lambda", 5, 15)
    assert ship["subscribe"] == [{"topic": "orders", "filter": {"objectType": ["dataAsset"]}}]
    assert ship["output_topic"] == "shipped"
    assert ship["env"] == {"IMAGE_NAME": "shipper"}
    assert imported.spec["topics"] == ["orders"]
    assert "Dashboard" in imported.unmapped  # listed with its reason, never dropped
    assert "no local equivalent" in imported.unmapped["Dashboard"]
    spec_from_dict(imported.spec, "shop.yaml")  # a spec `pylon up` runs


# ---------------------------------------------------------------- deployed into the emulator


@pytest.mark.slow
def test_the_lambda_target_deployed_as_a_stack_runs_like_the_local_provisioner(
    aws_env: AwsEndpoint, boto_session: boto3.session.Session
) -> None:
    spec = load_spec(ROOT / "examples/readme/lineage.yaml")
    results = {}
    for how, provisioner, run in (
        ("local", provision, Runner.PROCESSES),
        ("stack", stack_provisioner(Target.LAMBDA), Runner.NONE),
    ):
        with LocalPipeline(
            spec, aws_env, run, session=boto_session, provisioner=provisioner
        ) as pipeline:
            pipeline.publish("greetings", BaseMessage(body="hi", attributes={"run": how}))
            (echo,) = pipeline.recorder("echoes").wait_for(
                1, lambda m: m.objectType is ObjectType.RAW_CONTENT, timeout_s=90
            )
            chain = pipeline.lineage().wait_for_chain(str(echo.ingestionId), timeout_s=60)
            results[how] = (echo.body, chain.artifact_names, echo.attributes.get("run"))
        pipeline.teardown()
        aws_env_reset(boto_session)

    assert results["local"] == ("Hello pylon!", ["hello", "echo"], "local")
    assert results["stack"] == ("Hello pylon!", ["hello", "echo"], "stack")


def aws_env_reset(session: boto3.session.Session) -> None:
    """Delete the stacks a test left (the emulator is wiped between tests anyway)."""
    cloudformation = session.client("cloudformation")
    for stack in cloudformation.list_stacks().get("StackSummaries", []):
        if stack["StackStatus"] != "DELETE_COMPLETE":
            cloudformation.delete_stack(StackName=stack["StackName"])


@pytest.mark.slow
def test_up_on_a_deployed_ecs_stack_prints_the_same_summary_as_provisioned(
    aws_env: AwsEndpoint,
) -> None:
    import os

    env = {**os.environ, "PYLON_ENDPOINT": aws_env.endpoint_url, "COLUMNS": "100"}
    runs = [
        subprocess.run(
            [
                str(Path(sys.executable).with_name("pylon")),
                "up",
                "examples/docs_pipeline/pipeline.yaml",
                "--until-idle",
                "2",
                "--teardown",
                *extra,
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        for extra in ([], ["--deploy", "ecs"])
    ]

    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    summaries = [run.stdout[run.stdout.index("published") :] for run in runs]
    assert summaries[0] == summaries[1]
    assert "dataAsset: 3" in summaries[1]


def _snapshot(session: boto3.session.Session) -> dict[str, Any]:
    """Every setting the drift test compares, by queue name and (topic, queue)."""
    sqs, sns = session.client("sqs"), session.client("sns")
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        policy = json.loads(attributes.get("Policy") or "{}")
        statements = [
            {
                "Principal": s.get("Principal"),
                "Action": s.get("Action"),
                "SourceArn": sorted(_as_list(s["Condition"]["ArnEquals"]["aws:SourceArn"])),
            }
            for s in policy.get("Statement", [])
        ]
        queues[url.rsplit("/", 1)[1]] = {
            "VisibilityTimeout": attributes["VisibilityTimeout"],
            "maxReceiveCount": int(redrive.get("maxReceiveCount", 0)),
            "deadLetterTarget": str(redrive.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1],
            "Policy": statements,
        }
    subscriptions = {}
    for subscription in sns.list_subscriptions()["Subscriptions"]:
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"]
        )["Attributes"]
        key = (subscription["TopicArn"].rsplit(":", 1)[1], subscription["Endpoint"].rsplit(":", 1)[1])
        subscriptions[key] = {
            "RawMessageDelivery": attributes.get("RawMessageDelivery"),
            "FilterPolicy": json.loads(attributes.get("FilterPolicy") or "null"),
            "FilterPolicyScope": attributes.get("FilterPolicyScope")
            if attributes.get("FilterPolicy")
            else None,
        }
    return {"queues": queues, "subscriptions": subscriptions}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.slow
def test_the_stack_and_the_local_provisioner_create_the_same_resources(
    aws_env: AwsEndpoint, boto_session: boto3.session.Session, pylon_emulator: Any
) -> None:
    spec = load_spec(ROOT / "examples/docs_pipeline/pipeline.yaml")
    from harness.lineage.recorder import with_lineage_recorder

    provision(with_lineage_recorder(spec), boto_session)
    local = _snapshot(boto_session)
    pylon_emulator.reset()
    deploy(spec, Target.ECS, boto_session)
    stack = _snapshot(boto_session)

    assert len(local["queues"]) == 6 and len(local["subscriptions"]) == 4
    assert local["queues"]["parser-in"]["Policy"], "the queue policy was compared"
    assert stack["queues"].keys() == local["queues"].keys()
    for name in local["queues"]:
        assert stack["queues"][name] == local["queues"][name], name
    assert stack["subscriptions"] == local["subscriptions"]


# ---------------------------------------------------------------- bad input

BAD_TEMPLATES = {
    "yaml": ("Resources:\n  Queue: {Type: AWS::SQS::Queue\n", r"bad\.yaml:\d+: not valid YAML"),
    "json": ('{"Resources": {"Queue": }', r"bad\.yaml:1: not valid JSON"),
    "not a mapping": ("- a\n- list\n", "a template is a mapping"),
    "no resources": ("AWSTemplateFormatVersion: '2010-09-09'\n", "no Resources section"),
    "no type": (
        "Resources:\n  Queue:\n    Properties: {}\n",
        r"bad\.yaml:2: resource Queue has no Type",
    ),
    "unknown type": (
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  Thing:\n    Type: Acme::Widget\n",
        r"bad\.yaml:4: resource Thing has type 'Acme::Widget', which is no CloudFormation",
    ),
    "dangling ref": (
        "Resources:\n  Sub:\n    Type: AWS::SNS::Subscription\n    Properties:\n"
        "      TopicArn: !Ref Missing\n      Protocol: sqs\n      Endpoint: x\n",
        r"bad\.yaml:2: resource Sub refers to \['Missing'\].*dangling",
    ),
    "import value": (
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      QueueName: !ImportValue shared-name\n",
        r"bad\.yaml:2: resource Queue uses Fn::ImportValue",
    ),
    "cycle": (
        "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    DependsOn: B\n"
        "  B:\n    Type: AWS::SQS::Queue\n    DependsOn: A\n",
        r"refer to each other in a circle \(A -> B -> A\)",
    ),
    "computed queue name": (
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      QueueName: !Sub '${AWS::StackName}-in'\n"
        "  Fn:\n    Type: AWS::Lambda::Function\n    Properties: {Handler: a.b, Runtime: python3.11, Role: r, Code: {ZipFile: x}}\n"
        "  Map:\n    Type: AWS::Lambda::EventSourceMapping\n"
        "    Properties: {FunctionName: !Ref Fn, EventSourceArn: !GetAtt Queue.Arn}\n",
        r"bad\.yaml:2: Queue.QueueName is not a plain name",
    ),
    "unknown handler": (
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n"
        "    Properties: {Handler: pylon_lambda_handler.handler, Runtime: python3.11, Role: r, Code: {ZipFile: x}}\n",
        r"bad\.yaml:2: function Fn has handler 'pylon_lambda_handler.handler'",
    ),
    "bad sam": (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: a.b}\n",
        "SAM cannot translate it",
    ),
}


@pytest.mark.parametrize("case", BAD_TEMPLATES)
def test_a_malformed_template_is_a_clear_error_naming_the_resource_and_line(case: str) -> None:
    text, expected = BAD_TEMPLATES[case]

    with pytest.raises(TemplateError, match=expected):
        import_template(parse_template(text, "bad.yaml"))


BAD_SPECS = {
    "filter scope": (
        {"topic": "t", "filter": {"a": ["b"]}, "filter_scope": "envelope"},
        "filter_scope: must be one of",
    ),
    "body scope without filter": ({"topic": "t", "filter_scope": "body"}, "no filter"),
    "raw not a boolean": ({"topic": "t", "raw": "sometimes"}, "raw"),
    "function timeout": ({"function_timeout": 901}, "function_timeout"),
    "batch size": ({"batch_size": 11}, "batch_size"),
    "unlisted bucket": (
        {"buckets": ["elsewhere"]},
        r"buckets\[0\]: bucket 'elsewhere' is not listed",
    ),
}


@pytest.mark.parametrize("case", BAD_SPECS)
def test_a_malformed_spec_for_aws_is_a_clear_error_naming_the_key(case: str) -> None:
    change, expected = BAD_SPECS[case]
    component: dict[str, Any] = {"type": "pipeline", "entrypoint": "m:f"}
    if "topic" in change:
        component["subscribe"] = [change]
    else:
        component.update(change)

    with pytest.raises(SpecError, match=expected):
        spec_from_dict({"name": "bad", "topics": ["t"], "components": {"c": component}}, "bad.yaml")


def test_import_and_export_commands_print_one_red_line_for_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BAD_TEMPLATES["dangling ref"][0])

    imported = run_pylon("import", "cloudformation", str(broken))
    exported = run_pylon("export", "cloudformation", str(tmp_path / "missing.yaml"))

    assert imported.returncode == 1 and "dangling reference" in imported.stderr
    assert "Traceback" not in imported.stderr + exported.stderr
    assert exported.returncode == 1 and "missing.yaml" in exported.stderr


def test_the_template_round_trips_through_yaml_text() -> None:
    template = export_template(load_spec(ROOT / "examples/readme/lineage.yaml"), Target.LAMBDA)
    assert yaml.safe_load(dump_template(template)) == template
