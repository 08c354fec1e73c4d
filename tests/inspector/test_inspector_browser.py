"""The inspector in a real browser: Debian's Chromium driven by Playwright.

Playwright's own browser download is not reachable from CI, so the tests drive the
system's `/usr/bin/chromium` (`.ci/run` installs it); without it they skip, saying so.
`PYLON_UI_SCREENSHOT=docs/ui.png` makes the live-counts test save the README's screenshot.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.testing.waiting import wait_until
from pylon import BaseMessage, ObjectType
from tests.inspector.components import HEALTH
from tests.inspector.conftest import DOCS_SPEC, SHOUT_SPEC, InspectPipeline

CHROMIUM = Path(os.environ.get("PYLON_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT_ENV_VAR = "PYLON_UI_SCREENSHOT"
ROOT = Path(__file__).parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # root in CI containers: no sandbox; small /dev/shm: use /tmp; no GPU.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def word(text: str) -> BaseMessage:
    return BaseMessage(body=text, objectType=ObjectType.RAW_CONTENT, ingestionId=str(uuid.uuid4()))


def reload_until(page: Any, selector: str, timeout_s: float = 30) -> Any:
    """Reload the page until `selector` matches (pages that are not live, like DLQs)."""

    def present() -> Any:
        page.reload()
        locator = page.locator(selector)
        return locator if locator.count() else None

    return wait_until(present, timeout_s, interval_s=0.5, what=f"{selector} on {page.url}")


def after_reload(page: Any, check: Any) -> Any:
    """A probe for wait_until: reload, then check (pages that are not live)."""

    def probe() -> Any:
        page.reload()
        return check()

    return probe


def throughput(page: Any, component: str) -> int:
    return int(page.locator(f'tr[data-component="{component}"] td.throughput').inner_text())


# ---------------------------------------------------------------- live counts


def test_counts_change_live_on_the_pipeline_page(
    inspect_pipeline: InspectPipeline, page: Any, tmp_path: Path
) -> None:
    inspected = inspect_pipeline(DOCS_SPEC)
    documents = inspected.pipeline.recorder("documents").wait_for(
        3, lambda m: m.objectType is ObjectType.URL_RESOURCE, timeout_s=60
    )
    page.goto(inspected.url + "/")
    page.evaluate("window.__sameDocument = true")
    wait_until(lambda: throughput(page, "parser") >= 3, 30, what="the parser's first documents")
    before = throughput(page, "parser")

    for document in documents:  # the same documents again: three more for the parser
        inspected.pipeline.publish("documents", document)

    wait_until(
        lambda: throughput(page, "parser") >= before + 3,
        30,
        what="the parser's count to rise on the open page",
        describe=lambda: str(throughput(page, "parser")),
    )
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded: counts must be live"
    assert page.locator('tr[data-component="lake-writer"] td.dead-letters').inner_text() == "0"
    assert re.search(r"\d+ s ago", page.locator('tr[data-component="parser"]').inner_text())
    page.screenshot(path=os.environ.get(SCREENSHOT_ENV_VAR) or tmp_path / "ui.png", full_page=True)


# ---------------------------------------------------------------- journeys


def test_follow_a_journey_from_a_lake_object_back_to_its_source(
    inspect_pipeline: InspectPipeline, page: Any
) -> None:
    inspected = inspect_pipeline(DOCS_SPEC)
    lake = next(b for b in inspected.provisioned.buckets if b.endswith("docs-lake"))
    page.goto(inspected.url + "/buckets")
    lake_file = reload_until(page, f'tr.object a[href*="{lake}"]').first
    lake_file.click()

    assert page.locator("h2").inner_text().startswith(f"s3://{lake}/lake/")
    page.locator("a.journey").first.click()

    # The parser's step: its lineage reaches the fetcher's run, the root source.
    lineage = page.locator("#lineage li")
    wait_until(after_reload(page, lambda: lineage.count() == 2), 30, what="a lineage of 2 steps")
    assert "docs-parser" in lineage.nth(0).inner_text()
    assert "docs-fetcher" in lineage.nth(1).inner_text()
    # ...and the lake-writer is the hop that took it from the readings topic (the lineage
    # recorder, which stored the parser's step record, is another).
    writer = page.locator("tr.processed", has_text="lake-writer")
    assert "total" in writer.locator("td.timings").inner_text()

    lineage.nth(1).locator("a").click()
    processed = page.locator("tr.processed")
    assert "docs-parser" in processed.first.inner_text()
    assert "dataAsset on" in processed.first.inner_text()


# ---------------------------------------------------------------- dead letters


def test_redrive_a_dead_letter_and_see_it_processed(
    inspect_pipeline: InspectPipeline, page: Any
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    inspected.pipeline.publish("words", word("fail until healed"))
    page.goto(inspected.url + "/dead-letters")
    row = reload_until(page, "tr.dead-letter")
    assert "ValueError: shout cannot take 'fail until healed'" in row.inner_text()

    HEALTH.healed = True
    row.get_by_role("button", name="redrive").click()

    assert "moved 1 message(s) back" in page.locator("#flash").inner_text()
    shouted = inspected.pipeline.recorder("shouted").wait_for(
        1, lambda m: m.body == "FAIL UNTIL HEALED"
    )
    assert shouted
    wait_until(
        after_reload(page, lambda: page.locator("tr.dead-letter").count() == 0),
        20,
        what="the dead-letter queue to be empty",
    )


# ---------------------------------------------------------------- escaping

HOSTILE = [
    '<img src=x onerror="window.__pwned = 1">',
    "<script>window.__pwned = 2</script>",
    '"><svg onload="window.__pwned = 3">',
]


def test_a_hostile_body_renders_as_text(inspect_pipeline: InspectPipeline, page: Any) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC, run="none")
    for body in HOSTILE:
        inspected.pipeline.publish("words", word(body))
    queue = inspected.provisioned.components["shout"].spec.input_queue
    page.goto(f"{inspected.url}/queues/{queue}")
    bodies = page.locator("#messages pre.body")
    wait_until(after_reload(page, lambda: bodies.count() == 3), 20, what="3 messages on the page")

    assert sorted(bodies.all_inner_texts()) == sorted(HOSTILE)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages img, #messages script, #messages svg").count() == 0


# ---------------------------------------------------------------- export


def test_the_exported_test_passes(
    inspect_pipeline: InspectPipeline, page: Any, tmp_path: Path
) -> None:
    inspected = inspect_pipeline(SHOUT_SPEC)
    inspected.pipeline.publish("words", word("exported and run"))
    inspected.pipeline.recorder("shouted").wait_for(1, lambda m: m.body == "EXPORTED AND RUN")
    queue = inspected.provisioned.components["shout"].spec.input_queue
    page.goto(f"{inspected.url}/queues/{queue}")
    reload_until(page, "tr.message a").first.click()
    reload_until(page, "tr.processed:has-text('shouter')")

    with page.expect_download() as download:
        page.locator("#export").click()
    exported = tmp_path / "exported" / "test_exported_journey.py"
    exported.parent.mkdir()
    download.value.save_as(exported)

    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(exported), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(exported.parent)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, (run.stdout, time.monotonic() - started)
