"""Process plumbing shared by every Argosy program: logging, signals, supervised loops."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sys
from collections.abc import Awaitable, Callable


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT set `stop`; a second one exits at once."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(130)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


def backoff_delays(
    *, initial: float = 0.5, maximum: float = 30.0, factor: float = 2.0
) -> Callable[[], float]:
    """A function giving the next jittered exponential delay ("full jitter"), capped."""
    attempt = 0

    def next_delay() -> float:
        nonlocal attempt
        ceiling = min(maximum, initial * factor**attempt)
        attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    return next_delay


async def supervise(
    name: str,
    loop_fn: Callable[[], Awaitable[None]],
    *,
    log: logging.Logger,
    initial: float = 0.5,
    maximum: float = 30.0,
) -> None:
    """Run loop_fn forever; an unexpected error is logged and retried after a jittered backoff.

    CancelledError always propagates: cancellation is how loops are stopped.
    """
    delays = backoff_delays(initial=initial, maximum=maximum)
    while True:
        try:
            await loop_fn()
            delays = backoff_delays(initial=initial, maximum=maximum)
        except asyncio.CancelledError:
            raise
        except Exception:
            delay = delays()
            log.exception("%s failed; restarting in %.1fs", name, delay)
            await asyncio.sleep(delay)
