"""Provisioning: create on an AWS endpoint everything a pipeline spec needs, and remove it."""

from harness.provision.lookup import NotProvisionedError, find_provisioned
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
from harness.provision.prune import prune

__all__ = [
    "NotProvisionedError",
    "ProvisionError",
    "ProvisionedComponent",
    "ProvisionedPipeline",
    "config_parameter_name",
    "describe",
    "find_provisioned",
    "provision",
    "prune",
    "pylon_config",
    "subscription_attributes",
    "teardown",
]
