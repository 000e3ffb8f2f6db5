"""The long-running loops of a program: named once, supervised, and stopped with a bound.

Modelled on kopf's `_cogs/aiokits/aiotasks.py` (`guard`, `stop`). The hub and the spoke each run
a handful of loops that should run until cancelled (write-behind, rollouts, liveness, the link to
the hub, the reconciler's watch, ...). Every one of them runs under `guard`:
- a loop that returns is a bug: it is logged as one, and the loop is started again;
- an exception is logged with its traceback, and the loop restarts after a capped, jittered
  backoff, so a loop failing at once every time cannot spin;
- CancelledError always propagates: cancellation is how loops are stopped.

`Loops` owns a program's guarded tasks. The one stop idiom, hub and spoke alike:
1. SIGTERM or SIGINT sets a stop event (`install_stop_signals`; a second signal exits at once);
2. `await loops.wait(stop)` returns, and the program stops serving (the hub: `server.stop(grace)`);
3. leaving `async with Loops(...)` cancels every loop and waits at most `stop_timeout`, naming
   (with where they wait) the loops that did not finish, instead of hanging on them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import NoReturn

from argosy.runtime import backoff_delays

Loop = Callable[[], Awaitable[None]]
Sleep = Callable[[float], Awaitable[object]]

STOP_TIMEOUT = 5.0
"""Seconds cancelled loops get to finish before they are named as stuck and left behind."""


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT set `stop`; a second one exits at once."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(130)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


async def guard(
    name: str,
    loop: Loop,
    *,
    log: logging.Logger,
    initial: float = 0.5,
    maximum: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> NoReturn:
    """Run `loop`, which should run until cancelled; restart it whenever it fails or returns.

    The delay before a restart grows from `initial` to `maximum`, jittered. `sleep` is there
    for tests, which count delays instead of waiting them out.
    """
    delays = backoff_delays(initial=initial, maximum=maximum)
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:  # the loop boundary: log, back off, start again
            delay = delays()
            log.exception("%s failed; restarting in %.1fs", name, delay)
        else:
            delay = delays()
            log.error(
                "%s returned, but it should run until cancelled; restarting in %.1fs", name, delay
            )
        await sleep(delay)


class Loops:
    """A program's guarded loops: each started once by name, all stopped together, bounded.

    Leaving `async with Loops(log=...) as loops:` (normally, by an error, or by cancellation)
    cancels every loop and waits at most `stop_timeout` for them.
    """

    def __init__(
        self,
        *,
        log: logging.Logger,
        stop_timeout: float = STOP_TIMEOUT,
        initial: float = 0.5,
        maximum: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._log = log
        self._stop_timeout = stop_timeout
        self._initial = initial
        self._maximum = maximum
        self._sleep = sleep
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._died: asyncio.Task[None] | None = None
        self._died_event = asyncio.Event()

    async def __aenter__(self) -> Loops:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def names(self) -> list[str]:
        return list(self._tasks)

    def start(self, name: str, loop: Loop) -> asyncio.Task[None]:
        """Run `loop` under `guard` in a task of that name; the name also labels its logs."""
        if self._stopping:
            raise RuntimeError(f"cannot start {name}: the loops are stopping")
        if name in self._tasks:
            raise ValueError(f"a loop named {name!r} is already running")
        task = asyncio.create_task(
            guard(
                name,
                loop,
                log=self._log,
                initial=self._initial,
                maximum=self._maximum,
                sleep=self._sleep,
            ),
            name=name,
        )
        task.add_done_callback(self._on_done)
        self._tasks[name] = task
        return task

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if self._stopping:
            return
        # A guarded loop ends only if something else cancelled it, or with an exception that is
        # not an Exception (guard restarts those). Either way the program has lost a loop.
        if task.cancelled():
            self._log.error("%s was cancelled while the program runs; it is not restarted", task)
            return
        if self._died is None:
            self._died = task
        self._died_event.set()

    async def wait(self, stop: asyncio.Event | None = None) -> None:
        """Until `stop` is set (without one: until cancelled). If a loop died of an exception
        meanwhile, raise it, so the program ends instead of running without that loop."""
        waiters = [asyncio.create_task(self._died_event.wait(), name="loops-died")]
        if stop is not None:
            waiters.append(asyncio.create_task(stop.wait(), name="loops-stop"))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        if self._died is not None:
            raise self._died.exception() or RuntimeError(f"{self._died.get_name()} ended")

    async def stop(self) -> list[str]:
        """Cancel every loop and wait at most `stop_timeout`; the names of loops still running.

        A second cancellation while waiting propagates at once: whoever cancels twice wants
        out now.
        """
        self._stopping = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if not tasks:
            return []
        _, pending = await asyncio.wait(tasks, timeout=self._stop_timeout)
        stuck = sorted(pending, key=lambda t: t.get_name())
        if stuck:
            self._log.error(
                "%d loop(s) still running %gs after cancellation, left behind: %s",
                len(stuck),
                self._stop_timeout,
                "; ".join(f"{t.get_name()} ({_where(t)})" for t in stuck),
            )
        return [t.get_name() for t in stuck]


_ASYNCIO = os.path.dirname(asyncio.__file__)


def _where(task: asyncio.Task[None]) -> str:
    """Where a task is suspended: the innermost coroutine it awaits outside asyncio itself,
    as file:line in function. (`Task.get_stack()` shows only the task's own coroutine, which
    here is always `guard`.)"""
    frames = []
    awaited: object = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is not None:
            frames.append(frame)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    ours = [f for f in frames if not f.f_code.co_filename.startswith(_ASYNCIO)] or frames
    if not ours:
        return "no frame"
    code = ours[-1].f_code
    return f"{os.path.basename(code.co_filename)}:{ours[-1].f_lineno} in {code.co_name}"
