"""Real LocalStack in a container, paired with MiniStack for what it cannot serve offline.

    with LocalStackEmulator() as emulator:
        emulator.endpoint   # LocalStack for SQS, SNS, S3, SSM, ...; MiniStack for DynamoDB, Lambda

The image is, in order: `$PYLON_LOCALSTACK_IMAGE`; the official community tag below if
the Docker engine has it; `pylon-localstack:<version>` built from `localstack/` with
`pylon image build --localstack`. An image that answers health checks but is not
LocalStack (the MiniStack image, say) is refused: use `MiniStackContainer` for that.

Offline, LocalStack cannot serve two services Pylon uses: DynamoDB (it downloads the
DynamoDB Local jar on first use) and Lambda (it runs functions through a Docker
executor). Those go to an embedded MiniStack started beside it, through boto3's
per-service endpoint variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_LAMBDA`)
that `endpoint` carries. Nothing else is routed away from LocalStack.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.containers.images import image_present
from harness.emulators.container import ContainerEmulator, NetworkMode
from harness.emulators.ministack import MiniStack
from harness.emulators.wipe import wipe
from harness.endpoints import AwsEndpoint
from harness.errors import EmulatorError

if TYPE_CHECKING:
    import docker

LOCALSTACK_VERSION = "2026.3.0"
# Since 2026-03-23 `localstack/localstack:latest` (and every tag from 4.15 on) refuses to
# start without LOCALSTACK_AUTH_TOKEN; 4.14.0 is the last community image that runs
# without one. Used when the engine has it (it cannot be pulled where no registry is).
OFFICIAL_IMAGE = "localstack/localstack:4.14.0"
BUILT_IMAGE = f"pylon-localstack:{LOCALSTACK_VERSION}"
IMAGE_ENV_VAR = "PYLON_LOCALSTACK_IMAGE"
AUTH_TOKEN_ENV_VAR = "LOCALSTACK_AUTH_TOKEN"
BUILD_COMMAND = "pylon image build --localstack"

# What LocalStack cannot serve offline, and MiniStack serves instead.
ROUTED_TO_MINISTACK = ("dynamodb", "lambda")
# What LocalStack serves for Pylon, and what a reset wipes there.
SERVED_BY_LOCALSTACK = ("sqs", "sns", "s3", "ssm", "cloudformation")
# Nothing leaves the machine: no analytics, no download of LocalStack's TLS certificate,
# no DNS server forwarding to upstream resolvers (the official image needs these too).
# Queue URLs name the host the client used (127.0.0.1:<port>), not a public DNS name
# (`sqs.<region>.localhost.localstack.cloud`) that would be looked up on the network.
LOCAL_ENV = {
    "DISABLE_EVENTS": "1",
    "SKIP_SSL_CERT_DOWNLOAD": "1",
    "DNS_ADDRESS": "0",
    "SQS_ENDPOINT_STRATEGY": "dynamic",
}
INFO_PATH = "/_localstack/info"
READY_HOOKS = "/etc/localstack/init/ready.d"
READY_HOOKS_PATH = "/_localstack/init/ready"


class LocalStackEmulator(ContainerEmulator):
    """LocalStack (official image or built from `localstack/`) plus an embedded MiniStack."""

    label = "LocalStack"
    slug = "localstack"

    def __init__(
        self,
        *,
        image: str | None = None,
        region: str = "us-east-1",
        network: NetworkMode | None = None,
        extra_env: Mapping[str, str] | None = None,
        start_timeout_s: float = 120.0,
        environ: Mapping[str, str] = os.environ,
        init_hooks: Path | None = None,
    ) -> None:
        """Configure, without starting anything; the image is chosen when starting.

        `init_hooks` is a folder of LocalStack init hooks (`pylon provision --init-hook`),
        mounted as /etc/localstack/init/ready.d; `start()` returns once they have run.
        """
        env = {**LOCAL_ENV, **(extra_env or {})}
        token = environ.get(AUTH_TOKEN_ENV_VAR)
        if token:
            env[AUTH_TOKEN_ENV_VAR] = token
        self._companion = MiniStack(region=region)
        super().__init__(
            image or environ.get(IMAGE_ENV_VAR) or "",
            region=region,
            network=network,
            extra_env=env,
            start_timeout_s=start_timeout_s,
            environ=environ,
            volumes={init_hooks: READY_HOOKS} if init_hooks else None,
        )
        self.version: str | None = None
        self._waits_for_hooks = init_hooks is not None

    def choose_image(self, docker_engine: docker.DockerClient) -> str:
        if self.image:
            return self.image
        for candidate in (OFFICIAL_IMAGE, BUILT_IMAGE):
            if image_present(docker_engine, candidate):
                return candidate
        raise EmulatorError(
            f"no LocalStack image on this Docker engine: ${IMAGE_ENV_VAR} is not set, and "
            f"neither {OFFICIAL_IMAGE} nor {BUILT_IMAGE} is present; build the latter, "
            f"offline, with `{BUILD_COMMAND}`"
        )

    def how_to_get_image(self) -> str:
        return f"build LocalStack without a registry with `{BUILD_COMMAND}`"

    def check_identity(self, endpoint_url: str) -> None:
        """LocalStack serves `/_localstack/info` with its version; MiniStack does not."""
        self.version = localstack_version(endpoint_url)
        if self.version is None:
            raise EmulatorError(
                f"{self.image} answers LocalStack's health check at {endpoint_url} but is not "
                f"LocalStack (it has no {INFO_PATH}); for the MiniStack image use the "
                "`ministack-container` emulator, for LocalStack build it with "
                f"`{BUILD_COMMAND}`"
            )

    def start(self) -> None:
        """Start MiniStack (DynamoDB, Lambda), then LocalStack (and its init hooks, which
        reach MiniStack through `PYLON_HOOK_ENDPOINT_<SERVICE>`); no-op if running."""
        if self.is_running():
            return
        self._companion.start()
        for service in ROUTED_TO_MINISTACK:
            self._env[f"PYLON_HOOK_ENDPOINT_{service.upper()}"] = self._companion.endpoint_url
        try:
            super().start()
            if self._waits_for_hooks:
                wait_for_ready_hooks(self.endpoint_url, self._start_timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        super().stop()
        self._companion.stop()

    @property
    def localstack_host(self) -> str:
        """`host:port` for code written for `localstack_client` (its LOCALSTACK_HOST)."""
        return self.endpoint_url.removeprefix("http://")

    @property
    def endpoint(self) -> AwsEndpoint:
        """LocalStack's endpoint, with DynamoDB and Lambda sent to the MiniStack beside it."""
        routed = tuple((service, self._companion.endpoint_url) for service in ROUTED_TO_MINISTACK)
        return AwsEndpoint(self.endpoint_url, self.region, routed)

    def reset(self) -> None:
        """Wipe LocalStack through the APIs (its community edition has no reset endpoint)
        and MiniStack with its own reset."""
        wipe(self.endpoint, SERVED_BY_LOCALSTACK)
        self._companion.reset()


def wait_for_ready_hooks(endpoint_url: str, timeout_s: float) -> None:
    """Until LocalStack says its ready.d hooks ran; an error naming any that failed."""

    give_up_at = time.monotonic() + timeout_s
    while not (status := _get_json(endpoint_url, READY_HOOKS_PATH) or {}).get("completed"):
        if time.monotonic() > give_up_at:
            raise EmulatorError(
                f"LocalStack's init hooks at {endpoint_url} had not run after {timeout_s:g} s "
                f"(last status: {status or 'no answer'})"
            )
        time.sleep(0.2)
    failed = [s["name"] for s in status.get("scripts", []) if s.get("state") != "SUCCESSFUL"]
    if failed:
        raise EmulatorError(
            f"LocalStack's init hook(s) {failed} failed at {endpoint_url}; the container's "
            "log has their traceback"
        )


def _get_json(endpoint_url: str, path: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(endpoint_url.rstrip("/") + path, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def localstack_version(endpoint_url: str) -> str | None:
    """The version LocalStack reports at `/_localstack/info`, or None when it is not there."""
    info = _get_json(endpoint_url, INFO_PATH)
    version = info.get("version") if isinstance(info, dict) else None
    return str(version) if version else None
