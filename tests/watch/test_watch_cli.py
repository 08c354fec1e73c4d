"""`pylon up --watch` as a user runs it: a subprocess, saves, the printed diff, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.endpoints import AwsEndpoint
from tests.harness.test_cli import PYLON, LineReader
from tests.watch.conftest import Project

pytestmark = pytest.mark.slow


def test_up_watch_restarts_on_save_prints_the_spec_diff_and_stops_on_ctrl_c(
    aws_env: AwsEndpoint, project: Project
) -> None:
    env = {**os.environ, "PYLON_ENDPOINT": aws_env.endpoint_url, "COLUMNS": "200"}
    process = subprocess.Popen(
        [PYLON, "up", str(project.spec_path), "--watch"], env=env, cwd=project.root,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        reader = LineReader(process)
        reader.wait_for("watch | shout running", timeout_s=60)
        project.write_stage("v2")
        reader.wait_for("watch | shout restarting", timeout_s=20)
        reader.wait_for("watch | shout running", timeout_s=20)
        spec = project.spec()
        spec["components"]["keep"]["visibility_timeout"] = 50
        project.write_spec(spec)
        reader.wait_for("~ component keep: visibility_timeout 30 -> 50 (applied in place)", 20)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(reader.lines)
    finally:
        process.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prune"], "--prune applies to --watch only"),
        (["--watch", "--until-idle", "3"], "--watch runs until Ctrl-C; leave out --until-idle"),
        (["--watch", "--deploy", "ecs"], "--watch reloads what `pylon up` provisions itself"),
    ],
)
def test_watch_options_that_do_not_go_together(
    project: Project, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["up", str(project.spec_path), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
