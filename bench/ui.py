"""The web inspector (`pylon ui`): its queue page with many messages, and what open pages
cost a running pipeline.

1. Queue page: N messages (10,000) are published on a topic whose queue nobody consumes;
   once the inspector has seen them all, the queue page and a search over it are
   requested; the server time is what the app's `Server-Timing` header says (request in,
   response headers out), read against the same page with 100 messages.
2. Open pages: a two-stage pipeline (components as processes, `bench.ui_components`)
   processes M messages (2,000) with the inspector running and no page open, with ten
   pages receiving live updates (Server-Sent Events), and without any inspector; each
   condition started afresh and repeated, alternating; throughput is messages / s from
   the first publish to the last output.

    python -m bench.ui [--messages 10000] [--pipeline-messages 2000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
import urllib3

from bench import cli
from bench.emulator import emulator_endpoint, unique_name
from bench.errors import BenchmarkError
from bench.report import Figure, Report, Target, TargetKind
from harness.endpoints import AwsEndpoint
from harness.inspector.server import Binding, InspectorServer, new_inspector
from harness.pipeline.activity import queue_depth
from harness.pipeline.local_pipeline import LocalPipeline, Runner
from harness.provision import ProvisionedPipeline
from harness.spec import PipelineSpec, spec_from_dict
from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from pylon.codec import encode

NAME = "ui"
PAGE_TARGET = Target(TargetKind.VALUE_AT_MOST, 1.0)
PAGES_TARGET = Target(TargetKind.RATIO_AT_LEAST, 0.95)
OPEN_PAGES = 10
BASELINE_MESSAGES = 100
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def spec(name: str) -> PipelineSpec:
    return spec_from_dict(
        {
            "name": name,
            "topics": ["words"],
            "components": {
                "shout": {
                    "type": "pipeline",
                    "entrypoint": "bench.ui_components:shout",
                    "subscribe": [{"topic": "words"}],
                    "output_topic": "shouted",
                },
                "keep": {
                    "type": "sink",
                    "entrypoint": "bench.ui_components:keep",
                    "subscribe": [{"topic": "shouted"}],
                },
            },
        },
        "<bench.ui spec>",
    )


def publish(topic_arn: str, count: int, text: str = "message") -> None:
    """`count` Pylon messages, ten per PublishBatch."""
    sns = boto3.client("sns")
    for start in range(0, count, 10):
        entries: list[Any] = []
        for n in range(start, min(count, start + 10)):
            wire = encode(BaseMessage(body=f"{text} {n}", objectType=ObjectType.RAW_CONTENT))
            attributes: Any = {
                k: {"DataType": "String", "StringValue": v} for k, v in wire.attributes.items()
            }
            entries.append({"Id": str(n), "Message": wire.body, "MessageAttributes": attributes})
        response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        if response.get("Failed"):
            raise BenchmarkError(f"publish_batch failed: {response['Failed']}")


@contextmanager
def inspected(
    endpoint: AwsEndpoint, run: Runner, with_inspector: bool = True
) -> Iterator[tuple[LocalPipeline, InspectorServer | None]]:
    """A fresh pipeline (and, unless told otherwise, an inspector opened on it)."""
    servers: list[InspectorServer] = []

    def open_inspector(provisioned: ProvisionedPipeline) -> None:
        inspector = new_inspector(provisioned, endpoint.endpoint_url, "<bench>")
        servers.append(InspectorServer(inspector, Binding(port=0)).start())

    pipeline = LocalPipeline(
        spec(unique_name("ui")),
        endpoint,
        run,
        project_root=PROJECT_ROOT,
        record_topics=False,
        before_components=open_inspector if with_inspector else None,
    )
    with ExitStack() as stack:
        pipeline.start()
        stack.callback(pipeline.teardown)
        stack.callback(pipeline.stop)
        for server in servers:
            stack.callback(server.stop)
        yield pipeline, (servers[0] if servers else None)


# ---------------------------------------------------------------- the queue page


def server_ms(url: str) -> float:
    response = urllib3.request("GET", url)
    if response.status != 200:
        raise BenchmarkError(f"GET {url} answered {response.status}")
    timing = response.headers.get("Server-Timing", "")
    return float(timing.split("dur=")[1])


def page_times(server: InspectorServer, queue: str, repeat: int) -> tuple[float, float]:
    """Median server ms of the queue page, and of a search over it."""
    page = [server_ms(f"{server.url}/queues/{queue}") for _ in range(repeat)]
    search = [server_ms(f"{server.url}/queues/{queue}?q=message+4") for _ in range(repeat)]
    return statistics.median(page), statistics.median(search)


def queue_page(endpoint: AwsEndpoint, count: int, repeat: int) -> tuple[float, float]:
    with inspected(endpoint, Runner.NONE) as (pipeline, server):
        assert server is not None and pipeline.provisioned is not None
        queue = str(pipeline.provisioned.components["shout"].spec.input_queue)
        publish(pipeline.provisioned.topic_arn(pipeline.spec.topics[0]), count)
        store = server.inspector.store
        wait_until(
            lambda: len(store.messages("queue", queue)) >= count,
            timeout_s=60 + count / 20,
            interval_s=0.5,
            what=f"the inspector to see {count} messages in {queue}",
            describe=lambda: str(len(store.messages("queue", queue))),
        )
        return page_times(server, queue, repeat)


# ---------------------------------------------------------------- open pages


class OpenPages:
    """`count` clients of the live-update stream, as open pipeline pages are."""

    def __init__(self, url: str, count: int) -> None:
        self._url = url
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._follow, daemon=True) for _ in range(count)]
        self.events = 0

    def _follow(self) -> None:
        response = urllib3.request("GET", self._url + "/events", preload_content=False)
        for chunk in response.stream(1024):
            if b"event: counts" in chunk:
                self.events += 1
            if self._stop.is_set():
                break
        response.release_conn()

    def __enter__(self) -> OpenPages:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)


def throughput(endpoint: AwsEndpoint, messages: int, pages: int, with_inspector: bool) -> float:
    """Messages per second through both stages, first publish to both queues drained.

    Publishing returns once SNS has delivered to the first queue, and a component deletes
    a message only after publishing its outputs: both queues empty (nothing waiting,
    nothing in flight) after the last publish means every message went through."""
    with inspected(endpoint, Runner.PROCESSES, with_inspector) as (pipeline, server):
        assert pipeline.provisioned is not None
        queues = [pipeline.provisioned.components[c].queue_url for c in ("shout", "keep")]
        with ExitStack() as stack:
            if server is not None and pages:
                stack.enter_context(OpenPages(server.url, pages))
            started = time.perf_counter()
            publish(pipeline.provisioned.topic_arn(pipeline.spec.topics[0]), messages)
            wait_until(
                lambda: all(queue_depth(str(url)).total == 0 for url in queues),
                timeout_s=120 + messages / 10,
                interval_s=0.1,
                what=f"{messages} messages through both stages",
            )
            return messages / (time.perf_counter() - started)


# ---------------------------------------------------------------- the report


def measure(options: argparse.Namespace) -> Report:
    count = 300 if options.quick else options.messages
    flow = 100 if options.quick else options.pipeline_messages
    repeat = 1 if options.quick else options.repeat
    with emulator_endpoint(options.endpoint) as endpoint:
        page_ms, search_ms = queue_page(endpoint, count, max(3, repeat))
        base_page_ms, base_search_ms = queue_page(endpoint, BASELINE_MESSAGES, max(3, repeat))
        rates: dict[str, list[float]] = {"none": [], "closed": [], "open": []}
        for _ in range(repeat):  # alternating, so a busier moment hits every condition
            rates["closed"].append(throughput(endpoint, flow, 0, with_inspector=True))
            rates["open"].append(throughput(endpoint, flow, OPEN_PAGES, with_inspector=True))
            rates["none"].append(throughput(endpoint, flow, 0, with_inspector=False))
    return _report(options, count, flow, repeat, (page_ms, search_ms),
                   (base_page_ms, base_search_ms), rates)  # fmt: skip


def _report(
    options: argparse.Namespace,
    count: int,
    flow: int,
    repeat: int,
    page: tuple[float, float],
    baseline: tuple[float, float],
    rates: dict[str, list[float]],
) -> Report:
    report = Report(
        NAME,
        "Web inspector: queue page server time; pipeline throughput with pages open",
        parameters={
            "messages": count,
            "pipeline_messages": flow,
            "repeat": repeat,
            "open_pages": OPEN_PAGES,
            "rates_per_s": rates,
        },
    )
    base_name = f"the same page, {BASELINE_MESSAGES} messages"
    report.add(Figure(f"queue page, {count:,} messages (server time)", page[0] / 1000, "s",
                      base_name, baseline[0] / 1000, PAGE_TARGET))  # fmt: skip
    report.add(Figure(f"search over {count:,} messages (server time)", page[1] / 1000, "s",
                      base_name, baseline[1] / 1000, PAGE_TARGET))  # fmt: skip
    closed = statistics.median(rates["closed"])
    report.add(Figure(f"pipeline, {OPEN_PAGES} inspector pages open", statistics.median(rates["open"]),
                      "msg/s", "inspector running, no page open", closed, PAGES_TARGET))  # fmt: skip
    report.add(Figure("pipeline, inspector running (no page)", closed, "msg/s",
                      "no inspector", statistics.median(rates["none"])))  # fmt: skip
    report.notes.append(
        "Server time is the app's own Server-Timing header (request in, response headers "
        "out). The queue page shows the newest 500 messages; a search scans all of them."
    )
    report.notes.append(
        f"Throughput: {flow} messages through two stages (components as processes), "
        f"median of {repeat} alternating runs per condition, each on a fresh pipeline. The "
        "inspector itself (a tap on each topic, a mirror of each queue) is read against no "
        "inspector in the last row: that cost is the emulator's, not the pages'."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(NAME, "Web inspector: queue page time and open pages' cost.")
    cli.add_endpoint_option(arguments)
    arguments.add_argument("--messages", type=int, default=10_000, help="messages in the queue")
    arguments.add_argument(
        "--pipeline-messages", type=int, default=2_000, help="messages through the pipeline"
    )
    arguments.add_argument("--repeat", type=int, default=3, help="runs per condition")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())
