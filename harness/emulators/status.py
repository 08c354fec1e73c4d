"""Which emulator serves which AWS service, from boto3's own endpoint variables.

    python -m harness.emulators.status     # compose's `localstack-status` service runs this

Prints, for the services Pylon uses, the endpoint boto3 will use (AWS_ENDPOINT_URL, or
AWS_ENDPOINT_URL_<SERVICE> where one is set) and what answers there: LocalStack (with
its version and the init hooks it ran) or another LocalStack-compatible emulator.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

# The services a Pylon pipeline uses, by boto3's names.
PYLON_SERVICES = ("sqs", "sns", "s3", "ssm", "dynamodb", "lambda")
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def endpoint_of(service: str, environ: Mapping[str, str]) -> str | None:
    return environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or environ.get("AWS_ENDPOINT_URL")


def identify(endpoint_url: str) -> str:
    """ "LocalStack <version>", "LocalStack-compatible emulator", or why nothing answered."""
    info = _get(endpoint_url, "/_localstack/info")
    if isinstance(info, dict) and info.get("version"):
        return f"LocalStack {info['version']}"
    health = _get(endpoint_url, "/_localstack/health")
    if isinstance(health, dict):
        version = f" {health['version']}" if health.get("version") else ""
        return f"a LocalStack-compatible emulator{version} (edition {health.get('edition', '?')})"
    return "nothing answers"


def report(environ: Mapping[str, str] = os.environ) -> list[str]:
    lines = []
    for service in PYLON_SERVICES:
        url = endpoint_of(service, environ)
        lines.append(f"{service:<9} {url or '(AWS itself)'}: {identify(url) if url else '-'}")
    hooks = _get(endpoint_of("sqs", environ) or "", "/_localstack/init/ready")
    if isinstance(hooks, dict):
        for script in hooks.get("scripts", []):
            lines.append(f"init hook {script['name']}: {script['state']}")
    return lines


def _get(endpoint_url: str, path: str) -> Any:
    if not endpoint_url:
        return None
    try:
        with _opener.open(endpoint_url.rstrip("/") + path, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def main() -> int:
    print("\n".join(report()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
