"""Process plumbing shared by every Argosy program: logging, and jittered backoff.

The loops themselves, their supervision and the stop signals are argosy/tasks.py's.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Callable


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# The initial metadata a hub sends as it opens a WatchEvents stream: a client that sees it knows
# the stream was up (and a later UNAVAILABLE is a drop to resume, not a hub never reached),
# even when no event came before it ended.
STREAM_OPEN = ("argosy-stream", "open")


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
