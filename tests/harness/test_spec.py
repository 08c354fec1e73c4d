"""The pipeline spec: loading, defaults, prefixing, and errors that name file, key and problem.

Pure: nothing here talks to AWS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.spec import ComponentSpec, PipelineSpec, RunMode, SpecError, load_spec, spec_from_dict
from pylon.config import ComponentKind

VALID: dict[str, Any] = {
    "name": "docs",
    "payloads": {"s3_path": "s3://docs-payloads/offload/"},
    "buckets": ["docs-lake", "docs-payloads"],
    "parameters": [{"name": "/docs/api-token", "value": "abc", "secure": True}],
    "lineage": {"table": "lineage"},
    "components": {
        "fetcher": {
            "type": "source",
            "entrypoint": "examples.docs.fetcher:fetchDocuments",
            "output_topic": "documents",
            "config": {"SOURCE_INTERVAL_SECONDS": 30},
        },
        "parser": {
            "type": "pipeline",
            "entrypoint": "examples.docs.parser:parseDocument",
            "subscribe": [{"topic": "documents", "filter": {"objectType": ["urlResource"]}}],
            "output_topic": "assets",
            "max_receive_count": 5,
            "visibility_timeout": 60,
            "mode": "lambda",
        },
        "writer": {
            "type": "sink",
            "entrypoint": "examples.docs.writer:writeToLake",
            "subscribe": [{"topic": "assets", "filter": {"objectType": ["dataAsset"]}}],
        },
    },
}


def write_spec(directory: Path, data: Any) -> Path:
    path = directory / "pipeline.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def valid() -> dict[str, Any]:
    return copy.deepcopy(VALID)


def test_valid_spec_file_loads_every_section(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, VALID))

    assert spec.name == "docs"
    assert spec.source == str(tmp_path / "pipeline.yaml")
    assert spec.buckets == ("docs-lake", "docs-payloads")
    assert spec.payload_s3_path == "s3://docs-payloads/offload/"
    assert spec.lineage_table == "lineage"
    assert [(p.name, p.value, p.secure) for p in spec.parameters] == [
        ("/docs/api-token", "abc", True)
    ]
    parser = spec.components["parser"]
    assert parser.kind is ComponentKind.PIPELINE
    assert (parser.module, parser.function) == ("examples.docs.parser", "parseDocument")
    assert parser.subscriptions[0].topic == "documents"
    assert parser.subscriptions[0].filter_policy == {"objectType": ["urlResource"]}
    assert (parser.max_receive_count, parser.visibility_timeout) == (5, 60)
    assert parser.mode is RunMode.LAMBDA
    assert spec.all_topics == ["documents", "assets"]


def test_spec_from_dict_equals_spec_from_file(tmp_path: Path) -> None:
    from_file = load_spec(write_spec(tmp_path, VALID))
    from_dict = spec_from_dict(valid(), str(tmp_path / "pipeline.yaml"))

    assert from_dict == from_file


def test_defaults_name_queues_topics_and_dead_letter_queue_after_the_component() -> None:
    spec = spec_from_dict(
        {
            "name": "mini",
            "components": {
                "gen": {"type": "source", "entrypoint": "m:gen"},
                "work": {"type": "pipeline", "entrypoint": "m:work", "subscribe": ["gen-out"]},
                "store": {"type": "sink", "entrypoint": "m:store", "subscribe": ["work-out"]},
            },
        }
    )
    gen, work, store = (spec.components[n] for n in ("gen", "work", "store"))

    assert (gen.input_queue, gen.output_topic, gen.dead_letter_queue) == (None, "gen-out", None)
    assert (work.input_queue, work.output_topic) == ("work-in", "work-out")
    assert work.dead_letter_queue == "work-in-dlq"
    assert (store.input_queue, store.output_topic) == ("store-in", None)
    assert (work.max_receive_count, work.visibility_timeout, work.mode) == (
        3,
        30,
        RunMode.CONTAINER,
    )
    assert (work.config_in_ssm, dict(work.config), dict(work.env)) == (False, {}, {})
    assert spec.source == "<dict>"
    assert (spec.buckets, spec.parameters, spec.payload_s3_path, spec.lineage_table) == (
        (),
        (),
        None,
        None,
    )


def test_lineage_table_defaults_to_lineage() -> None:
    data = valid() | {"lineage": {}}

    assert spec_from_dict(data).lineage_table == "lineage"


def test_with_prefix_renames_every_aws_resource_consistently() -> None:
    spec = spec_from_dict(valid() | {"topics": ["extra"]}).with_prefix("t1-")

    parser, writer = spec.components["parser"], spec.components["writer"]
    assert parser.input_queue == "t1-parser-in"
    assert parser.dead_letter_queue == "t1-parser-in-dlq"
    assert parser.output_topic == "t1-assets"
    assert [s.topic for s in parser.subscriptions] == ["t1-documents"]
    assert parser.subscriptions[0].filter_policy == {"objectType": ["urlResource"]}
    assert [s.topic for s in writer.subscriptions] == ["t1-assets"]
    assert spec.components["fetcher"].output_topic == "t1-documents"
    assert spec.topics == ("t1-extra",)
    assert spec.all_topics == ["t1-extra", "t1-documents", "t1-assets"]
    assert spec.buckets == ("t1-docs-lake", "t1-docs-payloads")
    assert spec.payload_s3_path == "s3://t1-docs-payloads/offload/"
    assert [p.name for p in spec.parameters] == ["/t1/docs/api-token"]
    assert spec.lineage_table == "t1-lineage"
    # Unchanged: what is not an AWS resource name.
    assert parser.entrypoint == "examples.docs.parser:parseDocument"
    assert spec.name == "t1-docs"


def test_with_prefix_keeps_bucket_names_valid_and_references_resolving() -> None:
    spec = spec_from_dict(valid()).with_prefix("Run_7-")

    assert spec.buckets == ("run-7-docs-lake", "run-7-docs-payloads")
    assert spec.payload_s3_path == "s3://run-7-docs-payloads/offload/"
    produced = {c.output_topic for c in spec.components.values() if c.output_topic}
    subscribed = {s.topic for c in spec.components.values() for s in c.subscriptions}
    assert subscribed <= produced


def test_empty_prefix_returns_the_same_spec() -> None:
    spec = spec_from_dict(valid())

    assert spec.with_prefix("") is spec


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting the dotted key `path` in the spec dict."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        data[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        del data[last]

    return mutate


INVALID: list[tuple[str, Mutation | str, str, str]] = [
    (
        "unknown key",
        _set("components.parser.retries", 3),
        "components.parser",
        "unknown key(s) ['retries']",
    ),
    (
        "unknown top-level key",
        _set("queues", []),
        "(top level)",
        "unknown key(s) ['queues']",
    ),
    (
        "config not a mapping",
        _set("components.parser.config", "KEY=1"),
        "components.parser.config",
        "must be a mapping, got str",
    ),
    (
        "buckets not a list",
        _set("buckets", "docs-lake"),
        "buckets",
        "must be a list, got str",
    ),
    (
        "missing entrypoint",
        _delete("components.parser.entrypoint"),
        "components.parser.entrypoint",
        "must be 'package.module:function', got None",
    ),
    (
        "entrypoint without colon",
        _set("components.parser.entrypoint", "examples.docs.parser.parseDocument"),
        "components.parser.entrypoint",
        "must be 'package.module:function', got 'examples.docs.parser.parseDocument'",
    ),
    (
        "unknown component type",
        _set("components.parser.type", "transformer"),
        "components.parser.type",
        "must be one of ['pipeline', 'sink', 'source'], got 'transformer'",
    ),
    (
        "source with input queue",
        _set("components.fetcher.input_queue", "fetcher-in"),
        "components.fetcher.input_queue",
        "a source has no input queue",
    ),
    (
        "source with subscriptions",
        _set("components.fetcher.subscribe", ["assets"]),
        "components.fetcher.subscribe",
        "a source subscribes to nothing",
    ),
    (
        "sink with output topic",
        _set("components.writer.output_topic", "stored"),
        "components.writer.output_topic",
        "a sink has no output topic",
    ),
    (
        "subscription to a topic nobody produces",
        _set("components.parser.subscribe", [{"topic": "nowhere"}]),
        "components.parser.subscribe[0].topic",
        "topic 'nowhere' is not any component's output_topic nor listed under topics",
    ),
    (
        "duplicate input queues",
        _set("components.writer.input_queue", "parser-in"),
        "components",
        "input queue(s) ['parser-in'] are used by more than one component",
    ),
    (
        "bad bucket name",
        _set("buckets", ["docs-lake", "Docs_Payloads"]),
        "buckets[1]",
        "must be a valid S3 bucket name",
    ),
    (
        "filter value not a list",
        _set(
            "components.parser.subscribe", [{"topic": "documents", "filter": {"objectType": "x"}}]
        ),
        "components.parser.subscribe[0].filter.objectType",
        "must be a non-empty list of values or conditions, got 'x'",
    ),
    (
        "empty filter policy",
        _set("components.parser.subscribe", [{"topic": "documents", "filter": {}}]),
        "components.parser.subscribe[0].filter",
        "a filter policy needs at least one attribute",
    ),
    (
        "payload bucket not listed",
        _set("payloads.s3_path", "s3://elsewhere/offload/"),
        "payloads.s3_path",
        "bucket 'elsewhere' is not listed under buckets",
    ),
    (
        "payload path not s3",
        _set("payloads.s3_path", "/tmp/payloads"),
        "payloads.s3_path",
        "must be s3://bucket/prefix, got '/tmp/payloads'",
    ),
    (
        "bad mode",
        _set("components.parser.mode", "kubernetes"),
        "components.parser.mode",
        "must be one of ['container', 'lambda'], got 'kubernetes'",
    ),
    (
        "source in lambda mode",
        _set("components.fetcher.mode", "lambda"),
        "components.fetcher.mode",
        "a source cannot run in lambda mode locally",
    ),
    (
        "max_receive_count zero",
        _set("components.parser.max_receive_count", 0),
        "components.parser.max_receive_count",
        "must be an integer from 1 to 1000, got 0",
    ),
    (
        "max_receive_count too large",
        _set("components.parser.max_receive_count", 1001),
        "components.parser.max_receive_count",
        "must be an integer from 1 to 1000, got 1001",
    ),
    (
        "visibility_timeout not an integer",
        _set("components.parser.visibility_timeout", True),
        "components.parser.visibility_timeout",
        "must be an integer from 0 to 43200, got True",
    ),
    (
        "config_in_ssm not a boolean",
        _set("components.parser.config_in_ssm", "yes"),
        "components.parser.config_in_ssm",
        "must be true or false, got 'yes'",
    ),
    (
        "bad queue name",
        _set("components.parser.input_queue", "parser in"),
        "components.parser.input_queue",
        "must be 1-64 letters, digits, '-' or '_' (a FIFO one ending in .fifo), got 'parser in'",
    ),
    (
        "no components",
        _set("components", {}),
        "components",
        "at least one component is required",
    ),
    (
        "invalid YAML",
        "name: docs\ncomponents:\n  parser: [unclosed\n  writer: {}\n",
        "not valid YAML at line 4 column 9",
        "expected ',' or ']'",
    ),
]


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_spec_error_names_file_key_and_problem(
    tmp_path: Path, change: Mutation | str, where: str, problem: str
) -> None:
    if isinstance(change, str):
        path = write_spec(tmp_path, change)
    else:
        data = valid()
        change(data)
        path = write_spec(tmp_path, data)

    with pytest.raises(SpecError) as raised:
        load_spec(path)

    message = str(raised.value)
    assert message.startswith(f"{path}: {where}"), message
    assert problem in message, message


def test_missing_spec_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    with pytest.raises(SpecError, match=r"absent\.yaml: cannot read the pipeline spec"):
        load_spec(path)


def test_secret_parameter_value_is_not_echoed_in_errors() -> None:
    data = valid()
    data["parameters"] = [{"name": "/docs/api-token", "value": ["s3cr3t-value"]}]

    with pytest.raises(SpecError) as raised:
        spec_from_dict(data, "pipeline.yaml")

    assert "parameters[0].value: must be a string or a number" in str(raised.value)
    assert "s3cr3t-value" not in str(raised.value)


def test_component_spec_is_typed_and_immutable() -> None:
    spec: PipelineSpec = spec_from_dict(valid())
    parser: ComponentSpec = spec.components["parser"]

    with pytest.raises(AttributeError):
        parser.input_queue = "other"  # type: ignore[misc]


def test_with_prefix_rewrites_config_values_naming_listed_buckets_and_parameters() -> None:
    data = valid()
    data["components"]["parser"]["config"] = {
        "LAKE": "s3://docs-lake/lake/",
        "TOKEN_PARAMETER": "/docs/api-token",
        "OTHER": "s3://somebody-elses-bucket/x",
    }
    config = spec_from_dict(data).with_prefix("t1-").components["parser"].config
    assert config == {
        "LAKE": "s3://t1-docs-lake/lake/",
        "TOKEN_PARAMETER": "/t1/docs/api-token",
        "OTHER": "s3://somebody-elses-bucket/x",
    }


def test_a_topic_subscribed_twice_by_one_component_is_refused() -> None:
    data = valid()
    subscription = data["components"]["parser"]["subscribe"][0]
    data["components"]["parser"]["subscribe"] = [subscription, subscription]
    with pytest.raises(
        SpecError, match=r"subscribe\[1\]\.topic: topic 'documents' is subscribed twice"
    ):
        spec_from_dict(data, "p.yaml")
