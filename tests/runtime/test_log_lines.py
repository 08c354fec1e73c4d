"""The cheap routes of Pylon's fixed-shape lines write what `logging` itself would write."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

from pylon.log_format import REDACTED, TEXT_FORMAT, PylonHandler, SecretRedactor, TextFormatter
from pylon.logs import Liveness, heartbeat, log_timing

PYLON_LOGGER = logging.getLogger("pylon")


def _every_line_shape() -> None:
    heartbeat("core_process")
    log_timing("total", 12.3456, "step-1", "parent-1")
    log_timing("core_process", 0.5)
    clock = iter([0.0, 100.0, 100.0])
    Liveness(1.0, lambda: next(clock)).poll(3)


@contextmanager
def root_with(handler: logging.Handler, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """The root logger with `handler` alone (redacting `secrets`), the pylon logger at INFO."""
    root = logging.getLogger()
    saved, level = root.handlers[:], PYLON_LOGGER.level
    handler.setFormatter(TextFormatter())
    handler.addFilter(SecretRedactor(secrets))
    root.handlers[:] = [handler]
    PYLON_LOGGER.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers[:] = saved
        PYLON_LOGGER.setLevel(level)


@contextmanager
def counted_records() -> Iterator[list[logging.LogRecord]]:
    """Every LogRecord built through the record factory while inside."""
    made: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)  # type: ignore[arg-type]
        made.append(record)
        return record

    logging.setLogRecordFactory(counting)
    try:
        yield made
    finally:
        logging.setLogRecordFactory(factory)


def _without_timestamps(text: str) -> list[str]:
    """Each line from its level on; the timestamp (date, time) must parse."""
    lines = []
    for line in text.splitlines():
        date, clock, rest = line.split(" ", 2)
        datetime.strptime(f"{date} {clock}", "%Y-%m-%d %H:%M:%S,%f")
        lines.append(rest)
    return lines


def _written(make_handler: Callable[[io.StringIO], logging.Handler], *secrets: str) -> str:
    stream = io.StringIO()
    with root_with(make_handler(stream), secrets):
        _every_line_shape()
    return stream.getvalue()


def test_direct_lines_are_what_a_standard_handler_and_formatter_write() -> None:
    direct = _written(PylonHandler)
    through_logging = _written(logging.StreamHandler)

    assert _without_timestamps(direct) == _without_timestamps(through_logging)
    assert len(direct.splitlines()) == 4
    assert "INFO pylon timed_execution total 12.346 ms" in direct


def test_direct_lines_build_no_log_record_when_pylon_handler_is_alone() -> None:
    with counted_records() as made:
        _written(PylonHandler)
        assert made == []
        _written(logging.StreamHandler)  # not Pylon's handler: records, as always
        assert len(made) == 4


def test_direct_lines_are_redacted_like_records() -> None:
    direct = _written(PylonHandler, "core_process")

    assert "core_process" not in direct
    assert f"heartbeat {REDACTED}" in direct
    assert _without_timestamps(direct) == _without_timestamps(
        _written(logging.StreamHandler, "core_process")
    )


def test_a_second_handler_gets_records_with_the_json_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    with root_with(PylonHandler(stream)):
        logging.getLogger().addHandler(caplog.handler)  # root_with left Pylon's alone
        log_timing("total", 1.5, "step-1", "parent-1")

    [record] = caplog.records
    assert record.getMessage() == "timed_execution total 1.500 ms"
    assert (record.metric, record.timer, record.time_ms) == ("timed_execution", "total", 1.5)  # type: ignore[attr-defined]
    assert record.ingestion_id == "step-1" and record.levelname == "INFO"  # type: ignore[attr-defined]
    assert "timed_execution total 1.500 ms" in stream.getvalue()


def test_a_level_above_info_on_pylon_handler_writes_nothing() -> None:
    def quiet(stream: io.StringIO) -> logging.Handler:
        handler = PylonHandler(stream)
        handler.setLevel(logging.WARNING)
        return handler

    assert _written(quiet) == ""


def test_a_failed_write_goes_to_the_handlers_error_handling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = io.StringIO()
    closed.close()
    with root_with(PylonHandler(closed)):
        heartbeat("core_process")  # must not raise: logging reports, the component goes on

    assert "heartbeat core_process" in capsys.readouterr().err  # logging's "--- Logging error ---"


def test_direct_timestamp_is_the_standard_formatters() -> None:
    ours, standard = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for moment in (1714554060.001, 1714554060.999, 1714557661.25, 1714557661.0, -0.25):
        record = logging.LogRecord("pylon", logging.INFO, "", 0, "x", None, None)
        record.created, record.msecs = moment, int((moment - int(moment)) * 1000) + 0.0

        assert ours.timestamp(moment) == standard.formatTime(record, None)
