"""The emulators' HTTP admin endpoints: health polling and state reset.

`/_localstack/health` is served by LocalStack and MiniStack alike, so one wait works
for both; `/_ministack/reset` wipes every service's state in a few milliseconds, which
is what lets tests share one emulator process instead of restarting it per test.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from harness.errors import EmulatorError

HEALTH_PATH = "/_localstack/health"
RESET_PATH = "/_ministack/reset"
LOCALSTACK_RESET_PATH = "/_localstack/state/reset"

# Refused connections cost nothing: a short interval starts work sooner after boot.
_POLL_INTERVAL_S = 0.02
_PROBE_TIMEOUT_S = 1.0

# Without this, urllib routes loopback requests through any HTTP_PROXY in the
# environment: the proxy cannot reach this machine's emulator, and should not see it.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _url(endpoint_url: str, path: str) -> str:
    return endpoint_url.rstrip("/") + path


def _always() -> bool:
    return True


def health_error(
    endpoint_url: str, timeout_s: float = _PROBE_TIMEOUT_S, path: str = HEALTH_PATH
) -> str | None:
    """Why the endpoint is not healthy right now, or None when it is."""
    try:
        with _opener.open(_url(endpoint_url, path), timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} from {path}"
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if status == 200 else f"HTTP {status} from {path}"


def wait_until_healthy(
    endpoint_url: str,
    deadline_s: float = 30.0,
    *,
    keep_waiting: Callable[[], bool] = _always,
    path: str = HEALTH_PATH,
) -> None:
    """Poll the health endpoint until it answers 200, for at most `deadline_s` seconds.

    `keep_waiting` lets the owner of a process stop the wait as soon as the process
    dies, instead of burning the whole deadline on an emulator that will never come up.
    """
    give_up_at = time.monotonic() + deadline_s
    while True:
        remaining = give_up_at - time.monotonic()
        probe_timeout = max(0.1, min(_PROBE_TIMEOUT_S, remaining))
        error = health_error(endpoint_url, timeout_s=probe_timeout, path=path)
        if error is None:
            return
        if not keep_waiting():
            raise EmulatorError(
                f"emulator at {endpoint_url} stopped before it became healthy "
                f"(last health check: {error})"
            )
        if remaining <= 0:
            raise EmulatorError(
                f"emulator at {endpoint_url} not healthy after {deadline_s:g} s "
                f"(last health check: {error}); is it running, and on that port?"
            )
        time.sleep(min(_POLL_INTERVAL_S, remaining))


def reset_state(endpoint_url: str, timeout_s: float = 30.0, path: str = RESET_PATH) -> bool:
    """Wipe all emulator state; False when the endpoint has no reset at `path`.

    A client error (404, 405, ...) means "this emulator does not offer reset", which
    the caller may tolerate; anything else means the emulator is broken or gone.
    LocalStack's own wipe is `LOCALSTACK_RESET_PATH`.
    """
    request = urllib.request.Request(_url(endpoint_url, path), data=b"", method="POST")
    try:
        with _opener.open(request, timeout=timeout_s):
            return True
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            return False
        raise EmulatorError(
            f"POST {path} on {endpoint_url} failed with HTTP {exc.code}; "
            "the emulator's log should say why"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise EmulatorError(
            f"POST {path} on {endpoint_url} failed ({exc}); is the emulator still running?"
        ) from exc
