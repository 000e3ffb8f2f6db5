"""Helm charts that live outside the bundle: chart repositories, `oci://` and chart URLs.

A bundle names a chart by `helm.repo` + `helm.chart` + `helm.version` (a version or a semver
constraint as Helm reads it: `^1.2`, `~1.2.3`, `>=1.0 <2.0`, empty for the latest stable), by
`oci://host/path/name`, or by an `https://` URL of a `.tgz`. `ChartFetcher` turns that into the
chart archive's bytes: it reads the repository's `index.yaml`, picks the version (pure:
`pick_version`), downloads the archive and checks it against the index's digest.

Archives are cached content-addressed (`sha256-<hex>.tgz`) in one directory with a size bound,
and a version resolved from an index is remembered for `resolve_ttl` seconds, so a fleet of any
size fetches each (repo, chart, version) once: on the hub, every render shares one fetcher.

Credentials are looked up by the host of each URL actually requested (`ChartCredentials`), and
redirects are followed by hand, so a repository's credentials never reach another host, even
when its index or a redirect points there (Fleet's helmRepoURLRegex leak). HTTPS repositories
signed by a private CA are trusted through the `ssl` context the fetcher is given.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
import yaml

from argosy.bundle import engines
from argosy.errors import InvalidInput

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
RESOLVE_TTL = 300.0
_REFUSED_SCHEMES = re.compile(r"^(git|s3|gcs)(::|://)|^[\w.-]+::")


# ---------------------------------------------------------------------------------------------
# What a bundle asks for


@dataclass(frozen=True)
class ChartRef:
    """A chart outside the bundle. kind: "repo" (repo + name), "oci", or "url" (a .tgz URL)."""

    kind: str
    location: str
    version: str = ""

    @property
    def display(self) -> str:
        """The URL, without credentials, for errors and logs."""
        return redact(self.location)


def remote_chart(repo: str, chart: str, version: str) -> ChartRef | None:
    """The remote chart fleet.yaml's helm block names, None for one in the bundle (pure).

    InvalidInput for chart sources Argosy does not fetch (go-getter's git::, s3::, ...).
    """
    if repo:
        if not chart:
            raise InvalidInput("helm.repo is set but helm.chart (the chart's name) is not")
        return ChartRef("repo", f"{repo.rstrip('/')}/{chart}", version)
    if _REFUSED_SCHEMES.match(chart):
        raise InvalidInput(
            f"helm.chart {redact(chart)!r}: this chart source is not supported; use a chart "
            "repository (helm.repo), oci://, an https:// .tgz, or a chart in the bundle"
        )
    if chart.startswith("oci://"):
        return ChartRef("oci", chart, version)
    if chart.startswith(("http://", "https://")):
        return ChartRef("url", chart, version)
    return None


def redact(url: str) -> str:
    """url without user:password@ and without its query (tokens travel there too)."""
    getter, sep, url = url.rpartition("::")  # go-getter's git::https://...
    if sep:
        return f"{getter}::{redact(url)}"
    parts = urlsplit(url)
    if not parts.scheme:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---------------------------------------------------------------------------------------------
# Semver and constraints, as Helm (Masterminds/semver) reads them (pure)

_VERSION = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    # () sorts a release after every prerelease of the same numbers: see key().
    pre: tuple[tuple[int, int | str], ...] = ()
    text: str = field(default="", compare=False)

    @property
    def prerelease(self) -> bool:
        return bool(self.pre)

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, self.pre)


def parse_version(text: str) -> Version | None:
    m = _VERSION.match(text.strip())
    if m is None:
        return None
    major, minor, patch, pre = m.groups()
    return Version(int(major), int(minor or 0), int(patch or 0), _pre(pre), text.strip())


def _pre(pre: str | None) -> tuple[tuple[int, int | str], ...]:
    # Numeric identifiers sort before alphanumeric ones, and numerically among themselves.
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in (pre or "").split(".") if p)


Check = Callable[[Version], bool]


def _bound(op: str, text: str) -> list[Check]:
    m = _PARTIAL.match(text)
    if m is None:
        raise InvalidInput(f"helm.version: {text!r} is not a version")
    parts = [m.group(1), m.group(2), m.group(3)]
    wild = [p is None or p in "xX*" for p in parts]
    nums = [0 if w else int(p or 0) for p, w in zip(parts, wild, strict=True)]
    pre = _pre(m.group(4))
    lo = Version(nums[0], nums[1], nums[2], pre).key()
    given = wild.index(True) if any(wild) else 3  # how many leading numbers are pinned

    def upper(level: int) -> tuple[int, int, int, int, tuple[()]]:
        # The smallest version above everything that shares the first `level` numbers.
        if level <= 0:
            return (2**62, 0, 0, 0, ())
        if level == 1:
            return (nums[0] + 1, 0, 0, 0, ())
        if level == 2:
            return (nums[0], nums[1] + 1, 0, 0, ())
        return (nums[0], nums[1], nums[2] + 1, 0, ())

    def ge(bound: tuple[Any, ...]) -> Check:
        return lambda v: v.key() >= bound

    def lt(bound: tuple[Any, ...]) -> Check:
        return lambda v: v.key() < bound

    if op in ("", "=", "=="):
        if given == 3:
            return [lambda v: v.key() == lo]
        return [ge(lo), lt(upper(given))]
    if op == "!=":
        if given == 3:
            return [lambda v: v.key() != lo]
        return [lambda v: not (lo <= v.key() < upper(given))]
    if op == ">":
        return [ge(upper(given))] if given < 3 else [lambda v: v.key() > lo]
    if op == ">=":
        return [ge(lo)]
    if op == "<":
        return [lt(lo)]
    if op == "<=":
        return [lt(upper(given))] if given < 3 else [lambda v: v.key() <= lo]
    if op in ("~", "~>"):
        return [ge(lo), lt(upper(2 if given >= 2 else 1))]
    if op == "^":
        if nums[0] > 0 or given == 1:
            return [ge(lo), lt(upper(1))]
        if nums[1] > 0 or given == 2:
            return [ge(lo), lt(upper(2))]
        return [ge(lo), lt(upper(3))]
    raise InvalidInput(f"helm.version: unknown operator {op!r}")


_TERM = re.compile(r"(!=|==|>=|<=|~>|=|>|<|~|\^)?\s*(v?[0-9xX*][0-9A-Za-z.+*-]*)")


@dataclass(frozen=True)
class Constraint:
    """OR of ANDs of checks; `pre` when a term names a prerelease (only then do they match)."""

    text: str
    groups: tuple[tuple[Check, ...], ...]
    pre: bool

    def allows(self, version: Version) -> bool:
        if version.prerelease and not self.pre:
            return False
        return any(all(check(version) for check in group) for group in self.groups)


def parse_constraint(text: str) -> Constraint:
    """Helm's version constraint: `1.2.3`, `^1.2`, `~1.2.3`, `>=1.0 <2.0`, `>=1, <2 || 3.x`,
    `1.2 - 1.4`, wildcards; empty or `*` is any stable version (pure)."""
    groups: list[tuple[Check, ...]] = []
    pre = False
    for alt in (part.strip() for part in (text or "*").split("||")):
        checks: list[Check] = []
        hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", alt)
        if hyphen:
            checks += _bound(">=", hyphen.group(1)) + _bound("<=", hyphen.group(2))
            pre = pre or "-" in hyphen.group(1) + hyphen.group(2)
        else:
            rest = alt.replace(",", " ")
            pos = 0
            for m in _TERM.finditer(rest):
                if rest[pos : m.start()].strip():
                    raise InvalidInput(f"helm.version: {text!r} is not a version constraint")
                pos = m.end()
                checks += _bound(m.group(1) or "", m.group(2))
                pre = pre or "-" in m.group(2)
            if rest[pos:].strip() or not checks:
                raise InvalidInput(f"helm.version: {text!r} is not a version constraint")
        groups.append(tuple(checks))
    return Constraint(text, tuple(groups), pre)


def pick_version(versions: Iterable[str], constraint: str) -> str | None:
    """The highest version the constraint allows, as written in the index; None if none (pure).

    Versions that are not semver are skipped, as Helm does.
    """
    allowed = parse_constraint(constraint)
    best: Version | None = None
    for text in versions:
        v = parse_version(text)
        if v is not None and allowed.allows(v) and (best is None or v.key() > best.key()):
            best = v
    return best.text if best else None


# ---------------------------------------------------------------------------------------------
# index.yaml (pure)


@dataclass(frozen=True)
class IndexEntry:
    version: str
    urls: tuple[str, ...]
    digest: str = ""


def parse_index(data: bytes, *, url: str) -> dict[str, list[IndexEntry]]:
    """A chart repository's index.yaml: chart name -> its versions. InvalidInput naming url."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(data, Loader=loader)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{redact(url)}: not a chart repository index: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
        raise InvalidInput(f"{redact(url)}: not a chart repository index (no 'entries')")
    out: dict[str, list[IndexEntry]] = {}
    for name, items in doc["entries"].items():
        for item in items or ():
            if not isinstance(item, dict) or "version" not in item:
                continue
            urls = tuple(str(u) for u in item.get("urls") or ())
            out.setdefault(str(name), []).append(
                IndexEntry(str(item["version"]), urls, str(item.get("digest") or ""))
            )
    return out


def chart_url(repo: str, url: str) -> str:
    """An index's chart URL, made absolute against the repository URL (pure)."""
    return urljoin(repo.rstrip("/") + "/", url)


# ---------------------------------------------------------------------------------------------
# Credentials


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


class ChartCredentials(Protocol):
    """The credentials for one host (`host` or `host:port`, lower case), None for none.

    The hub fills this from its secret store (so it is async); the fetcher asks once per URL it
    requests, with that URL's own host, and never sends one host's credentials to another.
    """

    async def lookup(self, host: str) -> Credentials | None: ...


@dataclass(frozen=True)
class StaticCredentials:
    """Credentials by host, from a mapping (tests, or a file the operator provides)."""

    by_host: Mapping[str, Credentials] = field(default_factory=dict)

    async def lookup(self, host: str) -> Credentials | None:
        return self.by_host.get(host.lower())


@dataclass(frozen=True)
class FirstOf:
    """The first of several sources that has credentials for a host (the hub: its
    --chart-credentials file, then its secrets)."""

    sources: tuple[ChartCredentials, ...]

    async def lookup(self, host: str) -> Credentials | None:
        for source in self.sources:
            found = await source.lookup(host)
            if found is not None:
                return found
        return None


def trust(ca_file: Path) -> ssl.SSLContext:
    """A TLS context trusting the system's CAs and those in ca_file (PEM): chart repositories
    signed by a private CA. InvalidInput naming the file when it holds no certificate."""
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"{ca_file}: cannot read chart repository CA: {exc}") from None
    return context


def credentials_from_file(path: Path) -> StaticCredentials:
    """Credentials by host from a YAML file: `HOST[:PORT]: {username: U, password: P}`.

    The hub's secrets (`argosy secret create --helm-repo-host`) are the other way to give them;
    the file is read once at start and its contents are never logged.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: cannot read chart credentials: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: chart credentials must map HOST[:PORT] to credentials")
    out: dict[str, Credentials] = {}
    for host, item in data.items():
        if not isinstance(item, dict) or "username" not in item:
            raise InvalidInput(f"{path}: {host}: needs username and password")
        out[str(host).lower()] = Credentials(str(item["username"]), str(item.get("password", "")))
    return StaticCredentials(out)


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


# ---------------------------------------------------------------------------------------------
# The fetcher and its cache


class ArchiveCache:
    """Chart archives by sha256, in a directory (None: in memory), at most max_bytes in all;
    the least recently used go first."""

    def __init__(self, directory: Path | None, *, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._dir = directory
        self._max = max_bytes
        self._memory: dict[str, bytes] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        assert self._dir is not None
        return self._dir / f"sha256-{digest}.tgz"

    def get(self, digest: str) -> bytes | None:
        if self._dir is None:
            data = self._memory.pop(digest, None)
            if data is not None:
                self._memory[digest] = data  # most recently used last
            return data
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            path.unlink(missing_ok=True)  # a torn or tampered file is fetched again
            return None
        os.utime(path)
        return data

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self._dir is None:
            self._memory[digest] = data
            while sum(map(len, self._memory.values())) > self._max and len(self._memory) > 1:
                del self._memory[next(iter(self._memory))]
            return digest
        # Written whole, then renamed: a reader never sees half an archive.
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self._path(digest))
        self._evict(keep=digest)
        return digest

    def _evict(self, *, keep: str) -> None:
        assert self._dir is not None
        files = [(p.stat().st_mtime, p) for p in self._dir.glob("sha256-*.tgz")]
        total = sum(p.stat().st_size for _, p in files)
        for _, path in sorted(files):
            if total <= self._max:
                break
            if path.name == f"sha256-{keep}.tgz":
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)


Key = tuple[str, str, str]


class ChartFetcher:
    """Fetches remote charts once each, for every render that needs them.

    `requests` counts HTTP requests made (tests count fetches with it).
    """

    def __init__(
        self,
        cache: ArchiveCache | None = None,
        *,
        credentials: ChartCredentials | None = None,
        time_limit: float = 60.0,
        resolve_ttl: float = RESOLVE_TTL,
        clock: Callable[[], float] = time.monotonic,
        oci_plain_http: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._cache = cache or ArchiveCache(None)
        self._credentials = credentials or StaticCredentials()
        self._time_limit = time_limit
        self._ttl = resolve_ttl
        self._clock = clock
        # OCI registries are reached over HTTPS unless this is set (a registry on a private
        # network, or a test's); chart repositories say their scheme in their URL.
        self._oci_plain_http = oci_plain_http
        # None: the system's CAs (aiohttp's default); a context: also a private CA's.
        self._tls = tls
        self._resolved: dict[Key, tuple[str, float]] = {}  # key -> (digest, expiry)
        self._inflight: dict[Key, asyncio.Task[bytes]] = {}
        self.requests = 0

    async def fetch(self, ref: ChartRef, *, where: str) -> bytes:
        """The chart archive; InvalidInput naming `where` (the fleet.yaml line) and the URL."""
        key = (ref.kind, ref.location, ref.version)
        known = self._resolved.get(key)
        if known is not None and known[1] > self._clock():
            data = await asyncio.to_thread(self._cache.get, known[0])
            if data is not None:
                return data
        task = self._inflight.get(key)
        if task is None:
            # One task per chart, shared by every render waiting for it and shielded from
            # each: a render that is cancelled must not cancel the fetch for the others.
            task = asyncio.get_running_loop().create_task(
                self._fetch_once(key, ref, where=where), name=f"chart-fetch:{redact(ref.location)}"
            )
            self._inflight[key] = task
            task.add_done_callback(self._fetched)
        return await asyncio.shield(task)

    def _fetched(self, task: asyncio.Task[bytes]) -> None:
        for key, t in list(self._inflight.items()):
            if t is task:
                del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: each waiter re-raises it itself

    async def _fetch_once(self, key: Key, ref: ChartRef, *, where: str) -> bytes:
        data = await self._fetch(ref, where=where)
        digest = await asyncio.to_thread(self._cache.put, data)
        # An exact version never changes; a range is looked up again after the TTL.
        exact = ref.kind != "repo" or parse_version(ref.version) is not None
        self._resolved[key] = (digest, float("inf") if exact else self._clock() + self._ttl)
        return data

    async def _fetch(self, ref: ChartRef, *, where: str) -> bytes:
        if ref.kind == "oci":
            return await self._pull_oci(ref, where=where)
        if ref.kind == "url":
            return await self._get(ref.location, where=where, limit=MAX_CHART_BYTES)
        repo, _, name = ref.location.rpartition("/")
        index_url = f"{repo}/index.yaml"
        raw = await self._get(index_url, where=where, limit=MAX_INDEX_BYTES)
        # A public repository's index runs to megabytes: parsed off the event loop.
        index = await asyncio.to_thread(parse_index, raw, url=index_url)
        entries = index.get(name)
        if not entries:
            raise InvalidInput(f"{where}: chart {name!r} is not in {redact(index_url)}")
        try:
            version = pick_version((e.version for e in entries), ref.version)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        if version is None:
            raise InvalidInput(
                f"{where}: no version of chart {name!r} in {redact(index_url)} matches "
                f"helm.version {ref.version or '(latest stable)'!r}"
            )
        entry = next(e for e in entries if e.version == version)
        if not entry.urls:
            raise InvalidInput(f"{where}: {redact(index_url)} lists no URL for {name} {version}")
        if entry.digest:
            cached = await asyncio.to_thread(self._cache.get, entry.digest.lower())
            if cached is not None:
                return cached
        url = chart_url(repo, entry.urls[0])
        data = await self._get(url, where=where, limit=MAX_CHART_BYTES)
        if entry.digest and hashlib.sha256(data).hexdigest() != entry.digest.lower():
            raise InvalidInput(
                f"{where}: {redact(url)}: the archive's sha256 does not match the digest in "
                f"{redact(index_url)}; refused"
            )
        return data

    async def _get(self, url: str, *, where: str, limit: int) -> bytes:
        """GET url, following redirects by hand: each hop carries only its own host's
        credentials, so a redirect to another host never carries the first one's."""
        timeout = aiohttp.ClientTimeout(total=self._time_limit)
        try:
            connector = aiohttp.TCPConnector(ssl=self._tls if self._tls is not None else True)
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
                for _ in range(MAX_REDIRECTS + 1):
                    if urlsplit(url).scheme not in ("http", "https"):
                        raise InvalidInput(f"{where}: {redact(url)}: not an http(s) URL")
                    headers = {}
                    # Over plain http:// anyone on the path reads the header: https only.
                    creds = (
                        await self._credentials.lookup(host_of(url))
                        if urlsplit(url).scheme == "https"
                        else None
                    )
                    if creds is not None:
                        headers["Authorization"] = creds.header()
                    self.requests += 1
                    async with session.get(url, headers=headers, allow_redirects=False) as resp:
                        if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                            url = urljoin(url, resp.headers["Location"])
                            continue
                        if resp.status != 200:
                            raise InvalidInput(
                                f"{where}: fetching {redact(url)}: HTTP {resp.status}"
                            )
                        data = await resp.content.read(limit + 1)
                        if len(data) > limit:
                            raise InvalidInput(f"{where}: {redact(url)}: over {limit} bytes")
                        return data
                raise InvalidInput(f"{where}: {redact(url)}: more than {MAX_REDIRECTS} redirects")
        except aiohttp.ClientConnectorCertificateError as exc:
            raise InvalidInput(
                f"{where}: fetching {redact(url)}: its TLS certificate is not trusted "
                f"({exc.certificate_error}); a private CA is given to the hub with --chart-ca"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise InvalidInput(f"{where}: fetching {redact(url)}: {exc}") from None
        except TimeoutError:
            raise InvalidInput(
                f"{where}: fetching {redact(url)}: no answer within {self._time_limit:g}s"
            ) from None

    async def _pull_oci(self, ref: ChartRef, *, where: str) -> bytes:
        url = ref.location.replace("oci://", "https://", 1)
        creds = await self._credentials.lookup(host_of(url))
        self.requests += 1
        with tempfile.TemporaryDirectory(prefix="argosy-oci-") as tmp:
            return await engines.helm_pull(
                ref.location,
                version=ref.version,
                destination=Path(tmp),
                username=creds.username if creds else "",
                password=creds.password if creds else "",
                plain_http=self._oci_plain_http,
                what=f"{where}: helm.chart {redact(ref.location)}",
                time_limit=self._time_limit,
            )
