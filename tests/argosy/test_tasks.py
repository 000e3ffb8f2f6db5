"""argosy/tasks.py: guarded loops restart, log, back off, and stop with a bound.

Delays are counted by a fake `sleep`, never waited out; nothing here opens a socket.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from argosy.tasks import Loops, guard

log = logging.getLogger("test-tasks")


class Sleeps:
    """A fake `sleep`: records each delay; after `limit` of them it raises CancelledError, as
    if the program were being stopped during a backoff."""

    def __init__(self, limit: int) -> None:
        self.delays: list[float] = []
        self.limit = limit

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) >= self.limit:
            raise asyncio.CancelledError


async def test_a_forever_loop_that_returns_is_logged_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def returns() -> None:
        nonlocal calls
        calls += 1

    sleeps = Sleeps(limit=2)
    with caplog.at_level(logging.ERROR), pytest.raises(asyncio.CancelledError):
        await guard("writer", returns, log=log, initial=1.0, maximum=10.0, sleep=sleeps)
    assert calls == 2
    returned = [r for r in caplog.records if "should run until cancelled" in r.getMessage()]
    assert len(returned) == 2
    assert all(r.getMessage().startswith("writer returned") for r in returned)
    # A loop that returns at once every time backs off too, rather than spinning.
    assert 0.5 <= sleeps.delays[0] <= 1.0 and 1.0 <= sleeps.delays[1] <= 2.0


async def test_an_exception_restarts_the_loop_after_a_capped_jittered_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def fails() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError(f"boom {calls}")

    sleeps = Sleeps(limit=6)
    with caplog.at_level(logging.ERROR), pytest.raises(asyncio.CancelledError):
        await guard("rollouts", fails, log=log, initial=1.0, maximum=4.0, sleep=sleeps)
    assert calls == 6
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(sleeps.delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    failed = [r for r in caplog.records if "rollouts failed; restarting in" in r.getMessage()]
    assert len(failed) == 6
    assert failed[0].exc_info is not None and str(failed[0].exc_info[1]) == "boom 1"


async def test_cancelled_error_from_the_loop_is_never_swallowed() -> None:
    calls = 0

    async def cancelled() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    sleeps = Sleeps(limit=100)
    with pytest.raises(asyncio.CancelledError):
        await guard("watch", cancelled, log=log, sleep=sleeps)
    assert calls == 1 and sleeps.delays == []


async def test_cancelling_a_guarded_loop_ends_it_instead_of_restarting_it() -> None:
    started, finished = asyncio.Event(), asyncio.Event()
    calls = 0

    async def forever() -> None:
        nonlocal calls
        calls += 1
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            finished.set()

    task = asyncio.create_task(guard("link", forever, log=log, sleep=Sleeps(limit=100)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and finished.is_set() and calls == 1


async def test_a_stuck_loop_is_named_at_stop_and_the_others_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    running = asyncio.Event()
    release = asyncio.Event()

    async def stubborn() -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # a loop that is slow to honour cancellation
            raise

    async def polite() -> None:
        await asyncio.Event().wait()

    loops = Loops(log=log, stop_timeout=0.05)
    stubborn_task = loops.start("stubborn", stubborn)
    polite_task = loops.start("polite", polite)
    await running.wait()
    with caplog.at_level(logging.ERROR):
        stuck = await loops.stop()
    assert stuck == ["stubborn"]
    assert polite_task.cancelled() and not stubborn_task.done()
    message = next(r.getMessage() for r in caplog.records if "left behind" in r.getMessage())
    assert "stubborn (test_tasks.py:" in message and "in stubborn)" in message
    assert "polite" not in message
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await stubborn_task


async def test_wait_returns_on_stop_and_leaving_the_block_stops_every_loop() -> None:
    stop = asyncio.Event()

    async def sets_stop() -> None:
        stop.set()
        await asyncio.Event().wait()

    async def forever() -> None:
        await asyncio.Event().wait()

    async with Loops(log=log) as loops:
        first = loops.start("first", forever)
        second = loops.start("stopper", sets_stop)
        with pytest.raises(ValueError, match="already running"):
            loops.start("first", forever)
        await loops.wait(stop)
        assert not first.done()
    assert first.cancelled() and second.cancelled()
    assert loops.names == ["first", "stopper"]


async def test_cancelling_the_owner_cancels_its_loops_and_propagates() -> None:
    entered = asyncio.Event()
    loop_tasks: list[asyncio.Task[None]] = []

    async def forever() -> None:
        await asyncio.Event().wait()

    async def owner() -> None:
        async with Loops(log=log) as loops:
            loop_tasks.append(loops.start("only", forever))
            entered.set()
            await loops.wait()

    task = asyncio.create_task(owner())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and loop_tasks[0].cancelled()


class Fatal(BaseException):
    """Not an Exception: guard lets it through, as it does KeyboardInterrupt."""


async def test_wait_raises_what_a_loop_died_of() -> None:
    async def dies() -> None:
        raise Fatal("gone")

    async def forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(Fatal, match="gone"):
        async with Loops(log=log) as loops:
            survivor = loops.start("survivor", forever)
            loops.start("dies", dies)
            await loops.wait(asyncio.Event())
    assert survivor.cancelled()
