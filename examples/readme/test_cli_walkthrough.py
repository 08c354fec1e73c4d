"""The README's CLI walkthrough script, run as a user would, against the test emulator."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_capture_replay_lineage_walkthrough(aws_env, tmp_path):  # type: ignore[no-untyped-def]
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PYLON_ENDPOINT": aws_env.endpoint_url,
        "OUT": str(tmp_path),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "200",
    }

    done = subprocess.run(
        ["bash", "examples/readme/capture_replay_lineage.sh"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "captured 3 message(s) from queue hello-in" in done.stdout
    assert "replayed 3 message(s) into queue echo-in" in done.stdout
    # The greetings were sent by hand (no ingestionId), so hello's step is the root.
    assert "(2 steps, root source first)" in done.stdout
    assert "hello 1.0.0" in done.stdout and "echo 2.1.0" in done.stdout
    assert (tmp_path / "greeter.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "c_pylon_lineage" in (tmp_path / "greeter.mmd").read_text()
    events = (tmp_path / "openlineage.jsonl").read_text().splitlines()
    # 3 hello steps, 3 echo steps from hello's replies and 3 from the replayed greetings.
    assert len(events) == 9


@pytest.mark.slow
def test_deploy_to_aws_sequence(aws_env, tmp_path):  # type: ignore[no-untyped-def]
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PYLON_ENDPOINT": aws_env.endpoint_url,
        "OUT": str(tmp_path),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "200",
    }

    done = subprocess.run(
        ["bash", "examples/readme/deploy_to_aws.sh"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no findings" in done.stdout
    assert "stack pylon-docs is ready" in done.stdout
    assert "dataAsset: 3" in done.stdout
    assert "round trip: the same template" in done.stdout
