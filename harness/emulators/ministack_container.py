"""MiniStack in a container (`pylon image build --emulator`): the embedded emulator's
twin, for tests that want a container; it is MiniStack, not LocalStack.

    with MiniStackContainer() as emulator:
        boto3.client("sqs", endpoint_url=emulator.endpoint_url)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from harness.emulators.admin import RESET_PATH, reset_state
from harness.emulators.container import ContainerEmulator, NetworkMode
from harness.emulators.ministack import MINISTACK_VERSION
from harness.errors import EmulatorError

IMAGE_ENV_VAR = "PYLON_MINISTACK_IMAGE"
DEFAULT_IMAGE = f"pylon-ministack:{MINISTACK_VERSION}"


class MiniStackContainer(ContainerEmulator):
    label = "MiniStack in a container"
    slug = "ministack"

    def __init__(
        self,
        *,
        image: str | None = None,
        region: str = "us-east-1",
        network: NetworkMode | None = None,
        extra_env: Mapping[str, str] | None = None,
        start_timeout_s: float = 60.0,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(
            image or environ.get(IMAGE_ENV_VAR) or DEFAULT_IMAGE,
            region=region,
            network=network,
            extra_env=extra_env,
            start_timeout_s=start_timeout_s,
            environ=environ,
        )

    def how_to_get_image(self) -> str:
        return "build it without a registry with `pylon image build --emulator`"

    def reset(self) -> None:
        """Wipe every service's state via `POST /_ministack/reset` (milliseconds)."""
        if not reset_state(self.endpoint_url, path=RESET_PATH):
            raise EmulatorError(
                f"{self.image} at {self.endpoint_url} refused POST {RESET_PATH}; is it MiniStack?"
            )
