"""This example's own config keys, read from the component config with errors naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pylon

DEFAULT_TIMEOUT_SECONDS = 10.0


def required_text(config: Mapping[str, Any], key: str, meaning: str) -> str:
    """A mandatory non-empty string setting, e.g. `required_text(config, "SOURCE_URL", ...)`."""
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise pylon.ConfigError(f"PYLON_CONFIG key {key} missing or empty (it is {meaning})")
    return value.strip()


def http_timeout(config: Mapping[str, Any]) -> float:
    """`HTTP_TIMEOUT_SECONDS` (default 10): how long one GET may take."""
    raw = config.get("HTTP_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    try:
        timeout = float(raw)
    except (TypeError, ValueError):
        raise pylon.ConfigError(
            f"PYLON_CONFIG key HTTP_TIMEOUT_SECONDS must be a number of seconds, got {raw!r}"
        ) from None
    if not 0 < timeout <= 300:
        raise pylon.ConfigError(
            f"PYLON_CONFIG key HTTP_TIMEOUT_SECONDS must be between 0 and 300, got {timeout:g}"
        )
    return timeout
