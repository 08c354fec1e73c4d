"""Provisioning: create on an AWS endpoint everything a pipeline spec needs, and remove it."""

from harness.provision.provisioner import (
    ProvisionedComponent,
    ProvisionedPipeline,
    ProvisionError,
    config_parameter_name,
    describe,
    provision,
    pylon_config,
    subscription_attributes,
    teardown,
)

__all__ = [
    "ProvisionError",
    "ProvisionedComponent",
    "ProvisionedPipeline",
    "config_parameter_name",
    "describe",
    "provision",
    "pylon_config",
    "subscription_attributes",
    "teardown",
]
