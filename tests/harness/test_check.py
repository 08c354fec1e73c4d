"""`pylon check`: each rule found where it applies, quiet where it does not, and documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cloudformation.checks import RULES, Finding, Severity, check_spec, check_template
from harness.cloudformation.template_io import parse_template
from harness.spec import load_spec, spec_from_dict

ROOT = Path(__file__).parents[2]


def _template(resources: dict[str, Any]) -> list[Finding]:
    return check_template(parse_template(json.dumps({"Resources": resources}), "t.json"))


def _rules(findings: list[Finding]) -> set[str]:
    return {finding.rule for finding in findings}


QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "in", "VisibilityTimeout": 30,
         "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}}}  # fmt: skip
DLQ = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "in-dlq"}}
FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 5, "Handler": "a.b"}}


def _mapping(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "FunctionName": {"Ref": "Fn"},
            **properties,
        },
    }


def test_pyl001_a_mapping_without_report_batch_item_failures() -> None:
    bad = _template({"Queue": QUEUE, "Dlq": DLQ, "Fn": FUNCTION, "Map": _mapping()})
    good = _template(
        {"Queue": QUEUE, "Dlq": DLQ, "Fn": FUNCTION,
         "Map": _mapping(FunctionResponseTypes=["ReportBatchItemFailures"])}
    )  # fmt: skip

    assert "PYL001" in _rules(bad) and "PYL001" not in _rules(good)
    (finding,) = [f for f in bad if f.rule == "PYL001"]
    assert finding.resource == "Map" and "whole batch" in finding.message


def test_pyl002_a_visibility_timeout_under_six_times_the_function_timeout() -> None:
    slow = {**FUNCTION, "Properties": {"Timeout": 10, "Handler": "a.b"}}
    findings = _template({"Queue": QUEUE, "Dlq": DLQ, "Fn": slow,
                          "Map": _mapping(FunctionResponseTypes=["ReportBatchItemFailures"])})  # fmt: skip

    (finding,) = [f for f in findings if f.rule == "PYL002"]
    assert finding.resource == "Queue" and "60 s" in finding.message


def test_pyl003_a_queue_without_a_dead_letter_queue() -> None:
    findings = _template(
        {"Lonely": {"Type": "AWS::SQS::Queue", "Properties": {}}, "Queue": QUEUE, "Dlq": DLQ}
    )

    assert [f.resource for f in findings if f.rule == "PYL003"] == ["Lonely"]


def test_pyl004_a_filter_on_an_attribute_no_component_sets() -> None:
    spec = spec_from_dict(
        {
            "name": "p",
            "payloads": {"s3_path": "s3://payloads/o/"},
            "buckets": ["payloads"],
            "components": {
                "a": {"type": "source", "entrypoint": "m:f"},
                "b": {"type": "sink", "entrypoint": "m:f",
                      "subscribe": [{"topic": "a-out", "filter": {"colour": ["red"]}}]},
            },
        }
    )  # fmt: skip

    (finding,) = [f for f in check_spec(spec) if f.rule == "PYL004"]
    assert "'colour'" in finding.message and finding.severity is Severity.WARNING


def test_pyl005_raw_delivery_off_for_a_pylon_consumer() -> None:
    spec = spec_from_dict(
        {"name": "p", "topics": ["t"],
         "components": {"c": {"type": "sink", "entrypoint": "m:f", "subscribe": [{"topic": "t", "raw": False}]}}}
    )  # fmt: skip

    assert [f.resource for f in check_spec(spec) if f.rule == "PYL005"] == ["CFromT"]


def test_pyl006_a_standard_topic_feeding_a_fifo_queue() -> None:
    findings = _template(
        {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "events"}},
            "Queue": {**QUEUE, "Properties": {**QUEUE["Properties"], "QueueName": "in.fifo"}},
            "Dlq": DLQ,
            "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}, "Protocol": "sqs"}},
        }
    )  # fmt: skip

    assert [f.resource for f in findings if f.rule == "PYL006"] == ["Sub"]


def test_pyl007_a_queue_policy_open_to_any_topic() -> None:
    policy = {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": "*"}]}}}  # fmt: skip

    findings = _template({"Queue": QUEUE, "Dlq": DLQ, "Policy": policy})

    assert [f.resource for f in findings if f.rule == "PYL007"] == ["Policy"]


def test_pyl008_outputs_with_no_payload_bucket() -> None:
    spec = load_spec(ROOT / "examples/readme/hello.yaml")

    assert [f.resource for f in check_spec(spec) if f.rule == "PYL008"] == ["hello"]


def test_pyl009_a_loop_with_no_filter_is_an_error_and_a_filtered_one_is_not() -> None:
    def looped(filtered: bool) -> list[Finding]:
        subscription: dict[str, Any] = {"topic": "b-out"}
        if filtered:
            subscription["filter"] = {"objectType": ["dataAsset"]}
        return check_spec(spec_from_dict({"name": "loop", "components": {
            "a": {"type": "pipeline", "entrypoint": "m:f", "subscribe": [subscription]},
            "b": {"type": "pipeline", "entrypoint": "m:f", "subscribe": ["a-out"]},
        }}))  # fmt: skip

    (finding,) = [f for f in looped(False) if f.rule == "PYL009"]
    assert "a -> b -> a" in finding.message and finding.severity is Severity.ERROR
    assert "PYL009" not in _rules(looped(True))


@pytest.mark.parametrize("spec_file", ["examples/docs_pipeline/pipeline.yaml"])
def test_the_example_pipeline_has_no_finding(spec_file: str) -> None:
    assert check_spec(load_spec(ROOT / spec_file)) == []


def test_every_rule_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for rule in RULES.values():
        assert f"`{rule.id}`" in readme, rule.id


def test_check_exits_1_on_errors_and_prints_json(tmp_path: Path) -> None:
    spec = tmp_path / "loop.yaml"
    spec.write_text(
        "name: loop\ncomponents:\n"
        "  a: {type: pipeline, entrypoint: 'm:f', subscribe: [b-out]}\n"
        "  b: {type: pipeline, entrypoint: 'm:f', subscribe: [a-out]}\n"
    )
    run = [sys.executable, "-m", "harness.cli.main", "check"]

    failing = subprocess.run(
        [*run, str(spec), "--format", "json"], capture_output=True, text=True, check=False
    )
    clean = subprocess.run(
        [*run, "examples/docs_pipeline/pipeline.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert failing.returncode == 1, failing.stderr
    assert {item["rule"] for item in json.loads(failing.stdout)} >= {"PYL009", "PYL008"}
    assert clean.returncode == 0 and clean.stdout.strip() == "no findings"
