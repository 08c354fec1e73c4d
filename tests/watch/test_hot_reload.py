"""`pylon up --watch` end to end on the embedded emulator: saves restart the right
component with the new code, crashes back off and show their traceback once, spec changes
apply in place, removals wait for --prune."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest

from harness.pipeline.local_pipeline import Runner
from harness.testing.waiting import wait_until
from harness.watch.health import State
from pylon import BaseMessage, ObjectType
from tests.watch.conftest import Project, StartWatching, Watching

pytestmark = pytest.mark.slow


def word(text: str) -> BaseMessage:
    return BaseMessage(body=text, objectType=ObjectType.RAW_CONTENT, ingestionId=str(uuid.uuid4()))


def outputs(watching: Watching, body: str, count: int = 1, timeout_s: float = 30) -> None:
    watching.pipeline.recorder("shouted").wait_for(
        count, lambda m: m.body == body, timeout_s=timeout_s
    )


def state(watching: Watching, name: str) -> State:
    return watching.reloader.watched[name].state


RUNNERS = [
    pytest.param(Runner.PROCESSES, id="processes"),
    pytest.param(Runner.IN_PROCESS, id="threads"),
    pytest.param(Runner.CONTAINERS, id="containers", marks=pytest.mark.docker),
]


@pytest.mark.parametrize("run", RUNNERS)
def test_saving_a_component_restarts_only_it_with_the_new_code(
    start_watching: StartWatching, project: Project, run: Runner
) -> None:
    watching = start_watching(run)
    keep_version = watching.reloader.watched["keep"].version
    shout_version = watching.reloader.watched["shout"].version

    def scenario() -> None:
        watching.pipeline.publish("words", word("hello"))
        outputs(watching, "v1:HELLO")
        project.write_stage("v2")
        # Settled: the replaced process has finished what it had in hand and is gone.
        wait_until(lambda: watching.reloader.watched["shout"].version != shout_version
                   and state(watching, "shout") is State.RUNNING, 30, what="shout to settle")  # fmt: skip
        watching.pipeline.publish("words", word("again"))
        outputs(watching, "v2:AGAIN")

    watching.run_while(scenario)

    assert watching.reloader.watched["keep"].version == keep_version
    assert any("shout restarting" in line for line in watching.said)
    assert not any("keep restarting" in line for line in watching.said), watching.said


def test_a_shared_helper_restarts_every_component_importing_it(
    start_watching: StartWatching, project: Project
) -> None:
    watching = start_watching(Runner.PROCESSES)
    shared = project.root / project.package / "shared.py"

    def scenario() -> None:
        shared.write_text('def label(version, text):\n    return f"{version}|{text}"\n')
        wait_until(
            lambda: any("shout restarting" in s for s in watching.said),
            15,
            describe=lambda: str(watching.said),
        )
        watching.pipeline.publish("words", word("shared"))
        outputs(watching, "v1|SHARED")

    watching.run_while(scenario)
    assert not any("keep restarting" in line for line in watching.said)  # keep does not import it


@pytest.mark.parametrize("run", RUNNERS[:2])
def test_a_broken_save_shows_its_traceback_once_backs_off_and_the_fix_loses_nothing(
    start_watching: StartWatching, project: Project, run: Runner
) -> None:
    watching = start_watching(run)

    def scenario() -> None:
        project.write_stage("v2", broken=True)
        wait_until(lambda: watching.reloader.watched["shout"].crashes >= 3, 30,
                   what="three crashes of the broken stage")  # fmt: skip
        for n in range(5):  # published while nothing can process them
            watching.pipeline.publish("words", word(f"waiting {n}"))
        project.write_stage("v3")
        for n in range(5):
            outputs(watching, f"v3:WAITING {n}")
        wait_until(lambda: state(watching, "shout") is State.RUNNING, 15)

    started = time.monotonic()
    watching.run_while(scenario)

    assert project.seen("shout", "SyntaxError: invalid syntax") == 1, project.lines
    crashes = [line for line in watching.said if "shout exited with code" in line]
    assert crashes and "retry in 1 s" in crashes[0]
    assert time.monotonic() - started < 60  # 1 + 2 + 4 s of backoff, not a tight loop


def test_spec_changes_apply_in_place_and_removals_wait_for_prune(
    start_watching: StartWatching, project: Project
) -> None:
    watching = start_watching(Runner.PROCESSES)
    keep_queue = watching.pipeline.resources.components["keep"].queue_url
    assert keep_queue
    spec = project.spec()
    spec["components"]["shout"]["subscribe"] = [
        {"topic": "words", "filter": {"objectType": ["rawContent"]}}
    ]
    spec["components"]["shout"]["visibility_timeout"] = 45
    spec["components"]["echo"] = {
        "type": "pipeline",
        "entrypoint": f"{project.package}.stage:shout",
        "subscribe": ["words"],
        "output_topic": "echoed",
        "config": {"API_TOKEN": "s3cr3t"},
    }
    del spec["components"]["keep"]

    def scenario() -> None:
        project.write_spec(spec)
        wait_until(lambda: any("spec applied" in s for s in watching.said), 20)
        watching.pipeline.publish("words", word("fan out"))
        watching.pipeline.recorder("echoed").wait_for(1, lambda m: m.body == "v1:FAN OUT")
        outputs(watching, "v1:FAN OUT")

    watching.run_while(scenario)

    applied = next(s for s in watching.said if "spec applied" in s)
    assert "+ component echo" in applied
    assert "- component keep: stopped (resources kept; --prune removes them)" in applied
    assert "visibility_timeout 30 -> 45 (applied in place)" in applied
    assert "s3cr3t" not in "".join(watching.said)
    shout_url = watching.pipeline.resources.components["shout"].queue_url
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=str(shout_url), AttributeNames=["VisibilityTimeout"]
    )
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    boto3.client("sqs").get_queue_attributes(QueueUrl=keep_queue)  # still there: kept


def test_with_prune_a_removed_component_takes_its_queues_along(
    start_watching: StartWatching, project: Project
) -> None:
    watching = start_watching(Runner.PROCESSES, prune=True)
    keep_queue = watching.pipeline.resources.components["keep"].queue_url
    spec = project.spec()
    del spec["components"]["keep"]

    def scenario() -> None:
        project.write_spec(spec)
        wait_until(lambda: any("spec applied" in s for s in watching.said), 20)

    watching.run_while(scenario)

    applied = next(s for s in watching.said if "spec applied" in s)
    assert "- component keep: stopped\n" in applied + "\n"
    assert "deleted queue" in applied and "keep-in-dlq" in applied
    sqs = boto3.client("sqs")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_attributes(QueueUrl=str(keep_queue))


def test_a_spec_that_does_not_load_changes_nothing(
    start_watching: StartWatching, project: Project
) -> None:
    watching = start_watching(Runner.PROCESSES)

    def scenario() -> None:
        project.spec_path.write_text("name: x\ncomponents:\n  a: {type: nonsense}\n")
        wait_until(lambda: any("spec not applied" in s for s in watching.said), 20)
        watching.pipeline.publish("words", word("still"))
        outputs(watching, "v1:STILL")

    watching.run_while(scenario)
    assert "components.a" in next(s for s in watching.said if "spec not applied" in s)


def test_a_lambda_component_gets_its_new_code_deployed(
    start_watching: StartWatching, project: Project
) -> None:
    spec = project.spec()
    spec["components"]["shout"]["mode"] = "lambda"
    project.write_spec(spec)
    watching = start_watching(Runner.PROCESSES)

    def scenario() -> None:
        watching.pipeline.publish("words", word("lambda"))
        outputs(watching, "v1:LAMBDA", timeout_s=60)
        project.write_stage("v2")
        wait_until(lambda: state(watching, "shout") is State.RUNNING
                   and watching.reloader.watched["shout"].version != before, 60)  # fmt: skip
        watching.pipeline.publish("words", word("redeployed"))
        outputs(watching, "v2:REDEPLOYED", timeout_s=60)

    before = watching.reloader.watched["shout"].version
    watching.run_while(scenario)
