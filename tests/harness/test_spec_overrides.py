"""`pylon provision` for components run elsewhere: service ports, config in SSM, short polls."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.spec import load_spec
from harness.spec.overrides import (
    SpecOverrideError,
    parse_service_ports,
    with_config_in_ssm,
    with_external_services,
)

DOCS_SPEC = Path(__file__).parents[2] / "examples" / "docs_pipeline" / "pipeline.yaml"


@pytest.mark.parametrize("pair", ["docs-server", "docs-server=", "=8080", "docs-server=http", "a=70000"])
def test_a_malformed_service_port_is_named(pair: str) -> None:
    with pytest.raises(SpecOverrideError, match=f"--service must be NAME=PORT .*got '{pair}'"):
        parse_service_ports([pair])


def test_service_ports_fill_the_components_config() -> None:
    spec = with_external_services(load_spec(DOCS_SPEC), parse_service_ports(["docs-server=8080"]))

    assert spec.components["fetcher"].config["SOURCE_URL"] == "http://127.0.0.1:8080/index.json"


def test_a_service_left_without_port_says_how_to_give_it() -> None:
    with pytest.raises(SpecOverrideError, match=r"docs-server.*--service NAME=PORT"):
        with_external_services(load_spec(DOCS_SPEC), {})


def test_a_service_the_spec_does_not_have_is_refused() -> None:
    with pytest.raises(SpecOverrideError, match=r"--service names \['web'\].*\['docs-server'\]"):
        with_external_services(load_spec(DOCS_SPEC), {"web": 80, "docs-server": 81})


def test_config_in_ssm_applies_to_every_component() -> None:
    spec = with_config_in_ssm(load_spec(DOCS_SPEC))

    assert all(component.config_in_ssm for component in spec.components.values())


def test_provision_command_stores_each_components_config_in_ssm(
    aws_env: AwsEndpoint, boto_session: boto3.session.Session
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "provision", str(DOCS_SPEC), "--endpoint", aws_env.endpoint_url,
            "--service", "docs-server=8080", "--config-in-ssm", "--local-polling", "--wait", "10",
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    ssm = boto_session.client("ssm")
    stored = {
        name: json.loads(
            ssm.get_parameter(Name=f"/pylon/docs/{name}", WithDecryption=True)["Parameter"]["Value"]
        )
        for name in ("fetcher", "parser", "lake-writer")
    }
    assert stored["fetcher"]["SOURCE_URL"] == "http://127.0.0.1:8080/index.json"
    assert stored["parser"]["INPUT_QUEUE_NAME"] == "parser-in"
    assert {config["WAIT_TIME_SECONDS"] for config in stored.values()} == {1}
    assert "/pylon/docs/lake-writer" in result.output
