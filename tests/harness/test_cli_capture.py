"""`pylon capture` and `pylon replay` through the CLI, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint

EXAMPLES = Path(__file__).parents[2] / "examples"
WIDE = {"COLUMNS": "400"}


@pytest.fixture
def cli(aws_env: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PYLON_ENDPOINT", aws_env.endpoint_url)
    return CliRunner()


def make_queue(name: str, **attributes: str) -> str:
    return boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def send(url: str, count: int) -> None:
    for number in range(count):
        object_type = "dataAsset" if number % 2 else "rawContent"
        boto3.client("sqs").send_message(
            QueueUrl=url,
            MessageBody=f"m{number}",
            MessageAttributes={"objectType": {"DataType": "String", "StringValue": object_type}},
        )


def visible(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def capture_file(cli: CliRunner, tmp_path: Path) -> Path:
    """Four messages captured from a queue with the CLI."""
    send(make_queue("origin"), 4)
    path = tmp_path / "origin.jsonl"
    result = cli.invoke(app, ["capture", "origin", "-o", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    return path


def test_capture_of_a_queue_warns_about_its_redrive_policy(cli: CliRunner, tmp_path: Path) -> None:
    dlq = make_queue("work-dlq")
    dlq_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    url = make_queue(
        "work",
        RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
        ),
    )
    send(url, 3)
    path = tmp_path / "work.jsonl"

    result = cli.invoke(app, ["capture", "work", "--output", str(path)], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "redrive policy (maxReceiveCount 5)" in result.output
    assert f"captured 3 message(s) from queue work into {path}" in result.output
    assert len(records(path)) == 3
    assert visible(url) == 3


def test_capture_of_a_quiet_topic_stops_after_the_time(cli: CliRunner, tmp_path: Path) -> None:
    topic = boto3.client("sns").create_topic(Name="quiet")["TopicArn"]
    path = tmp_path / "quiet.jsonl"

    result = cli.invoke(app, ["capture", "quiet", "-o", str(path), "--seconds", "1"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "captured 0 message(s) from topic quiet" in result.output
    assert path.read_text() == ""
    assert boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_capture_with_own_credentials_uses_the_environment_as_it_is(
    aws_env: AwsEndpoint, tmp_path: Path
) -> None:
    # --aws takes endpoint, region and credentials from the environment unchanged; here
    # that environment points at the emulator, so nothing leaves this machine.
    send(make_queue("remote"), 2)
    path = tmp_path / "remote.jsonl"

    result = CliRunner().invoke(app, ["capture", "remote", "-o", str(path), "--aws"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert [r["source"]["endpoint"] for r in records(path)] == [aws_env.endpoint_url] * 2


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["capture", "nothing-here", "-o", "x.jsonl"], "no queue or topic named 'nothing-here'"),
        (
            ["capture", "q", "-o", "x.jsonl", "--aws", "--endpoint", "http://127.0.0.1:9"],
            "leave out --endpoint",
        ),
        (
            ["capture", "q", "-o", "x.jsonl", "--profile", "p"],
            "--profile and --region apply to --aws only",
        ),
        (["replay", "missing.jsonl", "--to", "origin"], "missing.jsonl: cannot read"),
    ],
)
def test_capture_and_replay_errors_are_one_red_line(
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_queue("origin")

    result = cli.invoke(app, arguments, env=WIDE)

    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and problem in result.output


def test_replay_filters_and_paces(cli: CliRunner, capture_file: Path) -> None:
    url = make_queue("replayed")

    result = cli.invoke(
        app,
        ["replay", str(capture_file), "--to", "replayed", "--object-type", "dataAsset", "--rate", "100",
         "--since", "2000-01-01T00:00:00Z", "--until", "2999-01-01"],
        env=WIDE,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "replayed 2 message(s) into queue replayed (2 filtered out)" in result.output
    assert visible(url) == 2


def test_replay_to_a_component_of_a_spec(cli: CliRunner, capture_file: Path) -> None:
    spec = str(EXAMPLES / "readme" / "hello.yaml")
    assert cli.invoke(app, ["provision", spec]).exit_code == 0

    result = cli.invoke(
        app, ["replay", str(capture_file), "--spec", spec, "--to", "hello"], env=WIDE
    )

    assert result.exit_code == 0, result.output
    assert "replayed 4 message(s) into queue hello-in" in result.output


def test_replay_of_a_corrupt_capture(cli: CliRunner, capture_file: Path) -> None:
    make_queue("replayed")
    text = capture_file.read_text().splitlines()
    capture_file.write_text("\n".join([text[0], '{"v": 1, "body"', *text[1:]]) + "\n")

    refused = cli.invoke(app, ["replay", str(capture_file), "--to", "replayed"], env=WIDE)
    skipped = cli.invoke(
        app, ["replay", str(capture_file), "--to", "replayed", "--skip-bad-lines"], env=WIDE
    )

    assert refused.exit_code == 1
    assert f"{capture_file} line 2: not valid JSON" in refused.output
    assert skipped.exit_code == 0, skipped.output
    assert "replayed 4 message(s)" in skipped.output
    assert "skipped line 2:" in skipped.output


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--since", "yesterday"], "--since: 'yesterday' is not an ISO 8601 date-time"),
        (["--rate", "0"], "positive number of messages per second"),
    ],
)
def test_replay_option_errors(
    cli: CliRunner, capture_file: Path, arguments: list[str], problem: str
) -> None:
    make_queue("replayed")

    result = cli.invoke(
        app, ["replay", str(capture_file), "--to", "replayed", *arguments], env=WIDE
    )

    assert result.exit_code == 1
    assert problem in result.output


def test_replay_to_a_source_component_is_refused(cli: CliRunner, capture_file: Path) -> None:
    spec = str(EXAMPLES / "docs_pipeline" / "pipeline.yaml")

    result = cli.invoke(
        app, ["replay", str(capture_file), "--spec", spec, "--to", "fetcher"], env=WIDE
    )

    assert result.exit_code == 1
    assert "component 'fetcher' is a source; it has no input queue" in result.output


def test_tail_of_a_queue_peeks_without_consuming(cli: CliRunner) -> None:
    url = make_queue("peeked")
    send(url, 2)

    result = cli.invoke(app, ["tail", "peeked", "--count", "2", "--seconds", "30"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "m0" in result.output and "m1" in result.output
    assert visible(url) == 2
