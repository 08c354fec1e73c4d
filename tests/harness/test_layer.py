"""`pylon layer build`: what pip is asked for, what the zip holds, and a Lambda that uses it.

The builds resolve python-dotenv and orjson (and, with the SDK, boto3) through pip like any
`pip install`: from pip's cache or the configured index.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.packaging.layer import (
    Architecture,
    LayerBuildError,
    LayerTarget,
    build_layer,
    pip_command,
    runtime_requirements,
)
from harness.packaging.zip_archive import write_entry
from harness.testing.recorder import TopicRecorder
from pylon.models.messages import ObjectType
from tests.conftest import load_event

HELLO = Path(__file__).parents[2] / "examples" / "readme" / "hello.py"


@pytest.fixture(scope="module")
def plain_layer(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    built = build_layer(LayerTarget("3.11"), tmp_path_factory.mktemp("layer") / "layer.zip")
    return zipfile.ZipFile(built.path)


def test_pip_resolves_for_the_lambda_platform_not_this_machine(tmp_path: Path) -> None:
    command = pip_command(LayerTarget("3.12", Architecture.ARM64), tmp_path)

    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert "--only-binary=:all:" in command


def test_the_sdk_is_left_to_the_lambda_runtime_unless_asked_for() -> None:
    names = [requirement.split(">")[0] for requirement in runtime_requirements(False)]
    with_sdk = [requirement.split(">")[0] for requirement in runtime_requirements(True)]

    assert sorted(names) == ["orjson", "python-dotenv"]
    assert sorted(with_sdk) == ["boto3", "orjson", "python-dotenv"]


def test_a_python_version_that_is_not_one_is_refused() -> None:
    with pytest.raises(LayerBuildError, match=r"--python must be .* got '311'"):
        LayerTarget("311")


def test_layer_holds_pylon_dotenv_and_orjson_under_python(plain_layer: zipfile.ZipFile) -> None:
    names = plain_layer.namelist()

    assert all(name.startswith("python/") for name in names)
    assert "python/pylon/__init__.py" in names
    assert "python/pylon/py.typed" in names
    assert "python/dotenv/__init__.py" in names
    assert any(name.startswith("python/orjson/orjson.cpython-311-") for name in names)
    assert not any(name.startswith(("python/boto3/", "python/botocore/")) for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_layer_build_command_reports_the_size(tmp_path: Path) -> None:
    output = tmp_path / "pylon-layer.zip"

    result = CliRunner().invoke(
        app, ["layer", "build", "--python", "3.11", "--arch", "arm64", "-o", str(output)]
    )

    assert result.exit_code == 0, result.output
    size_kb = output.stat().st_size / 1024
    assert f"{output}" in result.output
    assert f"{size_kb:.0f} KiB" in result.output
    assert "python3.11 arm64" in result.output


def _function_zip() -> bytes:
    """Only the component's module: Pylon must come from the layer."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        write_entry(archive, "hello.py", HELLO.read_bytes())
    return buffer.getvalue()


@pytest.mark.slow
def test_a_lambda_runs_a_component_with_pylon_from_the_layer(
    boto_session: boto3.session.Session, tmp_path: Path
) -> None:
    # MiniStack runs handlers with its own interpreter, which has no boto3 (AWS's
    # runtimes do), so this layer brings the SDK.
    layer = build_layer(LayerTarget("3.11", include_sdk=True), tmp_path / "layer.zip")
    lambda_client = boto_session.client("lambda")
    topic_arn = boto_session.client("sns").create_topic(Name="replies")["TopicArn"]
    recorder = TopicRecorder(topic_arn, boto_session)
    layer_arn = lambda_client.publish_layer_version(
        LayerName="pylon",
        Content={"ZipFile": layer.path.read_bytes()},
        CompatibleRuntimes=["python3.11"],
        CompatibleArchitectures=["x86_64"],
    )["LayerVersionArn"]
    lambda_client.create_function(
        FunctionName="hello",
        Runtime="python3.11",
        Handler="hello.lambda_entrypoint",
        Role="arn:aws:iam::000000000000:role/pylon-local",
        Code={"ZipFile": _function_zip()},
        Layers=[layer_arn],
        Environment={
            "Variables": {
                "PYLON_CONFIG": json.dumps({"OUTPUT_TOPIC_ARN": topic_arn, "INPUT_QUEUE_NAME": "in"})
            }
        },
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName="hello")
    event = load_event("sqs_event.json")
    event["Records"] = event["Records"][:1]

    response = lambda_client.invoke(FunctionName="hello", Payload=json.dumps(event).encode())

    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    assert payload == {"batchItemFailures": []}
    (reply,) = recorder.wait_for(1, lambda m: m.objectType is ObjectType.RAW_CONTENT)
    assert reply.body == "Hello pylon!"
    recorder.close()
