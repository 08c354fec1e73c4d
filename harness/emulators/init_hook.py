"""LocalStack init hooks that provision a spec when LocalStack boots.

    pylon provision pipeline.yaml --init-hook localstack/init/ready.d/pipeline.py

LocalStack runs every `*.py` in `/etc/localstack/init/ready.d/` inside its own Python
once it is ready; its image has boto3 but not Pylon. So the spec is provisioned once,
here, on a throwaway embedded MiniStack, while every AWS call the provisioner makes is
recorded (operation, parameters, response); the hook replays those calls, with
`replay_calls.py` copied into it, adjusting what an emulator makes up (queue URLs,
subscription ids). It works with the official image and with ours.

In the hook, `PYLON_HOOK_ENDPOINT_<SERVICE>` sends a service elsewhere (DynamoDB to the
MiniStack beside LocalStack), and `PYLON_SERVICE_PORT_<NAME>` gives a spec service's port
(the one given with `--service NAME=PORT` when the hook was written is the default).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore import xform_name

from harness.emulators import replay_calls
from harness.emulators.ministack import MiniStack
from harness.emulators.selection import apply_to_environment
from harness.errors import HarnessError
from harness.provision import provisioner
from harness.spec import PipelineSpec

# What LocalStack's runtime answers on inside its container; LocalStack's own config
# knows better when the hook can import it (any LocalStack, official or ours).
_GATEWAY = "http://127.0.0.1:4566"


class InitHookError(HarnessError):
    """A spec cannot be turned into a LocalStack init hook."""


@dataclass
class CallRecorder:
    """Collects the API calls made through a boto3 session, with their responses."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, session: boto3.session.Session) -> None:
        events = session.events
        events.register("before-parameter-build.*.*", self._before)
        events.register("after-call.*.*", self._after)

    def _before(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(
            {
                "service": model.service_model.service_name,
                "method": xform_name(model.name),
                "params": _jsonable(dict(params), f"{model.name} parameters"),
            }
        )

    def _after(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        call = self.calls[-1]
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, Mapping) else None
        if error:
            call["error"] = error
            return
        response = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        call["response"] = _jsonable(response, f"{model.name} response")


def record_provisioning(spec: PipelineSpec) -> list[dict[str, Any]]:
    """Provision `spec` on a throwaway embedded MiniStack; every call it took, in order."""
    recorder = CallRecorder()
    with MiniStack() as emulator:
        apply_to_environment(emulator.endpoint)
        session = boto3.session.Session()
        recorder.attach(session)
        provisioner.provision(spec, session)
    return recorder.calls


def hook_source(spec: PipelineSpec, calls: list[dict[str, Any]], ports: Mapping[str, int]) -> str:
    """A self-contained Python init hook replaying `calls`."""
    body = inspect.getsource(replay_calls)
    return (
        f'"""LocalStack init hook: provisions pipeline {spec.name!r} ({spec.source}) on boot.\n\n'
        "Written by `pylon provision --init-hook`; regenerate it rather than editing it.\n"
        '"""\n\n'
        f"{_without_docstring(body)}\n\n"
        f"CALLS = json.loads({_json_literal(calls)})\n"
        f"SERVICE_PORTS = {dict(sorted(ports.items()))!r}\n\n\n"
        "def _gateway() -> str:\n"
        "    try:\n"
        "        from localstack import config\n"
        "    except ImportError:  # not inside LocalStack: a plain run against one\n"
        f"        return os.environ.get('PYLON_HOOK_ENDPOINT') or {_GATEWAY!r}\n"
        "    return os.environ.get('PYLON_HOOK_ENDPOINT') or config.internal_service_url()\n\n\n"
        "made = replay(CALLS, endpoints_from_environment(_gateway()), "
        "ports_from_environment(SERVICE_PORTS))\n"
        f"print(f'pylon: provisioned {spec.name} ({{made}} calls)', flush=True)\n"
    )


def write_hook(
    spec: PipelineSpec, path: Path, ports: Mapping[str, int], calls: list[dict[str, Any]]
) -> Path:
    if path.suffix != ".py":
        raise InitHookError(
            f"init hook {path}: LocalStack runs Python hooks by their .py suffix; name it *.py"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(hook_source(spec, calls, ports))
    return path


def _without_docstring(source: str) -> str:
    """The module's code after its docstring and `__future__` import (the hook starts
    with its own), plus the json import the hook's data needs."""
    code = source[source.index('"""', source.index('"""') + 3) + 3 :]
    code = code.replace("from __future__ import annotations\n", "", 1).lstrip("\n")
    return "from __future__ import annotations\n\nimport json\n" + code


def _json_literal(calls: list[dict[str, Any]]) -> str:
    """The calls as a readable Python string literal of indented JSON."""
    text = json.dumps(calls, indent=1, sort_keys=True)
    return f'r"""{text}"""' if '"""' not in text and not text.endswith("\\") else repr(text)


def _jsonable(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value, default=_refuse))
    except TypeError as exc:
        raise InitHookError(f"{what} cannot be written into an init hook: {exc}") from None


def _refuse(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()  # timestamps in responses are never reused as parameters
    raise TypeError(f"{type(value).__name__} is not JSON")
