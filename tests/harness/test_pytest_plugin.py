"""The pytest plugin's options and the external-endpoint emulator it selects.

Inner pytest sessions (pytester) load the plugin through its entry point, exactly as
a user's project does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.emulators import Emulator, ExternalEmulator
from harness.errors import EmulatorError

pytest_plugins = ["pytester"]

USES_BOTO_SESSION = """
def test_queue_roundtrip(boto_session, aws_env):
    sqs = boto_session.client("sqs")
    assert sqs.meta.endpoint_url == aws_env.endpoint_url
    sqs.create_queue(QueueName="inner")
    assert len(sqs.list_queues()["QueueUrls"]) == 1
"""


class _HealthOnly(BaseHTTPRequestHandler):
    """A LocalStack-like endpoint: healthy, but without MiniStack's reset."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/_localstack/health" else 404)
        self.end_headers()

    def do_POST(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def health_only_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_external_emulator_resets_a_running_ministack(pylon_emulator: Emulator) -> None:
    with ExternalEmulator(pylon_emulator.endpoint_url) as external:
        external.reset()
        assert external.endpoint == pylon_emulator.endpoint


@pytest.mark.filterwarnings("error")  # so a second warning would fail the test
def test_external_emulator_without_reset_warns_only_once(health_only_url: str) -> None:
    with ExternalEmulator(health_only_url) as external:
        with pytest.warns(UserWarning, match="state is NOT wiped"):
            external.reset()
        external.reset()


def test_external_emulator_that_is_not_running_fails_to_start() -> None:
    with pytest.raises(EmulatorError, match="not healthy"):
        ExternalEmulator("http://127.0.0.1:9", start_timeout_s=0.3).start()


def test_endpoint_option_uses_the_running_emulator(
    pytester: pytest.Pytester, pylon_emulator: Emulator
) -> None:
    pytester.makepyfile(USES_BOTO_SESSION)

    result = pytester.runpytest_subprocess(f"--pylon-endpoint={pylon_emulator.endpoint_url}")

    result.assert_outcomes(passed=1)


def test_endpoint_env_var_uses_the_running_emulator(
    pytester: pytest.Pytester, pylon_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYLON_TEST_ENDPOINT", pylon_emulator.endpoint_url)
    pytester.makepyfile(USES_BOTO_SESSION)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)


def test_remote_endpoint_is_refused_without_allow_remote(pytester: pytest.Pytester) -> None:
    # Refused before any request is made: nothing is sent to 10.0.0.1.
    pytester.makepyfile(USES_BOTO_SESSION)

    result = pytester.runpytest_subprocess("--pylon-endpoint=http://10.0.0.1:4566")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*not on this machine*--pylon-allow-remote*"])


def test_without_endpoint_a_fresh_ministack_is_started(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ministack_cache_dir: Path
) -> None:
    monkeypatch.setenv("PYLON_CACHE_DIR", str(ministack_cache_dir))
    pytester.makepyfile(USES_BOTO_SESSION)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)
