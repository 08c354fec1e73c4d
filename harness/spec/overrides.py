"""Adjustments to a loaded spec: service ports filled in, config moved to SSM.

`with_service_ports` fills `{services.NAME.port}` once the ports are known (chosen by
`pylon up`, or given by hand). The rest is what `pylon provision` needs for components
it does not run itself. Under `pylon up` the harness runs the spec's services and hands each component its
PYLON_CONFIG. When something else runs them (docker compose, ECS), provisioning needs
the services' ports from the command line, and the components need their config
from somewhere they can read at start: SSM, as on AWS.

    pylon provision pipeline.yaml --service docs-server=8080 --config-in-ssm
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.errors import HarnessError
from harness.spec import PipelineSpec


class SpecOverrideError(HarnessError):
    """A command-line adjustment to the spec is malformed or does not fit it."""


class UnknownServiceError(SpecOverrideError):
    """A component's config refers to a service the spec does not have."""


_PLACEHOLDER = re.compile(r"\{services\.([A-Za-z0-9_-]+)\.port\}")


def parse_service_ports(pairs: Iterable[str]) -> dict[str, int]:
    """`["docs-server=8080"]` -> `{"docs-server": 8080}`, naming the bad pair on error."""
    ports = {}
    for pair in pairs:
        name, _, port = pair.partition("=")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise SpecOverrideError(f"--service must be NAME=PORT (a TCP port), got {pair!r}")
        ports[name] = int(port)
    return ports


def check_service_ports(spec: PipelineSpec, ports: Mapping[str, int]) -> None:
    """Every port given by hand must be for a service of the spec."""
    unknown = sorted(set(ports) - set(spec.services))
    if unknown:
        raise SpecOverrideError(
            f"--service names {unknown}, but {spec.source} only has services "
            f"{sorted(spec.services)}"
        )


def with_external_services(spec: PipelineSpec, ports: dict[str, int]) -> PipelineSpec:
    """Fill `{services.NAME.port}` in the components' config from ports given by hand."""
    check_service_ports(spec, ports)
    try:
        return with_service_ports(spec, ports)
    except UnknownServiceError as exc:
        raise SpecOverrideError(
            f"{exc}; `pylon provision` does not run the spec's services: give the port each "
            "one listens on with --service NAME=PORT"
        ) from None


def with_service_ports(spec: PipelineSpec, ports: Mapping[str, int]) -> PipelineSpec:
    """Replace `{services.NAME.port}` in every component's config values."""

    def fill(value: Any, where: str) -> Any:
        if not isinstance(value, str):
            return value

        def port(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in ports:
                raise UnknownServiceError(
                    f"{spec.source}: {where} refers to unknown service {name!r}"
                )
            return str(ports[name])

        return _PLACEHOLDER.sub(port, value)

    components = {
        name: dataclasses.replace(
            component,
            config={
                k: fill(v, f"components.{name}.config.{k}") for k, v in component.config.items()
            },
        )
        for name, component in spec.components.items()
    }
    return dataclasses.replace(spec, components=components)


def with_config_in_ssm(spec: PipelineSpec) -> PipelineSpec:
    """Every component's PYLON_CONFIG stored in SSM (`/pylon/<pipeline>/<component>`).

    The component's environment then only names the parameter, which is what a
    container definition (ECS task, compose service) can hold without knowing the ARNs.
    """
    components = {
        name: dataclasses.replace(component, config_in_ssm=True)
        for name, component in spec.components.items()
    }
    return dataclasses.replace(spec, components=components)
