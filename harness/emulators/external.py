"""An emulator somebody else runs (LocalStack in docker, a shared MiniStack): use only.

Selected by `--pylon-endpoint` / `PYLON_TEST_ENDPOINT`. Pylon neither starts nor stops
it, and can wipe its state only if it offers MiniStack's reset endpoint.
"""

from __future__ import annotations

import warnings

from harness.emulators.admin import RESET_PATH, reset_state, wait_until_healthy
from harness.emulators.base import Emulator


class ExternalEmulator(Emulator):
    """A LocalStack-compatible endpoint that is already running."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str = "us-east-1",
        start_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(region)
        self._endpoint_url = endpoint_url.rstrip("/")
        self._start_timeout_s = start_timeout_s
        self._reset_supported = True
        self._attached = False

    @property
    def endpoint_url(self) -> str:
        return self._endpoint_url

    def start(self) -> None:
        """Check the endpoint is up and healthy; it is not ours to launch."""
        wait_until_healthy(self._endpoint_url, self._start_timeout_s)
        self._attached = True

    def stop(self) -> None:
        """Detach; the emulator keeps running, it is not ours to stop."""
        self._attached = False

    def is_running(self) -> bool:
        return self._attached

    def reset(self) -> None:
        """Wipe state if the endpoint supports `POST /_ministack/reset`, else warn once.

        Without a reset, tests share whatever earlier tests created; warning once keeps
        that visible without drowning the test report.
        """
        if not self._reset_supported:
            return
        if reset_state(self._endpoint_url):
            return
        self._reset_supported = False
        warnings.warn(
            f"{self._endpoint_url} has no POST {RESET_PATH}: state is NOT wiped between "
            "tests; give tests unique resource names, or use the embedded MiniStack",
            stacklevel=2,
        )
