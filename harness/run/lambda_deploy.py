"""A component deployed as a real Lambda function, triggered by its queue, on an emulator.

    with LambdaRunner(pipeline.components.values(), endpoint):
        ...  # messages sent to the input queues are processed by Lambda

`deploy_lambda` packages the component (its top-level package, `pylon`, python-dotenv,
orjson and the AWS SDK) into a zip, creates or updates the function, and maps the
component's input queue to it with `ReportBatchItemFailures`, so that the emulator's own
event source mapping polls the queue, invokes the function and deletes only the records
the partial batch response does not list. Everything is idempotent: deploying again
updates code, configuration and mapping in place.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

import pylon
from harness.endpoints import AwsEndpoint
from harness.errors import HarnessError
from harness.lifecycle import Running
from harness.packaging.zip_archive import is_bytecode, package_dir, tree_files, write_entry
from harness.provision import ProvisionedComponent
from harness.run.esm_loop import EventSourceMappingLoop
from harness.spec import ComponentSpec
from pylon.config import ComponentKind

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import FunctionConfigurationResponseTypeDef


class LambdaDeployError(HarnessError):
    """A component cannot be deployed as (or removed from) a Lambda function."""


# The execution role the functions are given. AWS (and moto) refuse a role that does not
# exist, so it is created first, beside the functions; it grants nothing: emulators do not
# enforce policies unless asked to, and the CloudFormation export writes the real,
# least-privilege one.
LOCAL_ROLE_NAME = "pylon-local"
LOCAL_ROLE_ARN = f"arn:aws:iam::000000000000:role/{LOCAL_ROLE_NAME}"
_LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
HANDLER_MODULE = "pylon_lambda_handler"
HANDLER = f"{HANDLER_MODULE}.handler"
BATCH_SIZE = 10
# MiniStack runs Python handlers with its own interpreter, which the harness creates
# from this one (harness.emulators.isolated_env), so declaring this version keeps the
# declared runtime, the interpreter that runs the code, and the one we package from equal.
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

# What Lambda's own runtime provides on AWS is the SDK; MiniStack's handler interpreter
# has only botocore (MiniStack's pinned version, older than the project's boto3 needs),
# no boto3 or s3transfer. The SDK the project was tested with is therefore shipped in
# the package, with botocore's own dependencies, so the handler runs on the same boto3
# and botocore whatever the emulator's interpreter holds.
_SDK_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
_RUNTIME_DISTRIBUTIONS = ("python-dotenv", "orjson", *_SDK_DISTRIBUTIONS)

# Keys Lambda sets itself and refuses in a function's configuration.
_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)
# Lambda's limits: 4 KB of environment variables, 50 MB for a zip uploaded directly.
_MAX_ENVIRONMENT_BYTES = 4096
_MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
_MAX_TIMEOUT_SECONDS = 900
_READY_TIMEOUT_SECONDS = 120.0
_POLL_INTERVAL_SECONDS = 0.1
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@dataclass(frozen=True)
class DeployedLambda:
    """A deployed function, its queue mapping, and the endpoint both live on.

    `mapping_uuid` is the emulator's own event source mapping; None when the function
    runs on another emulator than its queue (LocalStack's queues, MiniStack's Lambda),
    where `loop` (the harness's mapping, invoking the function) polls instead.
    """

    function_name: str
    function_arn: str
    mapping_uuid: str | None
    endpoint: AwsEndpoint
    loop: EventSourceMappingLoop | None = None


# ---------------------------------------------------------------- deploy / remove


def deploy_lambda(
    component: ProvisionedComponent,
    endpoint: AwsEndpoint,
    session: boto3.session.Session | None = None,
) -> DeployedLambda:
    """Create or update the component's function and its SQS event source mapping.

    The function is named after the component; it runs the component's
    `lambda_handler` with the component's environment (PYLON_CONFIG, the spec's env).
    Returns once the function is Active and the mapping Enabled.
    """
    queue_arn = _input_queue_arn(component)
    name = component.spec.name
    client = _lambda_client(endpoint, session)
    try:
        _ensure_role(endpoint, session)
        arn = _converge_function(client, component, endpoint)
        if runs_beside_its_queue(endpoint):
            return DeployedLambda(
                name, arn, _converge_mapping(client, component.spec, queue_arn), endpoint
            )
    except (ClientError, BotoCoreError) as exc:
        raise LambdaDeployError(
            f"deploying component {name!r} as Lambda function {name!r} at "
            f"{endpoint.url_for('lambda')} failed: {exc}; check that the emulator runs Lambda "
            "and that the component was provisioned on this endpoint"
        ) from exc
    loop = _mapping_loop(component, RemoteFunction(client, name), session)
    loop.start()
    return DeployedLambda(name, arn, None, endpoint, loop)


def _ensure_role(endpoint: AwsEndpoint, session: boto3.session.Session | None) -> None:
    """The execution role, on the emulator that runs the functions; kept if it exists."""
    iam = _dummy_session(endpoint, session).client("iam", endpoint_url=endpoint.url_for("lambda"))
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=LOCAL_ROLE_NAME, AssumeRolePolicyDocument=_LAMBDA_TRUST)


def runs_beside_its_queue(endpoint: AwsEndpoint) -> bool:
    """Whether Lambda and SQS are the same emulator (so its own mapping can poll)."""
    return endpoint.url_for("lambda") == endpoint.url_for("sqs")


class RemoteFunction:
    """A deployed function as a `LambdaTarget`: each batch is a synchronous Invoke.

    What the harness's mapping loop calls when the function runs on another emulator
    than its queue; a function error fails the whole batch, as on AWS.
    """

    def __init__(self, client: LambdaClient, name: str) -> None:
        self._client = client
        self.__name__ = name

    def lambda_handler(self, event: Any, context: Any) -> Any:
        response = self._client.invoke(
            FunctionName=self.__name__, Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise LambdaDeployError(
                f"Lambda function {self.__name__!r} failed: {payload.decode(errors='replace')[:500]}"
            )
        return json.loads(payload) if payload else None


def _mapping_loop(
    component: ProvisionedComponent, function: RemoteFunction, session: boto3.session.Session | None
) -> EventSourceMappingLoop:
    assert component.queue_url is not None  # _input_queue_arn refused sources already
    return EventSourceMappingLoop(
        function,
        component.queue_url,
        component.spec.batch_size,
        queue_arn=component.queue_arn,
        timeout_seconds=max(1, component.spec.visibility_timeout),
        session=session,
    )


def remove_lambda(deployed: DeployedLambda, session: boto3.session.Session | None = None) -> None:
    """Delete the mapping, then the function; what is already gone is skipped."""
    if deployed.loop is not None:
        deployed.loop.stop()
    client = _lambda_client(deployed.endpoint, session)
    try:
        if deployed.mapping_uuid is not None:
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_event_source_mapping(UUID=deployed.mapping_uuid)
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_function(FunctionName=deployed.function_name)
    except (ClientError, BotoCoreError) as exc:
        raise LambdaDeployError(
            f"removing Lambda function {deployed.function_name!r} (mapping "
            f"{deployed.mapping_uuid}) at {deployed.endpoint.endpoint_url} failed: {exc}; "
            "delete it by hand or reset the emulator"
        ) from exc


class LambdaRunner(Running):
    """Deploys components as Lambda functions on `start()`, removes them on `stop()`.

    It stands beside the process and in-process runners: `with LambdaRunner(components,
    endpoint): ...`; the emulator does the polling, so nothing runs in this process.
    """

    def __init__(
        self,
        components: Iterable[ProvisionedComponent],
        endpoint: AwsEndpoint,
        session: boto3.session.Session | None = None,
    ) -> None:
        self._components = list(components)
        self._endpoint = endpoint
        self._session = session
        self.deployed: list[DeployedLambda] = []

    def start(self) -> None:
        """Deploy every component; on a failure, remove those already deployed."""
        try:
            for component in self._components:
                self.deployed.append(deploy_lambda(component, self._endpoint, self._session))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Remove every deployed function; idempotent."""
        while self.deployed:
            remove_lambda(self.deployed.pop(), self._session)

    def replace(self, component: ProvisionedComponent) -> None:
        """Deploy the component's saved code (and environment) to its function: an update
        in place, the mapping kept (the harness's own mapping loop restarts with it)."""
        name = component.spec.name
        for deployed in [d for d in self.deployed if d.function_name == name]:
            if deployed.loop is not None:
                deployed.loop.stop()
            self.deployed.remove(deployed)
        self.deployed.append(deploy_lambda(component, self._endpoint, self._session))

    def remove(self, name: str) -> None:
        for deployed in [d for d in self.deployed if d.function_name == name]:
            self.deployed.remove(deployed)
            remove_lambda(deployed, self._session)

    def exited(self) -> dict[str, int]:
        """None: the emulator runs the functions (a failing invocation is retried by it)."""
        return {}


def _input_queue_arn(component: ProvisionedComponent) -> str:
    if component.spec.kind is ComponentKind.SOURCE or component.queue_arn is None:
        raise LambdaDeployError(
            f"component {component.spec.name!r} is a {component.spec.kind.value} with no input "
            "queue, so no event source mapping can trigger it; run it as a process instead"
        )
    return component.queue_arn


def _dummy_session(
    endpoint: AwsEndpoint, session: boto3.session.Session | None
) -> boto3.session.Session:
    """`session`, or one with the emulator's dummy credentials."""
    return session or boto3.session.Session(
        aws_access_key_id=endpoint.access_key_id,
        aws_secret_access_key=endpoint.secret_access_key,
        region_name=endpoint.region,
    )


def _lambda_client(endpoint: AwsEndpoint, session: boto3.session.Session | None) -> LambdaClient:
    """A client for exactly this endpoint; without a session, with the emulator's dummies."""
    return _dummy_session(endpoint, session).client(
        "lambda",
        endpoint_url=endpoint.url_for("lambda"),
        region_name=endpoint.region,
        config=_CLIENT_CONFIG,
    )


# ---------------------------------------------------------------- function


def function_environment(component: ProvisionedComponent, endpoint: AwsEndpoint) -> dict[str, str]:
    """The component's environment as Lambda accepts it.

    Lambda sets region and credentials itself and refuses them here. AWS_ENDPOINT_URL is
    left to the emulator too: MiniStack points its handlers at itself (and LocalStack at
    the address its containers can reach), which 127.0.0.1 as seen from here may not be.
    Except when the function runs on another emulator than the pipeline (MiniStack's
    Lambda beside LocalStack): its handlers, processes on this machine, are then given
    the pipeline's endpoints as seen from here. NO_PROXY keeps a proxy set in the
    emulator's environment off loopback traffic.
    """
    environment = component.environment(endpoint)
    loopback = endpoint.changes({}).assign
    elsewhere = not runs_beside_its_queue(endpoint)
    variables = {
        name: value
        for name, value in environment.items()
        if name not in _RESERVED_VARIABLES
        and (elsewhere or not name.startswith("AWS_ENDPOINT_URL"))
    } | {name: loopback[name] for name in ("NO_PROXY", "no_proxy")}
    size = sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
    if size > _MAX_ENVIRONMENT_BYTES:
        raise LambdaDeployError(
            f"component {component.spec.name!r}: its environment is {size} bytes, over Lambda's "
            f"{_MAX_ENVIRONMENT_BYTES}-byte limit; set `config_in_ssm: true` in the spec so "
            "PYLON_CONFIG names an SSM parameter instead of holding the config"
        )
    return variables


def _converge_function(
    client: LambdaClient, component: ProvisionedComponent, endpoint: AwsEndpoint
) -> str:
    """Create the function, or bring an existing one up to date; return its ARN."""
    name = component.spec.name
    package = build_package(component.spec.entrypoint)
    settings: dict[str, Any] = {
        "Runtime": RUNTIME,
        "Handler": HANDLER,
        "Role": LOCAL_ROLE_ARN,
        # AWS refuses a mapping whose queue's visibility timeout is shorter than the
        # function's timeout, and recommends six times as long; the spec's default is that.
        "Timeout": min(component.spec.lambda_timeout, _MAX_TIMEOUT_SECONDS),
        "Environment": {"Variables": function_environment(component, endpoint)},
    }
    try:
        current = client.get_function_configuration(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        created = client.create_function(FunctionName=name, Code={"ZipFile": package}, **settings)
        return _wait_until_ready(client, name, created["FunctionArn"])
    if current.get("CodeSha256") != _code_sha256(package):
        client.update_function_code(FunctionName=name, ZipFile=package)
        _wait_until_ready(client, name, current["FunctionArn"])
    client.update_function_configuration(FunctionName=name, **settings)
    return _wait_until_ready(client, name, current["FunctionArn"])


def _code_sha256(package: bytes) -> str:
    """Lambda's CodeSha256: the base64 SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


def _wait_until_ready(client: LambdaClient, name: str, arn: str) -> str:
    """Poll until the function is Active with no update in progress; return `arn`."""

    def ready() -> bool:
        config = client.get_function_configuration(FunctionName=name)
        _raise_if_failed(name, config)
        return config.get("State") == "Active" and config.get("LastUpdateStatus") in (
            None,
            "Successful",
        )

    _poll(ready, f"Lambda function {name!r} to become Active")
    return arn


def _raise_if_failed(name: str, config: FunctionConfigurationResponseTypeDef) -> None:
    if config.get("State") == "Failed" or config.get("LastUpdateStatus") == "Failed":
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or "no reason"
        raise LambdaDeployError(
            f"Lambda function {name!r} failed to deploy: {reason}; check the emulator's log"
        )


# ---------------------------------------------------------------- mapping


def _converge_mapping(client: LambdaClient, component: ComponentSpec, queue_arn: str) -> str:
    """One enabled SQS mapping from the queue to the function; return its UUID."""
    name = component.name
    settings: dict[str, Any] = {
        "BatchSize": component.batch_size,
        "MaximumBatchingWindowInSeconds": component.batch_window,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "Enabled": True,
    }
    existing = client.list_event_source_mappings(FunctionName=name, EventSourceArn=queue_arn)
    mappings = existing.get("EventSourceMappings", [])
    if mappings:
        uuid = mappings[0]["UUID"]
        client.update_event_source_mapping(UUID=uuid, **settings)
    else:
        uuid = client.create_event_source_mapping(
            FunctionName=name, EventSourceArn=queue_arn, **settings
        )["UUID"]

    def enabled() -> bool:
        state = client.get_event_source_mapping(UUID=uuid).get("State")
        return state == "Enabled"

    _poll(enabled, f"the mapping from {queue_arn} to Lambda function {name!r} to be Enabled")
    return uuid


def _poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise LambdaDeployError(
                f"gave up after {_READY_TIMEOUT_SECONDS:.0f} s waiting for {what}; "
                "check the emulator's log"
            )
        time.sleep(_POLL_INTERVAL_SECONDS)


# ---------------------------------------------------------------- package


def build_package(entrypoint: str) -> bytes:
    """The deployment zip for `package.module:function`.

    It holds a generated handler module, the entrypoint's whole top-level package,
    `pylon`, and the runtime's dependencies (python-dotenv, orjson and the SDK).
    """
    module, _, function = entrypoint.partition(":")
    buffer = io.BytesIO(_dependency_archive())
    with zipfile.ZipFile(buffer, mode="a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        files = [*tree_files(package_dir(pylon.__name__)), *_top_level_files(entrypoint)]
        for arcname, path in files:
            if arcname not in present:
                write_entry(archive, arcname, path.read_bytes())
                present.add(arcname)
        write_entry(archive, f"{HANDLER_MODULE}.py", handler_source(module, function).encode())
    package = buffer.getvalue()
    if len(package) > _MAX_DIRECT_UPLOAD_BYTES:
        raise LambdaDeployError(
            f"the package for {entrypoint!r} is {len(package) / 1e6:.1f} MB, over Lambda's "
            f"{_MAX_DIRECT_UPLOAD_BYTES // (1024 * 1024)} MB limit for a direct upload; "
            "move large files out of the component's package"
        )
    return package


def handler_source(module: str, function: str) -> str:
    """The generated entry point: Lambda's handler setting names its `handler`."""
    return (
        f'"""Lambda entry point of {module}:{function}, generated by harness.run.lambda_deploy."""\n'
        f"from {module} import {function} as _component\n"
        "\n\n"
        "def handler(event, context):\n"
        "    return _component.lambda_handler(event, context)\n"
    )


@functools.cache
def _dependency_archive() -> bytes:
    """The zip of the runtime's dependencies, built once per process (they do not change).

    Compressing botocore takes most of a second; appending the project's files to a
    copy of this archive takes milliseconds.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for distribution in _RUNTIME_DISTRIBUTIONS:
            for arcname, path in _distribution_files(distribution):
                write_entry(archive, arcname, path.read_bytes())
    return buffer.getvalue()


def _distribution_files(name: str) -> Iterator[tuple[str, Path]]:
    """An installed distribution's importable files (no metadata, scripts or bytecode)."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise LambdaDeployError(
            f"{name} is not installed in {sys.prefix}, but a Lambda package needs it; "
            "install the project with its dependencies (pip install -e '.[dev]')"
        ) from None
    for file in sorted(distribution.files or [], key=str):
        top = file.parts[0]
        if top == ".." or top.endswith((".dist-info", ".egg-info")) or is_bytecode(file.parts):
            continue
        yield file.as_posix(), Path(str(distribution.locate_file(file)))


def _top_level_files(entrypoint: str) -> list[tuple[str, Path]]:
    """The files of the entrypoint module's top-level package (or the module alone)."""
    top = entrypoint.partition(":")[0].split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or (spec.origin is None and not spec.submodule_search_locations):
        raise LambdaDeployError(
            f"entrypoint {entrypoint!r}: cannot find module {top!r} to package; run from "
            "the project root or add it to PYTHONPATH"
        )
    if spec.submodule_search_locations:
        return [f for d in spec.submodule_search_locations for f in tree_files(Path(d))]
    assert spec.origin is not None
    origin = Path(spec.origin)
    return [(origin.name, origin)]
