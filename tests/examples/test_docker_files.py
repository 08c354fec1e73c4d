"""The Dockerfiles and compose files agree with the code they package (no Docker needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from harness.containers.images import PYLON_VERSION
from harness.emulators.localstack import LOCALSTACK_IMAGE
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


def test_compose_emulator_defaults_to_the_pinned_community_tag() -> None:
    image = _compose("docker-compose.yaml")["services"]["emulator"]["image"]

    assert image == f"${{PYLON_LOCALSTACK_IMAGE:-{LOCALSTACK_IMAGE}}}"


def test_compose_components_read_the_config_the_provisioner_stores() -> None:
    services = _compose("docker-compose.yaml")["services"]

    assert "--config-in-ssm" in services["provisioner"]["command"]
    for name, component in SPEC.components.items():
        assert services[name]["environment"]["PYLON_CONFIG"] == config_parameter_name(SPEC, component)
        assert services[name]["build"]["dockerfile"] == f"examples/docs_pipeline/images/{name}/Dockerfile"


def test_host_override_puts_every_service_on_the_host_network() -> None:
    services = _compose("docker-compose.yaml")["services"]
    override = _compose("docker-compose.host.yaml")["services"]

    assert sorted(override) == sorted(services)
    assert {service["network_mode"] for service in override.values()} == {"host"}
