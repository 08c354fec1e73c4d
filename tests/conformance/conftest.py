"""The conformance suite's wiring: divergences as strict expected failures, and the table.

Every test carries `@pytest.mark.conformance(FEATURE)` and runs once per backend. After
the run, the outcome of each (feature, backend) is written as JSON to
`$PYLON_REPORT_DIR/conformance.json` (default: `reports/` under pytest's temporary
directory) and, with `PYLON_CONFORMANCE_README=README.md` (what `make conformance`
sets), as the "Backend conformance" table of that file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.divergences import DIVERGENCES, NOTES
from tests.conformance.table import Outcome, Result, write_readme_table

README_ENV_VAR = "PYLON_CONFORMANCE_README"
_results: list[Result] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(feature): a feature of the conformance suite")


def _feature_and_backend(item: pytest.Item) -> tuple[str, str] | None:
    marker = item.get_closest_marker("conformance")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None:
        return None
    return str(marker.args[0]), str(callspec.params["pylon_backend"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        found = _feature_and_backend(item)
        if found is not None and found in DIVERGENCES:
            item.add_marker(pytest.mark.xfail(strict=True, reason=DIVERGENCES[found]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    found = _feature_and_backend(item)
    if found is None or not _final(report):
        return report
    _results.append(Result(found[0], found[1], _outcome(report), _reason(item, report)))
    return report


def _final(report: pytest.TestReport) -> bool:
    return report.when == "call" or (report.when == "setup" and not report.passed)


def _outcome(report: pytest.TestReport) -> Outcome:
    if hasattr(report, "wasxfail"):
        return Outcome.DIVERGES if report.skipped else Outcome.FAILED
    if report.skipped:
        return Outcome.NOT_RUN
    return Outcome.PASSED if report.passed else Outcome.FAILED


def _reason(item: pytest.Item, report: pytest.TestReport) -> str:
    found = _feature_and_backend(item)
    if found in DIVERGENCES:
        return DIVERGENCES[found]  # type: ignore[index]
    if found in NOTES and report.passed:
        return NOTES[found]  # type: ignore[index]
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _results:
        return
    report_dir = Path(
        os.environ.get("PYLON_REPORT_DIR")
        or session.config._tmp_path_factory.getbasetemp() / "reports"
    )  # type: ignore[attr-defined]
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "conformance.json").write_text(
        json.dumps([result.as_dict() for result in _results], indent=2)
    )
    readme = os.environ.get(README_ENV_VAR)
    if readme:
        write_readme_table(Path(readme), _results)
