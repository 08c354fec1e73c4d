"""The pipeline spec: the YAML file naming components, queues, topics, buckets, parameters.

`model` parses and validates it (every error names the file and the key); `overrides`
and `local_defaults` adjust a loaded spec for how it is about to run.
"""

from harness.spec.model import (
    KIND_NAMES,
    ComponentSpec,
    FilterScope,
    ParameterSpec,
    PipelineSpec,
    RunMode,
    ServiceSpec,
    SpecError,
    Subscription,
    dead_letter_queue_name,
    load_spec,
    spec_from_dict,
)

__all__ = [
    "KIND_NAMES",
    "ComponentSpec",
    "FilterScope",
    "ParameterSpec",
    "PipelineSpec",
    "RunMode",
    "ServiceSpec",
    "SpecError",
    "Subscription",
    "dead_letter_queue_name",
    "load_spec",
    "spec_from_dict",
]
