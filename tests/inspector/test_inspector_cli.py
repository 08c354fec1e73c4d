"""`pylon ui` and `pylon up --ui` as a user runs them: real subprocesses, stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from harness.testing.waiting import wait_until
from tests.harness.test_cli import HELLO_SPEC, PYLON, ROOT, LineReader

pytestmark = pytest.mark.slow


def unique_hello(tmp_path: Path) -> Path:
    """The README's hello spec under a name no other test used."""
    spec = yaml.safe_load(HELLO_SPEC.read_text())
    suffix = uuid.uuid4().hex[:6]
    spec["name"] = f"hello-{suffix}"
    spec["topics"] = [f"greetings-{suffix}"]
    spec["components"][f"hello-{suffix}"] = spec["components"].pop("hello")
    component = spec["components"][f"hello-{suffix}"]
    component["subscribe"][0]["topic"] = f"greetings-{suffix}"
    component["output_topic"] = f"replies-{suffix}"
    path = tmp_path / "hello.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture
def env(aws_env: AwsEndpoint) -> dict[str, str]:
    return {**os.environ, "PYLON_ENDPOINT": aws_env.endpoint_url, "COLUMNS": "200"}


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait(10)


def start(
    command: list[str], env: dict[str, str], running: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], LineReader]:
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    running.append(process)
    return process, LineReader(process)


def suffix_of(spec: Path) -> str:
    return str(yaml.safe_load(spec.read_text())["name"]).removeprefix("hello-")


def inspector_url(reader: LineReader) -> str:
    reader.wait_for("inspector: http://127.0.0.1:", timeout_s=90)
    line = next(line for line in reader.lines if "inspector: http" in line)
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert found, line
    return found.group(0)


def get(url: str) -> str:
    response = urllib3.request("GET", url)
    assert response.status == 200, (url, response.status)
    return response.data.decode()


def stop(process: subprocess.Popen[str], reader: LineReader) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, "".join(reader.lines)


def test_ui_attaches_to_a_running_pipeline_and_stops_on_ctrl_c(
    env: dict[str, str], running: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    spec = unique_hello(tmp_path)
    provisioned = subprocess.run([PYLON, "provision", str(spec)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
    assert provisioned.returncode == 0, provisioned.stdout + provisioned.stderr
    capture = tmp_path / "seen.jsonl"
    process, reader = start(
        [PYLON, "ui", str(spec), "--port", "0", "--capture", str(capture)], env, running
    )
    url = inspector_url(reader)
    topic = yaml.safe_load(spec.read_text())["topics"][0]

    sent = subprocess.run([PYLON, "send", topic, "--body", "hello from the cli"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr

    queue = f"hello-{suffix_of(spec)}-in"
    assert queue in get(url + "/")
    wait_until(lambda: "hello from the cli" in get(f"{url}/queues/{queue}"), 20,
               what="the sent message on the queue page")  # fmt: skip
    assert "hello from the cli" in capture.read_text()
    stop(process, reader)
    reader.wait_for("stopping the inspector", timeout_s=5)


def test_ui_refuses_a_spec_that_is_not_running_there(aws_env: AwsEndpoint, tmp_path: Path) -> None:
    spec = unique_hello(tmp_path)

    result = CliRunner().invoke(app, ["ui", str(spec), "--endpoint", aws_env.endpoint_url])

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "does not exist at this endpoint; start the pipeline first (`pylon up" in text


def test_up_with_ui_opens_the_inspector_beside_the_pipeline(
    env: dict[str, str], running: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    spec = unique_hello(tmp_path)
    process, reader = start([PYLON, "up", str(spec), "--ui", "--ui-port", "0"], env, running)
    url = inspector_url(reader)
    reader.wait_for("running; Ctrl-C to stop", timeout_s=60)

    # The component logs JSON for the inspector; the console still reads as text.
    wait_until(lambda: "s ago" in get(url + "/"), 30, what="the component's heartbeat")
    reader.wait_for("heartbeat run_forever", timeout_s=10)
    assert not any('{"timestamp"' in line for line in reader.lines), reader.lines
    stop(process, reader)


def test_without_the_ui_extra_the_cli_still_works_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "harness.inspector.server", raising=False)
    spec = unique_hello(tmp_path)

    assert CliRunner().invoke(app, ["--help"]).exit_code == 0
    result = CliRunner().invoke(app, ["ui", str(spec), "--endpoint", "http://127.0.0.1:9"])

    assert result.exit_code == 1
    assert (
        "needs the `ui` extra (uvicorn is not installed): pip install 'pylon-pipelines[harness,ui]'"
        in " ".join(result.output.split())
    )
