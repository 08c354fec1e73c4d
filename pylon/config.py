"""Component configuration, resolved once: environment + PYLON_CONFIG + `.env`.

`PYLON_CONFIG` is either a JSON object or the name of an SSM parameter holding one
(SecureString decrypted). A `.env` file is loaded with python-dotenv and its keys override
both the environment and PYLON_CONFIG. Nothing else in Pylon reads `os.environ`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from pylon.errors import ConfigError
from pylon.s3_pointer import PointerFormat


class ComponentKind(StrEnum):
    PIPELINE = "PipelineComponent"
    SOURCE = "SourceComponent"
    SINK = "SinkComponent"


REQUIRED_KEYS: dict[ComponentKind, tuple[str, ...]] = {
    ComponentKind.PIPELINE: ("INPUT_QUEUE_NAME", "OUTPUT_TOPIC_ARN"),
    ComponentKind.SOURCE: ("OUTPUT_TOPIC_ARN",),
    ComponentKind.SINK: ("INPUT_QUEUE_NAME",),
}

# Keys whose values are safe to show in logs; every other config value is treated as secret.
PUBLIC_KEYS = frozenset(
    {
        "INPUT_QUEUE_NAME",
        "OUTPUT_TOPIC_ARN",
        "OUTPUT_PAYLOAD_S3_PATH",
        "IMAGE_NAME",
        "MAJOR",
        "MINOR",
        "PATCH",
        "LOG_FORMAT",
        "LOG_LEVEL",
        "WAIT_TIME_SECONDS",
        "MAX_MESSAGES",
        "SOURCE_INTERVAL_SECONDS",
        "VISIBILITY_TIMEOUT",
        "TASK_TIMEOUT_SECONDS",
        "LIVENESS_INTERVAL_SECONDS",
        "PAYLOAD_POINTER_FORMAT",
        "MESSAGE_GROUP_ATTRIBUTE",
        "PUBLIC_CONFIG_KEYS",
    }
)

# SQS keeps a message invisible for at most 12 hours after it was first received.
_SQS_MAX_VISIBILITY_SECONDS = 12 * 3600

_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_SSM_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")

SsmReader = Callable[[str], str]


@dataclass(frozen=True, repr=False)
class ComponentConfig(Mapping[str, Any]):
    """The user's config dict (what tasks receive) plus typed Pylon settings.

    It is a read-only Mapping so tasks use it like the seed's dict (`config["KEY"]`), and
    its repr hides every value: config commonly carries credentials.
    """

    kind: ComponentKind
    entries: Mapping[str, Any] = field(default_factory=dict)
    artifact_name: str = "pylon-component"
    artifact_version: str = "0.0.0"

    def __getitem__(self, key: str) -> Any:
        return self.entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"ComponentConfig(kind={self.kind.value}, keys={sorted(self.entries)})"

    @property
    def input_queue(self) -> str:
        return str(self.entries["INPUT_QUEUE_NAME"])

    @property
    def output_topic_arn(self) -> str:
        return str(self.entries["OUTPUT_TOPIC_ARN"])

    @property
    def payload_s3_path(self) -> str | None:
        value = self.entries.get("OUTPUT_PAYLOAD_S3_PATH")
        return str(value) if value else None

    @property
    def message_group_attribute(self) -> str | None:
        """For a FIFO output topic: the output attribute whose value is the message group."""
        value = self.entries.get("MESSAGE_GROUP_ATTRIBUTE")
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(
                f"config key MESSAGE_GROUP_ATTRIBUTE must be an attribute name, got {value!r}"
            )
        return value

    @property
    def wait_time_seconds(self) -> int:
        return self._int("WAIT_TIME_SECONDS", 20, 0, 20)

    @property
    def max_messages(self) -> int:
        return self._int("MAX_MESSAGES", 10, 1, 10)

    @property
    def source_interval_seconds(self) -> int:
        return self._int("SOURCE_INTERVAL_SECONDS", 60, 0, 86_400)

    @property
    def visibility_timeout(self) -> int | None:
        """Seconds a received message stays leased to this consumer (renewed while in hand);
        None means the queue's own VisibilityTimeout. SQS allows at most 12 hours."""
        if self.entries.get("VISIBILITY_TIMEOUT") is None:
            return None
        return self._int("VISIBILITY_TIMEOUT", 30, 1, _SQS_MAX_VISIBILITY_SECONDS)

    @property
    def task_timeout_seconds(self) -> int | None:
        """How long one message may be in hand before it counts as hung; None or 0: no limit."""
        value = self._int("TASK_TIMEOUT_SECONDS", 0, 0, _SQS_MAX_VISIBILITY_SECONDS)
        return value or None

    @property
    def liveness_interval_seconds(self) -> int:
        """At most one `liveness run_forever` line per this many seconds; 0: none."""
        return self._int("LIVENESS_INTERVAL_SECONDS", 60, 0, 86_400)

    @property
    def payload_pointer_format(self) -> PointerFormat:
        """How offloaded outputs point at S3: the extended clients' current format, or their
        legacy one for consumers that only know it (older Java releases)."""
        return PointerFormat(
            self._choice("PAYLOAD_POINTER_FORMAT", "extended", tuple(PointerFormat))
        )

    @property
    def log_format(self) -> str:
        return self._choice("LOG_FORMAT", "text", ("text", "json"))

    @property
    def log_level(self) -> str:
        return self._choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))

    def check_settings(self) -> None:
        """Read every typed setting once, so a malformed one stops the component at start-up
        with a ConfigError naming it, instead of failing every poll later."""
        for setting in _SETTINGS:
            getattr(self, setting)

    @property
    def secret_values(self) -> list[str]:
        """Values that must never appear in logs: every config value, unless its key is one
        of Pylon's resource keys or listed by the user in PUBLIC_CONFIG_KEYS (safe by
        default: a new key is secret until declared otherwise)."""
        public = PUBLIC_KEYS | set(self.public_config_keys)
        return [
            str(v)
            for k, v in self.entries.items()
            if k not in public and isinstance(v, str | int | float) and len(str(v)) >= 4
        ]

    @property
    def public_config_keys(self) -> list[str]:
        declared = self.entries.get("PUBLIC_CONFIG_KEYS", [])
        if not isinstance(declared, list) or not all(isinstance(k, str) for k in declared):
            raise ConfigError(
                f"config key PUBLIC_CONFIG_KEYS must be a list of key names, got {declared!r}"
            )
        return declared

    def _choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = str(self.entries.get(key, default))
        match = next((a for a in allowed if a.lower() == value.lower()), None)
        if match is None:
            raise ConfigError(f"config key {key} must be one of {list(allowed)}, got {value!r}")
        return match

    def _int(self, key: str, default: int, low: int, high: int) -> int:
        raw = self.entries.get(key, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"config key {key} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"config key {key} must be between {low} and {high}, got {value}")
        return value


# The typed settings `check_settings` validates up front.
_SETTINGS = (
    "wait_time_seconds",
    "max_messages",
    "source_interval_seconds",
    "visibility_timeout",
    "task_timeout_seconds",
    "liveness_interval_seconds",
    "payload_pointer_format",
    "message_group_attribute",
    "log_format",
    "log_level",
    "public_config_keys",
)


def load_config(
    kind: ComponentKind,
    default_artifact_name: str,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = None,
    ssm_reader: SsmReader | None = None,
) -> ComponentConfig:
    """Resolve the configuration of one component; raise ConfigError naming the problem."""
    env = dict(os.environ if environ is None else environ)
    dotenv = _read_dotenv(dotenv_path or env.get("PYLON_DOTENV_PATH") or ".env")
    env.update(dotenv)
    values = _parse_pylon_config(env.get("PYLON_CONFIG"), ssm_reader)
    values.update({k: v for k, v in dotenv.items() if k != "PYLON_CONFIG"})
    _check_required(kind, values)
    return ComponentConfig(
        kind=kind,
        entries=values,
        artifact_name=str(
            values.get("IMAGE_NAME") or env.get("IMAGE_NAME") or default_artifact_name
        ),
        artifact_version=_version(values, env),
    )


def _read_dotenv(path: str | Path) -> dict[str, str]:
    if not Path(path).is_file():
        return {}
    try:
        values = dotenv_values(path, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f".env file {path} is not UTF-8 text (byte offset {exc.start}); save it as UTF-8"
        ) from None
    return {k: v for k, v in values.items() if v is not None}


def _parse_pylon_config(raw: str | None, ssm_reader: SsmReader | None) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    text = raw.strip()
    source = "PYLON_CONFIG"
    if not text.startswith(("{", "[")):
        if not _SSM_NAME.match(text):
            raise ConfigError(
                "PYLON_CONFIG is neither a JSON object nor a valid SSM parameter name "
                f"(starts with {text[:1]!r}, {len(text)} characters)"
            )
        source = f"SSM parameter {text!r} named by PYLON_CONFIG"
        text = (ssm_reader or _default_ssm_reader)(text)
    return _parse_json_object(text, source)


def _parse_json_object(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # The message gives the position only: the text itself may hold secrets.
        raise ConfigError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object, got {type(data).__name__}")
    return data


def _default_ssm_reader(name: str) -> str:
    from pylon.aws.ssm import SsmParameters

    return SsmParameters().get(name)


def _check_required(kind: ComponentKind, values: Mapping[str, Any]) -> None:
    for key in REQUIRED_KEYS[kind]:
        value = values.get(key)
        if value is None or value == "":
            raise ConfigError(f"PYLON_CONFIG key {key} missing (required for {kind.value})")
        if not isinstance(value, str):
            raise ConfigError(
                f"PYLON_CONFIG key {key} must be a string, got {type(value).__name__}"
            )
    arn = values.get("OUTPUT_TOPIC_ARN")
    if kind is not ComponentKind.SINK and isinstance(arn, str) and not _TOPIC_ARN.match(arn):
        raise ConfigError(
            f"PYLON_CONFIG key OUTPUT_TOPIC_ARN is malformed: {arn!r} is not an SNS topic ARN "
            "(arn:aws:sns:<region>:<account>:<name>)"
        )
    s3_path = values.get("OUTPUT_PAYLOAD_S3_PATH")
    if s3_path and not str(s3_path).startswith("s3://"):
        raise ConfigError(
            f"PYLON_CONFIG key OUTPUT_PAYLOAD_S3_PATH must be s3://bucket/prefix, got {s3_path!r}"
        )


def _version(values: Mapping[str, Any], env: Mapping[str, str]) -> str:
    parts = [str(values.get(k) or env.get(k) or "0") for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)
