"""`pylon capture` and `pylon replay`: real traffic to a file, and back into a local pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import boto3
import typer

from harness.capture.format import CapturedMessage, CaptureWriter, parse_time
from harness.capture.recording import DEFAULT_HOLD_SECONDS, CaptureReport, StopWhen, capture
from harness.capture.replay import ReplayFilter, ReplayReport, captured_sources, replay
from harness.cli.shell import (
    AllowRemote,
    CliUsageError,
    EndpointOption,
    connect,
    console,
    err,
    optional_spec,
    run_command,
)
from harness.messaging.payloads import payload_location
from harness.messaging.targets import Target, resolve_target, spec_target_name
from harness.observe.taps import QueuePeek
from harness.spec import PipelineSpec

PANEL = "Messages"


def register(app: typer.Typer) -> None:
    app.command("capture", rich_help_panel=PANEL)(capture_command)
    app.command("replay", rich_help_panel=PANEL)(replay_command)


# ------------------------------------------------------------------ capture


def capture_command(
    source: Annotated[
        str,
        typer.Argument(
            help="Topic name/ARN (what it publishes, through a temporary queue) or queue "
            "name/URL (what sits in it; nothing is consumed)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Capture file (JSON Lines).")],
    count: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
    follow: Annotated[
        bool,
        typer.Option(help="Queue: keep waiting for new messages instead of stopping once read."),
    ] = False,
    hold_seconds: Annotated[
        int, typer.Option(help="Queue: keep read messages invisible this long while capturing.")
    ] = DEFAULT_HOLD_SECONDS,
    aws: Annotated[
        bool,
        typer.Option(
            "--aws",
            help="Capture from real AWS with your own credentials and region (profile, env); "
            "read-only on the source.",
        ),
    ] = False,
    profile: Annotated[str | None, typer.Option(help="With --aws: the AWS profile.")] = None,
    region: Annotated[str | None, typer.Option(help="With --aws: the region.")] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Record messages (body, every attribute, timestamps, S3 payloads) into a JSON Lines file."""

    def action() -> None:
        session = _capture_session(aws, profile, region, endpoint, allow_remote)
        target = resolve_target(source, session)
        if target.kind == "queue":
            _warn_about_redrive(QueuePeek(target.address, hold_seconds, session))
        stop = StopWhen(count, seconds, follow)
        report = _capture_live(target, output, stop, session, hold_seconds)
        _print_capture_report(report, target, output)

    run_command(action)


def _capture_session(
    aws: bool, profile: str | None, region: str | None, endpoint: str | None, allow_remote: bool
) -> boto3.session.Session:
    if aws:
        if endpoint is not None:
            raise CliUsageError("--aws uses AWS's own endpoints; leave out --endpoint")
        return boto3.session.Session(profile_name=profile, region_name=region)
    if profile is not None or region is not None:
        raise CliUsageError("--profile and --region apply to --aws only")
    connect(endpoint, allow_remote)
    return boto3.session.Session()


def _warn_about_redrive(peek: QueuePeek) -> None:
    limit = peek.redrive_limit()
    if limit is not None:
        err.print(
            f"[yellow]warning:[/yellow] the queue has a redrive policy (maxReceiveCount {limit}): "
            "capturing counts as one receive of every message read, and a message already "
            "at its last receive moves to the dead-letter queue instead of being captured"
        )


def _capture_live(
    target: Target, output: Path, stop: StopWhen, session: boto3.session.Session, hold: int
) -> CaptureReport:
    limits = _describe_stop(target, stop)
    with (
        console.status(f"capturing {target.kind} {target.name} {limits}") as status,
        CaptureWriter(output) as writer,
    ):

        def progress(message: CapturedMessage) -> None:
            status.update(f"captured {writer.count} from {target.kind} {target.name} {limits}")

        try:
            return capture(target, writer, stop, session, progress, hold)
        except KeyboardInterrupt:
            return CaptureReport(captured=writer.count)


def _describe_stop(target: Target, stop: StopWhen) -> str:
    parts = [f"until {stop.count} messages"] if stop.count else []
    parts += [f"for {stop.seconds:g} s"] if stop.seconds else []
    if parts:
        return " or ".join(parts)
    return "until all is read" if target.kind == "queue" and not stop.follow else "until Ctrl-C"


def _print_capture_report(report: CaptureReport, target: Target, output: Path) -> None:
    payloads = f", {report.payloads} S3 payload(s) stored in the file" if report.payloads else ""
    console.print(
        f"captured {report.captured} message(s) from {target.kind} [bold]{target.name}[/bold] "
        f"into {output}{payloads}"
    )
    for problem in report.payload_errors:
        err.print(f"[yellow]payload not captured:[/yellow] {problem}")
    if report.not_released:
        err.print(
            f"[yellow]{len(report.not_released)} message(s) were deleted by a consumer while "
            "being captured (they could not be made visible again, as they are gone)[/yellow]"
        )


# ------------------------------------------------------------------ replay


def replay_command(
    capture_file: Annotated[Path, typer.Argument(help="A file written by `pylon capture`.")],
    to: Annotated[
        str | None,
        typer.Option(
            help="Queue name/URL or topic name/ARN; with --spec also a component (its input "
            "queue) or a topic by its spec name. With --from-step it defaults to where the "
            "journey's input was captured."
        ),
    ] = None,
    from_step: Annotated[
        list[str] | None,
        typer.Option(
            "--from-step",
            help="Only a journey's input: the data messages carrying this ingestionId "
            "(repeatable), e.g. from a capture written by `pylon ui` or `pylon up --ui`.",
        ),
    ] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", help="Pipeline spec naming --to and the payload bucket."),
    ] = None,
    object_type: Annotated[
        list[str] | None,
        typer.Option("--object-type", help="Only messages of this objectType (repeatable)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only messages sent at or after this ISO 8601 time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only messages sent before this ISO 8601 time.")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="At most this many messages per second.")
    ] = None,
    skip_bad_lines: Annotated[
        bool, typer.Option(help="Replay the other lines when some are corrupt, and list them.")
    ] = False,
    payload_s3_path: Annotated[
        str | None,
        typer.Option(help="s3://bucket/prefix/ for re-uploaded S3 payloads (default: the spec's)."),
    ] = None,
    group_id: Annotated[
        str | None,
        typer.Option(
            help="FIFO target: send every message in this group (default: each message's "
            "captured group)."
        ),
    ] = None,
    endpoint: EndpointOption = None,
    allow_remote: AllowRemote = False,
) -> None:
    """Send a capture into a local queue or topic, attributes preserved, filtered and paced."""

    def action() -> None:
        spec = optional_spec(spec_file)
        connect(endpoint, allow_remote)
        chosen = ReplayFilter(
            frozenset(object_type or ()),
            parse_time(since, "--since") if since else None,
            parse_time(until, "--until") if until else None,
            frozenset(from_step or ()),
        )
        target = _replay_target(capture_file, to, spec, chosen)
        with console.status(f"replaying {capture_file} into {target.kind} {target.name}") as status:
            report = replay(
                capture_file,
                target,
                chosen,
                rate=rate,
                skip_bad_lines=skip_bad_lines,
                payload_s3_path=payload_s3_path or _replay_location(spec),
                on_sent=lambda _: status.update(f"replayed into {target.kind} {target.name}…"),
                group_id=group_id,
            )
        _print_replay_report(report, target)

    run_command(action)


def _replay_target(
    capture_file: Path, to: str | None, spec: PipelineSpec | None, chosen: ReplayFilter
) -> Target:
    if to is not None:
        return resolve_target(spec_target_name(spec, to))
    if not chosen.ingestion_ids:
        raise CliUsageError("say where to replay with --to (or pick a journey with --from-step)")
    sources = captured_sources(capture_file, chosen)
    if not sources:
        raise CliUsageError(
            f"{capture_file} holds no data message with ingestionId "
            f"{', '.join(sorted(chosen.ingestion_ids))}; `pylon ui` shows the journeys it captured"
        )
    if len(sources) > 1:
        names = ", ".join(f"{t.kind} {t.name}" for t in sources.values())
        raise CliUsageError(f"that journey's input was seen at {names}; pick one with --to")
    return next(iter(sources.values()))


def _replay_location(spec: PipelineSpec | None) -> str | None:
    location = payload_location(spec.payload_s3_path if spec else None, None, "replay")
    return location.uri if location else None


def _print_replay_report(report: ReplayReport, target: Target) -> None:
    details = [f"{report.filtered_out} filtered out"] if report.filtered_out else []
    if report.payloads_restored:
        details.append(f"{report.payloads_restored} S3 payload(s) re-uploaded")
    suffix = f" ({', '.join(details)})" if details else ""
    console.print(
        f"replayed {report.sent} message(s) into {target.kind} [bold]{target.name}[/bold]{suffix}"
    )
    for bad in report.skipped:
        err.print(f"[yellow]skipped line {bad.line}:[/yellow] {bad.reason}")
