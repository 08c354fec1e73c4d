"""Large payloads: time and memory to offload and retrieve bodies of 200 KiB to 5 MiB.

Pylon's side is the runtime's own code: `PayloadOffloader.offload_if_needed` on an
outgoing message (stores the body in S3 when body plus attributes exceed SNS's 256 KiB,
and returns the extended-client pointer message) and `resolve_body` on the received
pointer (fetches the text back). The baseline is plain boto3 `put_object` /
`get_object(...).read()` of the same bytes, on the same emulator's S3 in the same run.
A 200 KiB body is under the limit: Pylon sends it inline, so its row shows what the
decision costs and what offloading it would have cost.

Time is the best of `--repeat` runs; peak memory is the largest amount of memory Python
allocated during one operation (tracemalloc, measured in separate runs because tracing
slows everything down), shown beside the payload size.

    python -m bench.payloads [--sizes-kib 200 300 1024 5120] [--repeat 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import cli
from bench.emulator import emulator_endpoint, unique_name
from bench.errors import BenchmarkError
from bench.report import Figure, Report
from bench.timing import best_of
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.codec import encode
from pylon.models.messages import BaseMessage, PayloadType
from pylon.payloads import PayloadOffloader, resolve_body
from pylon.wire import InboundMessage

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NAME = "payloads"
KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Measured:
    """Seconds (best run) and peak bytes allocated, of one operation."""

    seconds: float
    peak_bytes: int


def timed(repeat: int, operation: Callable[[], Any]) -> Measured:
    best = best_of(repeat, operation)
    tracemalloc.start()
    try:
        operation()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Measured(best, peak)


@dataclass(frozen=True)
class SizeResult:
    offloaded: bool
    operations: dict[str, Measured]


class PayloadBench:
    def __init__(self, bucket: str, s3: S3Client, repeat: int) -> None:
        self.bucket = bucket
        self.s3 = s3
        self.store = S3Store(s3)
        self.offloader = PayloadOffloader(self.store, f"s3://{bucket}/offload/")
        self.repeat = repeat

    def measure(self, size: int) -> SizeResult:
        body = _text_of(size)
        data = body.encode("utf-8")
        wire = encode(BaseMessage(body=body, ingestionId="bench-root"))
        sent = self.offloader.offload_if_needed(wire)
        inbound = InboundMessage("bench", "receipt", sent.body, dict(sent.attributes))
        if resolve_body(inbound, self.store) != body:
            raise BenchmarkError(f"the {size}-byte payload did not come back unchanged")
        key = f"baseline/{size}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        operations = {
            "offload": timed(self.repeat, lambda: self.offloader.offload_if_needed(wire)),
            "retrieve": timed(self.repeat, lambda: resolve_body(inbound, self.store)),
            "put_object": timed(
                self.repeat, lambda: self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
            ),
            "get_object": timed(
                self.repeat,
                lambda: self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(),
            ),
        }
        return SizeResult(sent.attributes.get("payloadType") == PayloadType.S3.value, operations)


def _text_of(size: int) -> str:
    """`size` bytes of JSON-ish ASCII text (1 character = 1 UTF-8 byte)."""
    line = '{"station":"st-001","reading":12.5,"unit":"C"}\n'
    return (line * (size // len(line) + 1))[:size]


def measure(options: argparse.Namespace) -> Report:
    sizes = [200 * KIB, 300 * KIB] if options.quick else [k * KIB for k in options.sizes_kib]
    repeat = 1 if options.quick else options.repeat
    results: dict[int, SizeResult] = {}
    with emulator_endpoint(options.endpoint):
        s3: S3Client = new_client("s3")
        bucket = unique_name("bench-payloads")
        s3.create_bucket(Bucket=bucket)
        bench = PayloadBench(bucket, s3, repeat)
        for size in sizes:
            results[size] = bench.measure(size)
    return _report(results, repeat)


def _label(size: int) -> str:
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size // KIB} KiB"


def _report(results: dict[int, SizeResult], repeat: int) -> Report:
    report = Report(
        NAME,
        "Large payloads: offload to / retrieve from the emulator's S3 vs plain boto3",
        parameters={"sizes_bytes": list(results), "repeat": repeat},
    )
    for size, result in results.items():
        label = _label(size)
        ops = result.operations
        note = "" if result.offloaded else "under 256 KiB: sent inline, not offloaded"
        for name, baseline in (("offload", "put_object"), ("retrieve", "get_object")):
            report.add(
                Figure(
                    f"{label} {name}",
                    ops[name].seconds * 1e3,
                    "ms",
                    baseline,
                    ops[baseline].seconds * 1e3,
                    note=note,
                )
            )
        pylon_peak = max(ops["offload"].peak_bytes, ops["retrieve"].peak_bytes)
        boto_peak = max(ops["put_object"].peak_bytes, ops["get_object"].peak_bytes)
        report.add(
            Figure(
                f"{label} peak memory (offload or retrieve)",
                pylon_peak / MIB,
                "MiB",
                "put/get_object",
                boto_peak / MIB,
                note=f"{pylon_peak / size:.1f}x the payload",
            )
        )
    report.notes.append(
        f"Best of {repeat} run(s) per operation; peak memory = tracemalloc peak of one operation "
        "(Python allocations: the body, its encoded bytes and botocore's buffers)."
    )
    return report


def parser() -> argparse.ArgumentParser:
    arguments = cli.parser(NAME, "Large payloads: offload and retrieval time and memory.")
    cli.add_endpoint_option(arguments)
    arguments.add_argument(
        "--sizes-kib", type=int, nargs="+", default=[200, 300, 1024, 5120], help="payload sizes"
    )
    arguments.add_argument("--repeat", type=int, default=5, help="runs; the fastest is shown")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(parser(), measure, argv)


if __name__ == "__main__":
    sys.exit(main())
