"""Config resolution: JSON or SSM, .env override, mandatory keys, artifact naming."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from harness.endpoints import AwsEndpoint
from pylon import ConfigError
from pylon.config import ComponentKind, load_config

TOPIC = "arn:aws:sns:us-east-1:000000000000:out"
PIPELINE = {"INPUT_QUEUE_NAME": "in", "OUTPUT_TOPIC_ARN": TOPIC}


def test_json_config_is_parsed(tmp_path: Path) -> None:
    config = load_config(
        ComponentKind.PIPELINE,
        "task",
        environ={"PYLON_CONFIG": json.dumps({**PIPELINE, "API_KEY": "k"})},
        dotenv_path=tmp_path / "none",
    )
    assert config.input_queue == "in"
    assert config["API_KEY"] == "k"
    assert dict(config) == {**PIPELINE, "API_KEY": "k"}


@pytest.mark.parametrize(
    ("kind", "config", "missing"),
    [
        (ComponentKind.PIPELINE, {"OUTPUT_TOPIC_ARN": TOPIC}, "INPUT_QUEUE_NAME"),
        (ComponentKind.PIPELINE, {"INPUT_QUEUE_NAME": "in"}, "OUTPUT_TOPIC_ARN"),
        (ComponentKind.SOURCE, {}, "OUTPUT_TOPIC_ARN"),
        (ComponentKind.SINK, {"OUTPUT_TOPIC_ARN": TOPIC}, "INPUT_QUEUE_NAME"),
    ],
)
def test_missing_mandatory_key_names_key_and_component_type(
    kind: ComponentKind, config: dict[str, str], missing: str, tmp_path: Path
) -> None:
    expected = f"PYLON_CONFIG key {missing} missing (required for {kind.value})"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(
            kind, "t", environ={"PYLON_CONFIG": json.dumps(config)}, dotenv_path=tmp_path / "x"
        )


def test_sink_does_not_need_an_output_topic(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": '{"INPUT_QUEUE_NAME": "in"}'}
    assert (
        load_config(ComponentKind.SINK, "t", environ=env, dotenv_path=tmp_path / "x").input_queue
        == "in"
    )


def test_malformed_json_reports_position_but_not_content(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": '{"PASSWORD": "hunter2",}'}
    with pytest.raises(ConfigError, match=r"not valid JSON.*line 1 column") as caught:
        load_config(ComponentKind.SOURCE, "t", environ=env, dotenv_path=tmp_path / "x")
    assert "hunter2" not in str(caught.value)


def test_malformed_topic_arn_is_rejected(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": json.dumps({"OUTPUT_TOPIC_ARN": "my-topic"})}
    with pytest.raises(ConfigError, match="OUTPUT_TOPIC_ARN is malformed"):
        load_config(ComponentKind.SOURCE, "t", environ=env, dotenv_path=tmp_path / "x")


def test_config_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a JSON object, got list"):
        load_config(
            ComponentKind.SOURCE, "t", environ={"PYLON_CONFIG": "[1]"}, dotenv_path=tmp_path / "x"
        )


def test_dotenv_overrides_pylon_config_and_names_the_artifact(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "INPUT_QUEUE_NAME=from-dotenv\nIMAGE_NAME=fetcher\nMAJOR=2\nMINOR=5\nPATCH=1\n"
    )
    config = load_config(
        ComponentKind.PIPELINE,
        "task",
        environ={"PYLON_CONFIG": json.dumps(PIPELINE), "IMAGE_NAME": "from-env"},
        dotenv_path=dotenv,
    )
    assert config.input_queue == "from-dotenv"
    assert config.artifact_name == "fetcher"
    assert config.artifact_version == "2.5.1"


def test_artifact_defaults_to_the_task_name_and_zero_version(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": json.dumps(PIPELINE)}
    config = load_config(ComponentKind.PIPELINE, "my_task", environ=env, dotenv_path=tmp_path / "x")
    assert (config.artifact_name, config.artifact_version) == ("my_task", "0.0.0")


def test_repr_never_shows_values(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": json.dumps({**PIPELINE, "DB_PASSWORD": "hunter2"})}
    config = load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")
    assert "hunter2" not in repr(config)
    assert "hunter2" in config.secret_values
    assert "in" not in config.secret_values


def test_integer_setting_out_of_range_is_a_clear_error(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": json.dumps({**PIPELINE, "MAX_MESSAGES": 50})}
    config = load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")
    with pytest.raises(ConfigError, match="MAX_MESSAGES must be between 1 and 10, got 50"):
        _ = config.max_messages


def test_config_from_ssm_securestring_is_decrypted(aws_env: AwsEndpoint, tmp_path: Path) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(
        Name="/pylon/fetcher/config",
        Value=json.dumps({**PIPELINE, "TOKEN": "t0ken"}),
        Type="SecureString",
    )
    env = {"PYLON_CONFIG": "/pylon/fetcher/config"}
    config = load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")
    assert config["TOKEN"] == "t0ken"
    assert config.output_topic_arn == TOPIC


def test_missing_ssm_parameter_is_named(aws_env: AwsEndpoint, tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": "/pylon/nope"}
    with pytest.raises(ConfigError, match="SSM parameter '/pylon/nope' does not exist"):
        load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")


def test_ssm_parameter_holding_bad_json_names_the_parameter(
    aws_env: AwsEndpoint, tmp_path: Path
) -> None:
    boto3.client("ssm").put_parameter(Name="/pylon/bad", Value="not json", Type="String")
    with pytest.raises(
        ConfigError, match="SSM parameter '/pylon/bad' named by PYLON_CONFIG is not valid JSON"
    ):
        load_config(
            ComponentKind.SOURCE,
            "t",
            environ={"PYLON_CONFIG": "/pylon/bad"},
            dotenv_path=tmp_path / "x",
        )


def test_public_config_keys_are_not_redacted_but_everything_else_is(tmp_path: Path) -> None:
    entries = {**PIPELINE, "SOURCE_URL": "http://127.0.0.1:9/index", "API_TOKEN": "t0k3n-value"}
    env = {"PYLON_CONFIG": json.dumps({**entries, "PUBLIC_CONFIG_KEYS": ["SOURCE_URL"]})}
    config = load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")
    assert config.secret_values == ["t0k3n-value"]


def test_public_config_keys_must_be_a_list_of_names(tmp_path: Path) -> None:
    env = {"PYLON_CONFIG": json.dumps({**PIPELINE, "PUBLIC_CONFIG_KEYS": "SOURCE_URL"})}
    config = load_config(ComponentKind.PIPELINE, "t", environ=env, dotenv_path=tmp_path / "x")
    with pytest.raises(ConfigError, match="PUBLIC_CONFIG_KEYS must be a list"):
        _ = config.secret_values
