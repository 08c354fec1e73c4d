"""`pylon.same_core`: a helper thread is pinned to its owner's core, follows it when the
owner moves, and is left alone where the platform cannot do it (no emulator needed)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pylon.same_core import CoreFollower, core_reader


def can_pin() -> bool:
    """Whether this platform says which core a thread is on and lets it be pinned (a
    container's seccomp policy may refuse sched_setaffinity)."""
    if core_reader() is None:
        return False
    try:
        os.sched_setaffinity(0, os.sched_getaffinity(0))  # pinned where it already may run
    except OSError:
        return False
    return True


needs_affinity = pytest.mark.skipif(
    not can_pin(),
    reason="this platform cannot say which core a thread runs on (sched_getcpu) or pin it",
)


@contextmanager
def idle_thread() -> Iterator[threading.Thread]:
    """A started thread that waits until the block ends."""
    done = threading.Event()
    thread = threading.Thread(target=done.wait, name="idle-helper", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        done.set()
        thread.join()


def first_core() -> int:
    return min(os.sched_getaffinity(0))


@contextmanager
def caller_on(core: int) -> Iterator[None]:
    """Run the calling thread on `core` only, then give it back its cores."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@needs_affinity
def test_the_helper_is_pinned_to_the_callers_core_and_follows_it() -> None:
    cores = sorted(os.sched_getaffinity(0))
    with idle_thread() as helper:
        follower = CoreFollower(helper)
        for core in cores + cores[:1]:  # every core, then back to the first
            with caller_on(core):
                assert follower.follow() == core
            assert os.sched_getaffinity(helper.native_id or 0) == {core}


@needs_affinity
def test_a_helper_already_on_the_callers_core_is_not_pinned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    pin = os.sched_setaffinity
    with idle_thread() as helper:
        core = first_core()
        follower = CoreFollower(helper, reader=lambda: core)
        monkeypatch.setattr(
            os, "sched_setaffinity", lambda tid, cores: (calls.append(tid), pin(tid, cores))
        )
        assert [follower.follow(), follower.follow(), follower.follow()] == [core] * 3
    assert calls == [helper.native_id]


def test_without_a_core_reader_nothing_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pylon.same_core.core_reader", lambda: None)

    def refuse(tid: int, cores: object) -> None:
        raise AssertionError("nothing may be pinned without a core reader")

    if hasattr(os, "sched_setaffinity"):
        monkeypatch.setattr(os, "sched_setaffinity", refuse)
    with idle_thread() as helper:
        assert CoreFollower(helper).follow() is None


@needs_affinity
def test_a_refused_pin_stops_the_following_and_is_logged_at_debug(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[object] = []

    def refuse(tid: int, cores: object) -> None:
        attempts.append(cores)
        raise PermissionError(1, "Operation not permitted")

    with idle_thread() as helper:
        before = os.sched_getaffinity(helper.native_id or 0)
        follower = CoreFollower(helper, reader=lambda: 0)
        monkeypatch.setattr(os, "sched_setaffinity", refuse)
        with caplog.at_level(logging.DEBUG, logger="pylon.same_core"):
            assert follower.follow() is None
            assert follower.follow() is None  # given up: no second attempt
        monkeypatch.undo()
        assert os.sched_getaffinity(helper.native_id or 0) == before
    assert attempts == [{0}]
    assert "idle-helper cannot be kept on its owner's core" in caplog.text
    assert "Operation not permitted" in caplog.text


@needs_affinity
def test_a_refused_pin_after_earlier_ones_gives_the_helper_every_core_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, refused = first_core(), first_core() + 1
    cores = iter([first, refused])
    pin = os.sched_setaffinity
    every_core = os.sched_getaffinity(0)
    with idle_thread() as helper:
        follower = CoreFollower(helper, reader=lambda: next(cores))
        assert follower.follow() == first
        assert os.sched_getaffinity(helper.native_id or 0) == {first}

        def refuse_one_core(tid: int, wanted: set[int]) -> None:
            if wanted == {refused}:
                raise OSError(22, "Invalid argument")
            pin(tid, wanted)

        monkeypatch.setattr(os, "sched_setaffinity", refuse_one_core)
        assert follower.follow() is None
        assert os.sched_getaffinity(helper.native_id or 0) == every_core


def test_a_thread_not_yet_started_cannot_follow() -> None:
    with pytest.raises(ValueError, match="thread not-started must be started"):
        CoreFollower(threading.Thread(target=print, name="not-started"))
