"""The Dockerfiles and compose files agree with the code they package (no Docker needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from harness.containers.images import PYLON_VERSION
from harness.emulators.localstack import BUILT_IMAGE
from harness.emulators.ministack_container import DEFAULT_IMAGE as MINISTACK_IMAGE
from harness.provision import config_parameter_name
from harness.spec import load_spec

ROOT = Path(__file__).parents[2]
SPEC = load_spec(ROOT / "examples" / "docs_pipeline" / "pipeline.yaml")
IMAGES = ROOT / "examples" / "docs_pipeline" / "images"


class _ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's `!reset` tag (it empties the value in an override file)."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: None)


def _compose(name: str) -> dict[str, Any]:
    return yaml.load((ROOT / name).read_text(), Loader=_ComposeLoader)  # type: ignore[no-any-return]


def _instructions(dockerfile: Path) -> list[str]:
    lines = dockerfile.read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_readme_component_dockerfile_is_the_seeds_three_lines() -> None:
    assert _instructions(ROOT / "examples" / "readme" / "Dockerfile") == [
        f"FROM pylon-base:{PYLON_VERSION}",
        "ADD .env hello.py /app/",
        'ENTRYPOINT ["python", "hello.py"]',
    ]


@pytest.mark.parametrize("component", sorted(SPEC.components))
def test_component_image_names_itself_as_the_spec_does(component: str) -> None:
    instructions = _instructions(IMAGES / component / "Dockerfile")
    baked_env = dotenv_values(IMAGES / component / ".env")

    assert instructions[0] == f"FROM pylon-base:{PYLON_VERSION}"
    assert baked_env == dict(SPEC.components[component].env)
    module = SPEC.components[component].entrypoint.partition(":")[0]
    assert instructions[-1] == f'ENTRYPOINT ["python", "-m", "{module}"]'


def test_compose_runs_real_localstack_with_dynamodb_on_ministack_beside_it() -> None:
    services = _compose("docker-compose.yaml")["services"]

    assert services["emulator"]["image"] == f"${{PYLON_LOCALSTACK_IMAGE:-{BUILT_IMAGE}}}"
    assert services["dynamodb"]["image"] == f"${{PYLON_MINISTACK_IMAGE:-{MINISTACK_IMAGE}}}"
    assert "./localstack/init/ready.d:/etc/localstack/init/ready.d:ro" in services["emulator"]["volumes"]
    assert services["emulator"]["environment"]["PYLON_HOOK_ENDPOINT_DYNAMODB"] == "http://dynamodb:4566"
    assert services["localstack-status"]["profiles"] == ["localstack"]


def test_compose_components_read_the_config_the_init_hook_stores() -> None:
    services = _compose("docker-compose.yaml")["services"]
    hook = (ROOT / "localstack" / "init" / "ready.d" / "docs-pipeline.py").read_text()

    for name, component in SPEC.components.items():
        parameter = config_parameter_name(SPEC, component)
        assert services[name]["environment"]["PYLON_CONFIG"] == parameter
        assert f'"Name": "{parameter}"' in hook
        assert services[name]["build"]["dockerfile"] == f"examples/docs_pipeline/images/{name}/Dockerfile"
        assert services[name]["depends_on"]["emulator"] == {"condition": "service_healthy"}


def test_host_override_puts_every_service_on_the_host_network() -> None:
    services = _compose("docker-compose.yaml")["services"]
    override = _compose("docker-compose.host.yaml")["services"]

    assert sorted(override) == sorted(services)
    assert {service["network_mode"] for service in override.values()} == {"host"}


def test_the_committed_init_hook_is_what_pylon_provision_writes_today(tmp_path: Path) -> None:
    """The hook compose mounts must not drift from the spec and the provisioner."""
    fresh = tmp_path / "docs-pipeline.py"
    written = subprocess.run(
        [
            sys.executable, "-m", "harness.cli.main", "provision", "examples/docs_pipeline/pipeline.yaml",
            "--config-in-ssm", "--local-polling", "--service", "docs-server=8080",
            "--init-hook", str(fresh),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    committed = ROOT / "localstack" / "init" / "ready.d" / "docs-pipeline.py"
    assert _without_recorded_ids(fresh.read_text()) == _without_recorded_ids(committed.read_text())


def _without_recorded_ids(hook: str) -> str:
    """The hook minus what differs between two recordings (MiniStack's ports, random ids,
    timestamps): the calls and their parameters must match."""
    import re

    hook = re.sub(r"http://127\.0\.0\.1:\d+", "URL", hook)
    hook = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", hook)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00)?", "TIME", hook)
