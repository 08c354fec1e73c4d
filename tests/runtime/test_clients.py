"""Sessions share the parsed service models, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.loaders import JSONFileLoader

from pylon.aws import clients
from pylon.aws.clients import forget_models, new_client, new_session, preload_models


@pytest.fixture(autouse=True)
def cold_models() -> Iterator[None]:
    forget_models()
    yield
    forget_models()


@pytest.fixture
def local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _loader(session: object) -> object:
    return session._session.get_component("data_loader")  # type: ignore[attr-defined]


def test_sessions_share_one_loader_and_its_search_paths_do_not_grow(local_endpoint: None) -> None:
    first, second = new_session(), new_session()
    for _ in range(20):
        new_session()

    assert _loader(first) is _loader(second)
    paths = _loader(first).search_paths  # type: ignore[attr-defined]
    assert len(paths) == len(set(paths))


def test_each_session_reads_its_own_credentials(
    local_endpoint: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first-secret")
    first = new_session().get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "second-key")
    second = new_session().get_credentials()

    assert first is not None and second is not None
    assert (first.access_key, second.access_key) == ("first-key", "second-key")


def test_a_client_after_preloading_reads_no_model_file(
    local_endpoint: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    preload_models(["sqs"]).join(timeout=60)
    files_read: list[str] = []
    original = JSONFileLoader.load_file

    def counting(self: JSONFileLoader, file_path: str) -> object:
        files_read.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting)

    client = new_client("sqs")

    assert client.meta.service_model.service_name == "sqs"
    assert files_read == []


def test_preloading_needs_no_region_endpoint_or_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # were it asked: never leave

    thread = preload_models(["sns", "sqs"])
    thread.join(timeout=60)

    assert not thread.is_alive()
    assert clients._models.loader is not None
