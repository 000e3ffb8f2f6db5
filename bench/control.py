"""The line protocol between the bench driver and its child processes, and process plumbing.

Each child reads one JSON command per line on stdin and answers with one JSON line on stdout;
it may also print unsolicited event lines (`{"event": ...}`). Logs go to stderr, never stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Any

Handler = Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]]

# Generous, because the driver also pipes tens of thousands of timestamps through one line.
LINE_LIMIT = 64 * 1024 * 1024


def raise_fd_limit() -> int:
    """Lift the soft open-file limit to the hard one: every spoke or stream holds a socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pin_cpus(spec: str) -> None:
    """Pin this process to a CPU list like "0" or "1,2"; empty leaves it alone."""
    if spec:
        os.sched_setaffinity(0, {int(c) for c in spec.split(",")})


def emit(doc: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def serve_commands(handle: Handler) -> None:
    """Answer commands from stdin until it closes or a `quit` arrives."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        cmd = json.loads(line)
        if cmd.get("cmd") == "quit":
            emit({"ok": True})
            return
        try:
            answer = dict(await handle(cmd))
            answer.setdefault("ok", True)
        except Exception as exc:  # answered, not fatal: the driver decides
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        emit(answer)


class Child:
    """A child process the driver talks to over its stdin/stdout."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._pump = asyncio.create_task(self._read(), name=f"pump-{name}")

    @classmethod
    async def start(cls, name: str, argv: list[str], *, stderr_path: str) -> Child:
        with _log_file(stderr_path) as err:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                limit=LINE_LIMIT,
            )
        return cls(name, proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self._answers.put({"ok": False, "error": f"{self.name} exited"})
                await self._events.put({"event": "exit"})
                return
            doc = json.loads(line)
            if "event" in doc:
                await self._events.put(doc)
            else:
                await self._answers.put(doc)

    async def event(self, timeout: float) -> dict[str, Any]:
        return await asyncio.wait_for(self._events.get(), timeout)

    async def call(self, cmd: str, *, timeout: float = 60.0, **args: Any) -> dict[str, Any]:
        async with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
            await self.proc.stdin.drain()
            answer = await asyncio.wait_for(self._answers.get(), timeout)
        if not answer.get("ok"):
            raise RuntimeError(f"{self.name}: {cmd} failed: {answer.get('error')}")
        return answer

    async def stop(self, *, timeout: float = 20.0) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(RuntimeError, TimeoutError, OSError):
                await self.call("quit", timeout=timeout)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._pump.cancel()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._pump.cancel()


def _log_file(path: str) -> IO[bytes]:
    return open(path, "ab")  # a local file, opened once per child: not worth a thread


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # After the ")" of comm: state is fields[0], so utime (14) and stime (15) are 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def socket_fds(pid: int) -> int:
    """Open sockets of a process: one per connected spoke, plus a few of its own."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count
