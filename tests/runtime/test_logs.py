"""Log line shapes (a contract with CloudWatch metric filters), JSON format and redaction."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pylon.log_format import (
    REDACTED,
    TEXT_FORMAT,
    JsonFormatter,
    SecretRedactor,
    TextFormatter,
    configure_logging,
)
from pylon.logs import heartbeat, log_timing, timed

PYLON_LOGGER = logging.getLogger("pylon")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the pylon logger's level back; configure_logging changes it."""
    level = PYLON_LOGGER.level
    yield
    PYLON_LOGGER.setLevel(level)


@contextmanager
def bare_root_logger() -> Iterator[logging.Logger]:
    """The root logger with no handlers, as in a plain process; restored on exit.

    Used inside the test body: pytest attaches its capture handlers to the root logger
    per test phase, so clearing them in a fixture would not last into the call phase.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        yield root
    finally:
        for handler in root.handlers:
            if handler not in saved_handlers:
                handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@contextmanager
def captured_root(log_format: str, secrets: tuple[str, ...] = ()) -> Iterator[io.StringIO]:
    """A bare root logger with one StringIO handler, configured by configure_logging."""
    stream = io.StringIO()
    with bare_root_logger() as root:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
        configure_logging(log_format, "INFO", secrets)
        yield stream


def matches_timed_execution_filter(line: str) -> bool:
    """CloudWatch's `[..., metric=timed_execution, name=core_process|total, time, unit]`.

    `...` absorbs any leading fields, so the last four space-delimited fields decide.
    """
    fields = line.split()
    if len(fields) < 4:
        return False
    metric, name, time, _unit = fields[-4:]
    try:
        float(time)
    except ValueError:
        return False
    return metric == "timed_execution" and name in {"core_process", "total"}


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


# ------------------------------------------------------------------- heartbeats, timings


@pytest.mark.parametrize("where", ["run_once", "run_forever", "lambda_handler", "core_process"])
def test_heartbeat_message_is_exactly_heartbeat_and_the_name(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pylon"):
        heartbeat(where)

    [record] = caplog.records
    assert record.getMessage() == f"heartbeat {where}"
    assert record.levelno == logging.INFO and record.name == "pylon"


def test_text_format_heartbeat_line_ends_with_heartbeat_and_the_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with bare_root_logger():
        configure_logging("text", "INFO")
        heartbeat("run_forever")

    [line] = _lines(capsys.readouterr().err)
    assert line.endswith(" INFO pylon heartbeat run_forever")


@pytest.mark.parametrize("name", ["core_process", "total"])
def test_text_format_timing_line_matches_the_cloudwatch_metric_filter(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with bare_root_logger():
        configure_logging("text", "INFO")
        log_timing(name, 12.3456)

    [line] = _lines(capsys.readouterr().err)
    assert line.endswith(f"timed_execution {name} 12.346 ms")
    assert matches_timed_execution_filter(line)


@pytest.mark.parametrize(
    "moments",
    [
        [1714554060.001, 1714554060.5, 1714554060.999],  # one second: the date part reused
        [1714554060.999, 1714554061.0, 1714557661.25],  # next second, next hour
    ],
)
def test_text_formatter_writes_what_the_standard_formatter_writes(moments: list[float]) -> None:
    ours, standard = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for moment in moments:
        record = logging.LogRecord("pylon", logging.INFO, "", 0, "heartbeat %s", ("x",), None)
        record.created, record.msecs = moment, (moment - int(moment)) * 1000

        assert ours.format(record) == standard.format(record)


def test_metric_filter_matcher_rejects_other_lines() -> None:
    assert not matches_timed_execution_filter("2024-01-01 00:00:00,000 INFO pylon heartbeat total")
    assert not matches_timed_execution_filter("INFO pylon timed_execution other 1.0 ms")
    assert not matches_timed_execution_filter("INFO pylon timed_execution total soon ms")
    assert not matches_timed_execution_filter("total 1.0 ms")


def test_timed_logs_the_block_duration_even_when_it_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="pylon"),
        pytest.raises(RuntimeError),
        timed("core_process"),
    ):
        raise RuntimeError("task failed")

    [record] = caplog.records
    assert matches_timed_execution_filter(record.getMessage())
    assert record.getMessage().startswith("timed_execution core_process ")
    assert record.timer == "core_process"  # type: ignore[attr-defined]
    assert record.time_ms >= 0  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------- JSON


def test_json_format_writes_one_parseable_object_per_line_with_metric_extras() -> None:
    with captured_root("json") as stream:
        heartbeat("core_process")
        log_timing("total", 5.5)
        logging.getLogger("pylon.worker").warning("multi\nline message")
        try:
            raise ValueError("exploded")
        except ValueError:
            logging.getLogger("pylon.worker").exception("task failed")

    records = [json.loads(line) for line in _lines(stream.getvalue())]
    assert len(records) == 4
    beat, timing, warning, failure = records
    assert beat["level"] == "INFO" and beat["logger"] == "pylon"
    assert beat["message"] == "heartbeat core_process" and beat["heartbeat"] == "core_process"
    assert timing["message"] == "timed_execution total 5.500 ms"
    assert timing["metric"] == "timed_execution"
    assert timing["timer"] == "total" and timing["time_ms"] == 5.5
    assert warning["level"] == "WARNING" and warning["logger"] == "pylon.worker"
    assert warning["message"] == "multi\nline message"
    assert failure["level"] == "ERROR" and "ValueError: exploded" in failure["exception"]
    assert all("timestamp" in r for r in records)


def test_json_formatter_leaves_out_extras_a_record_does_not_have() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "plain %s", ("text",), None)

    data = json.loads(JsonFormatter().format(record))

    assert set(data) == {"timestamp", "level", "logger", "message"}
    assert data["message"] == "plain text"


# --------------------------------------------------------------------------- redaction

SECRET = "s3cr3t-Passw0rd"


def test_redactor_replaces_a_secret_in_the_message() -> None:
    with captured_root("text", (SECRET,)) as stream:
        logging.getLogger("pylon").info(f"connecting with {SECRET} now")

    assert stream.getvalue() == f"connecting with {REDACTED} now\n"


def test_redactor_replaces_a_secret_passed_as_a_percent_argument() -> None:
    with captured_root("text", (SECRET,)) as stream:
        logging.getLogger("pylon").info("config %s and %d", {"password": SECRET}, 3)

    assert stream.getvalue() == f"config {{'password': '{REDACTED}'}} and 3\n"


def test_redactor_replaces_a_secret_in_an_exception_traceback() -> None:
    with captured_root("text", (SECRET,)) as stream:
        try:
            raise ConnectionError(f"login failed for password {SECRET}")
        except ConnectionError:
            logging.getLogger("pylon").exception("cannot connect")

    output = stream.getvalue()
    assert SECRET not in output
    assert f"ConnectionError: login failed for password {REDACTED}" in output


def test_redactor_covers_records_of_other_loggers_and_json_exceptions() -> None:
    with captured_root("json", (SECRET, "second-secret")) as stream:
        try:
            raise KeyError(SECRET)
        except KeyError:
            logging.getLogger("user.task").error("lookup of %s failed", "second-secret")
            logging.getLogger("user.task").exception("lookup failed")

    text = stream.getvalue()
    assert SECRET not in text and "second-secret" not in text
    first, second = (json.loads(line) for line in _lines(text))
    assert first["message"] == f"lookup of {REDACTED} failed"
    assert REDACTED in second["exception"]


def test_redactor_replaces_the_longest_secret_first() -> None:
    redactor = SecretRedactor(["abcd", "abcdefgh"])
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "key=abcdefgh", None, None)

    redactor.filter(record)

    assert record.getMessage() == f"key={REDACTED}"


def test_redactor_without_secrets_leaves_the_record_untouched() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "value %s", ("x",), None)

    assert SecretRedactor().filter(record)

    assert record.msg == "value %s" and record.args == ("x",)


# ------------------------------------------------------------------------- configuration


def test_configure_logging_twice_keeps_one_handler_and_one_redactor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with bare_root_logger() as root:
        configure_logging("text", "INFO", ["first-secret"])
        configure_logging("text", "DEBUG", ["second-secret"])

        assert len(root.handlers) == 1
        [redactor] = [f for f in root.handlers[0].filters if isinstance(f, SecretRedactor)]
        assert redactor.secrets == ["second-secret"]
        assert PYLON_LOGGER.level == logging.DEBUG
        PYLON_LOGGER.debug("debug line")

    assert _lines(capsys.readouterr().err)[-1].endswith("DEBUG pylon debug line")


def test_configure_logging_keeps_a_host_handler_and_adds_none() -> None:
    with captured_root("text") as stream:
        root = logging.getLogger()
        [host_handler] = root.handlers
        heartbeat("lambda_handler")

        assert any(isinstance(f, SecretRedactor) for f in host_handler.filters)

    assert stream.getvalue() == "heartbeat lambda_handler\n"
