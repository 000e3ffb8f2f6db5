"""`argosy apply --wait` and `argosy status --wait-for Ready`: follow WatchStatus until every
targeted cluster is Ready, or say which ones are not and why.

The verdict on a bundle (`verdict`) is pure. Ready means Ready for the revision applied: the
hub derives a deployment's state from its desired revision, which an apply sets before it
returns, so a cluster still reporting the previous revision counts as not Ready.

Errors fail fast: a deployment in ErrApplied, or a rollout Halted on maxFailures, ends the wait
at once with the failing clusters and their reasons. The spoke does retry a failed apply with
backoff, but what fails on an apply (an invalid object, a missing CRD, a refused owner) rarely
heals by itself, and a CI job should hear of it now rather than at the timeout; `argosy apply`
again retries at once. That one is the exception: unchanged content is how a user says "try
again", and the ErrApplied shown meanwhile is the old failure, so it waits for the retry.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from argosy.api.v1 import fleet_pb2
from cli.client import Hub, UserError
from cli.reads import collect_status
from cli.watch import follow

READY = "Ready"
ERR_APPLIED = "ErrApplied"
HALTED = "Halted"

WAIT_HELP = """\
waiting (--wait): follow the hub's status stream until every cluster the bundle targets is
Ready at the revision applied. On a terminal one line per bundle is redrawn (ready/desired,
state, rollout partition); otherwise a line is printed when something changes. It fails fast:
a cluster in ErrApplied or a rollout halted on maxFailures ends the wait at once (the spoke
retries with backoff, but run the apply again to retry now). An apply that changed nothing
has failed clusters retry: --wait then waits for their retry, until the timeout.
exit codes: 0 every targeted cluster Ready; 1 an error, a timeout (failing clusters and
reasons on stderr) or a user error; 2 usage."""

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(text: str) -> float:
    """'90', '90s', '5m', '1h', '500ms' as seconds (argparse type)."""
    match = _DURATION.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 5m, 1h)")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class Verdict:
    done: bool
    failed: bool
    line: str


def verdict(
    b: fleet_pb2.BundleStatus | None, *, name: str, revision: str = "", retried: bool = False
) -> Verdict:
    """Where one bundle stands. revision: the one applied ('' to accept whatever it is).
    retried: the apply sent unchanged content, which has spokes retry their failed applies:
    an ErrApplied is then the old failure until the retry reports, so it does not end the wait.
    """
    if b is None:
        return Verdict(False, False, f"bundle/{name}: waiting for the hub")
    counts = {c.state: c.count for c in b.state_counts}
    progress = f"bundle/{name}: {b.clusters_ready}/{b.clusters_desired} ready"
    if revision and b.revision and b.revision != revision:
        return Verdict(
            True,
            True,
            f"{progress}; revision {b.revision[:12]} was applied since ({revision[:12]} awaited)",
        )
    if counts.get(ERR_APPLIED) and not retried:
        return Verdict(True, True, f"{progress}; {b.summary or ERR_APPLIED}")
    if b.rollout.state == HALTED:
        return Verdict(True, True, f"{progress}; rollout halted: {b.rollout.reason}")
    if b.clusters_ready == b.clusters_desired:
        if not b.clusters_desired:
            return Verdict(True, False, f"{progress} (it targets no cluster)")
        return Verdict(True, False, f"{progress}, {READY}")
    parts = [progress, b.state]
    partition = _partition(b.rollout)
    if partition:
        parts.append(partition)
    if b.paused:
        parts.append("paused")
    return Verdict(False, False, ", ".join(parts))


def _partition(r: fleet_pb2.RolloutStatus) -> str:
    """The rollout partition in progress, as 'partition 2/3 canary (1 unavailable)'."""
    for i, p in enumerate(r.partitions):
        if p.state != "Complete":
            return (
                f"partition {i + 1}/{len(r.partitions)} {p.name} {p.state} "
                f"({p.unavailable}/{p.count} unavailable)"
            )
    return ""


def failing(b: fleet_pb2.BundleStatus) -> list[str]:
    """'cluster: state: reason' for each deployment of a detailed bundle status not Ready."""
    lines = []
    for d in sorted(b.deployments, key=lambda d: d.cluster):
        if d.state == READY:
            continue
        why = (
            d.message
            or d.held
            or "; ".join(
                f"{r.key}: {r.message or ('missing' if r.missing else 'modified')}"
                for r in d.resources[:3]
            )
        )
        lines.append(f"{d.cluster}: {d.state}" + (f": {why}" if why else ""))
    return lines


class Progress:
    """The lines shown while waiting: redrawn in place on a terminal, else printed on change."""

    def __init__(
        self, names: Sequence[str], out: TextIO, *, tty: bool, width: int | None = None
    ) -> None:
        self._names = list(names)
        self._out = out
        self._tty = tty
        # A line wider than the terminal wraps, and moving up one line per bundle would then
        # redraw over the wrong ones: cut to the width.
        self._width = width or shutil.get_terminal_size().columns
        self._lines: dict[str, str] = {}
        self._drawn = 0

    def show(self, lines: Mapping[str, str]) -> None:
        changed = [n for n in self._names if lines.get(n) != self._lines.get(n)]
        self._lines.update(lines)
        if not changed:
            return
        if self._tty:
            # Back to the first line drawn, then each line cleared and drawn again.
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            cut = max(self._width - 1, 20)
            body = "".join(f"\x1b[2K{self._lines.get(n, '')[:cut]}\n" for n in self._names)
            self._out.write(up + body)
            self._drawn = len(self._names)
        else:
            self._out.write("".join(f"{self._lines[n]}\n" for n in changed))
        self._out.flush()


async def wait_ready(
    hub: Hub,
    revisions: Mapping[str, str],
    *,
    timeout: float,
    retried: Collection[str] = (),
    out: TextIO | None = None,
) -> None:
    """Return when every bundle (name -> revision applied, '' for any) is Ready on every
    cluster it targets; raise UserError (exit 1) naming the failing clusters otherwise.
    retried: bundles applied unchanged (see `verdict`)."""
    if not revisions:
        return  # nothing to wait for (every bundle of the apply was skipped: pinned)
    out = out or sys.stdout
    names = sorted(revisions)
    progress = Progress(names, out, tty=out.isatty())
    verdicts: dict[str, Verdict] = {}
    timed_out = False
    try:
        async with asyncio.timeout(timeout):
            # One bundle: the hub narrows the stream to it; several: everything, read here.
            async for live in follow(hub, bundle=names[0] if len(names) == 1 else ""):
                verdicts = {
                    n: verdict(
                        live.bundles.get(n), name=n, revision=revisions[n], retried=n in retried
                    )
                    for n in names
                }
                progress.show({n: v.line for n, v in verdicts.items()})
                if any(v.failed for v in verdicts.values()) or all(
                    v.done for v in verdicts.values()
                ):
                    break
    except TimeoutError:
        timed_out = True
    if not timed_out and verdicts and all(v.done and not v.failed for v in verdicts.values()):
        return
    bad = [n for n in names if not (n in verdicts and verdicts[n].done and not verdicts[n].failed)]
    await _explain(hub, bad)
    what = f"timed out after {timeout:g}s" if timed_out else "failed"
    raise UserError(f"{what}: {', '.join(f'bundle/{n}' for n in bad)} not Ready")


async def _explain(hub: Hub, names: Sequence[str]) -> None:
    """The failing clusters of each bundle, and why, on stderr."""
    complete: set[str] = set()

    def all_in(page: fleet_pb2.GetStatusResponse) -> bool:
        # A bundle's detail (a row per cluster) may go on over several pages.
        complete.update(b.name for b in page.bundles if not b.more_deployments)
        return complete >= set(names)

    async with hub.stub() as stub:
        status = await collect_status(
            stub, fleet_pb2.GetStatusRequest(detail_bundles=list(names)), found=all_in, timeout=10
        )
    found = {b.name: b for b in status.bundles}
    for name in names:
        b = found.get(name)
        if b is None:
            print(f"argosy: bundle/{name}: not found", file=sys.stderr)
            continue
        for line in failing(b):
            print(f"argosy: bundle/{name}: {line}", file=sys.stderr)
