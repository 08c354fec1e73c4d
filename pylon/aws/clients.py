"""boto3 clients, created one way for the whole runtime.

Endpoints come from boto3's own `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`, so
the same code reaches AWS or an emulator without a "local" switch.

Every session this module makes reads its own credentials and settings, but they all
share one botocore loader: the service models are read-only data files, and parsing
them (tens of ms per service) is most of what creating a client costs. `preload_models`
parses them in the background, e.g. while an emulator boots. Its clients also encode
SNS request bodies once, not twice, and faster (see `form_body`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader

from pylon.aws import form_body

# Standard retry mode backs off on throttling and transient 5xx, which AWS asks
# clients to do; five attempts ride out an emulator restart without hiding real outages.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=70)
# For clients whose every request Pylon assembles itself from values it has checked:
# botocore's validation of a request against the service model walks every field of
# it in Python, about 190 µs for a PublishBatch of 10 entries with Pylon's attributes.
_ASSEMBLED_CONFIG = CLIENT_CONFIG.merge(Config(parameter_validation=False))
# What a client built only to load its models is given, so that building it looks up
# nothing: no region, endpoint or credential chain (which may ask an instance metadata
# service). It never sends a request.
_PRELOAD_SETTINGS = {
    "region_name": "us-east-1",
    "endpoint_url": "http://127.0.0.1:9",
    "aws_access_key_id": "preload",
    "aws_secret_access_key": "preload",
}


class _SharedModels:
    """The process's botocore loader, and the thread preloading into it, if any."""

    def __init__(self) -> None:
        self.loader: Loader | None = None
        self.preloading: threading.Thread | None = None
        self.lock = threading.Lock()

    def attach(self, core: botocore.session.Session) -> None:
        """Give `core` the shared loader (the first session's becomes the shared one)."""
        with self.lock:
            if self.loader is None:
                self.loader = core.get_component("data_loader")
            else:
                core.register_component("data_loader", self.loader)

    def settle_search_paths(self) -> None:
        """boto3 appends its data folder to the loader of every session it wraps: once is
        enough for a shared loader, so the repeats are dropped (order kept)."""
        if self.loader is not None:
            paths = self.loader.search_paths
            paths[:] = list(dict.fromkeys(paths))

    def wait_for_preload(self) -> None:
        thread = self.preloading
        if thread is not None and thread is not threading.current_thread():
            thread.join()


_models = _SharedModels()


def new_session() -> boto3.session.Session:
    """A boto3 session of its own (credentials, region, endpoints read afresh) that shares
    the process's loaded service models."""
    _models.wait_for_preload()
    core = botocore.session.Session()
    _models.attach(core)
    form_body.register(core)
    session = boto3.session.Session(botocore_session=core)
    _models.settle_search_paths()
    return session


def new_client(
    service: str, session: boto3.session.Session | None = None, *, assembled: bool = False
) -> Any:
    """A client for `service` with Pylon's retry policy (typed by the callers' wrappers).

    `assembled=True` is for the runtime's own clients, whose requests Pylon builds from
    values it has already checked (see `codec.encode`): botocore does not validate them a
    second time.
    """
    config = _ASSEMBLED_CONFIG if assembled else CLIENT_CONFIG
    return (session or new_session()).client(service, config=config)  # type: ignore[call-overload]


def preload_models(services: Iterable[str]) -> threading.Thread:
    """Parse the models of `services` in a background thread; the next `new_session`
    waits for it rather than parsing them a second time."""
    names = tuple(services)

    def load() -> None:
        session = new_session()  # on this thread, it does not wait for itself
        for name in names:
            session.client(name, **_PRELOAD_SETTINGS)  # type: ignore[call-overload]

    thread = threading.Thread(target=load, name="pylon-preload-models", daemon=True)
    _models.preloading = thread
    thread.start()
    return thread


def forget_models() -> None:
    """Drop the loaded models, so the next client is built cold (for benchmarks of a
    cold start; nothing else needs it)."""
    _models.wait_for_preload()
    with _models.lock:
        _models.loader = None
