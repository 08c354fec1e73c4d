"""Spec adjustments for running locally, applied before provisioning."""

from __future__ import annotations

import dataclasses

from harness.spec import PipelineSpec

# Long polls are cut short locally so that Ctrl-C stops a pipeline within about a
# second; a component's own WAIT_TIME_SECONDS in the spec still wins.
LOCAL_DEFAULTS = {"WAIT_TIME_SECONDS": 1}


def with_local_defaults(spec: PipelineSpec) -> PipelineSpec:
    components = {
        name: dataclasses.replace(component, config={**LOCAL_DEFAULTS, **component.config})
        for name, component in spec.components.items()
    }
    return dataclasses.replace(spec, components=components)
