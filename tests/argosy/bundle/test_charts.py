"""Charts from repositories: version constraints and index parsing (pure), fetching from a chart
repository served on 127.0.0.1 (digests, one fetch for many renders, credentials only to their
own host), errors naming the URL and the fleet.yaml line, and charts as .tgz in the bundle."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest

from argosy.bundle import BundleSource, load_bundle, render
from argosy.bundle.charts import (
    ArchiveCache,
    ChartFetcher,
    ChartRef,
    Credentials,
    StaticCredentials,
    chart_url,
    credentials_from_file,
    parse_index,
    pick_version,
    redact,
)
from argosy.errors import InvalidInput
from tests.chartrepo import chart_archive, registry_serving, serving, tls_server

VERSIONS = ["0.1.0", "0.1.5", "1.0.0", "1.2.0", "1.2.5", "1.3.0", "v1.4.0", "2.0.0", "2.1.0-rc.1"]


@pytest.mark.parametrize(
    ("constraint", "picked"),
    [
        ("", "2.0.0"),  # latest stable: the release candidate is not a candidate
        ("*", "2.0.0"),
        ("1.2.0", "1.2.0"),
        ("=1.2.0", "1.2.0"),
        ("^1.2", "v1.4.0"),
        ("^0.1", "0.1.5"),
        ("~1.2.3", "1.2.5"),
        ("~1", "v1.4.0"),
        (">=1.0 <2.0", "v1.4.0"),
        (">=1.0, <1.3", "1.2.5"),
        ("1.2", "1.2.5"),
        ("1.2.x", "1.2.5"),
        ("1.x", "v1.4.0"),
        ("<1", "0.1.5"),
        (">1.2", "2.0.0"),
        ("<=1.2", "1.2.5"),
        ("1.2 - 1.3", "1.3.0"),
        ("!=2.0.0", "v1.4.0"),
        (">=3 || 0.1.0", "0.1.0"),
        (">=2.1.0-rc.0", "2.1.0-rc.1"),  # a prerelease in the constraint admits prereleases
        ("^3", None),
    ],
)
def test_version_constraints_pick_as_helm_does(constraint: str, picked: str | None) -> None:
    assert pick_version(VERSIONS, constraint) == picked


def test_bad_constraint_names_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"helm\.version: '>=banana'"):
        pick_version(VERSIONS, ">=banana")


def test_index_parsing_and_relative_urls() -> None:
    data = (
        b"apiVersion: v1\nentries:\n  web:\n  - version: 1.0.0\n    urls: [charts/web-1.0.0.tgz]\n"
        b"    digest: abc\n  - {version: 1.1.0, urls: ['https://cdn.example/web-1.1.0.tgz']}\n"
        b"  junk:\n  - {name: no-version}\n"
    )
    index = parse_index(data, url="https://charts.example/index.yaml")
    assert [(e.version, e.digest) for e in index["web"]] == [("1.0.0", "abc"), ("1.1.0", "")]
    assert "junk" not in index
    assert chart_url("https://charts.example/sub", "charts/web-1.0.0.tgz") == (
        "https://charts.example/sub/charts/web-1.0.0.tgz"
    )
    assert chart_url("https://charts.example", "https://cdn.example/x.tgz") == (
        "https://cdn.example/x.tgz"
    )
    with pytest.raises(InvalidInput, match=r"https://charts\.example/index\.yaml: not a chart"):
        parse_index(b"- a list\n", url="https://u:secret@charts.example/index.yaml")


def test_redact_drops_userinfo_and_query() -> None:
    assert redact("https://u:pw@h.example:8443/x/index.yaml?token=t") == (
        "https://h.example:8443/x/index.yaml"
    )


def test_archive_cache_is_bounded_and_content_addressed(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path, max_bytes=25)
    first = cache.put(b"a" * 10)
    second = cache.put(b"b" * 10)
    assert cache.get(first) == b"a" * 10  # now the most recently used
    third = cache.put(b"c" * 10)  # over 25 bytes: the least recently used goes
    assert cache.get(second) is None
    assert cache.get(first) == b"a" * 10 and cache.get(third) == b"c" * 10
    (tmp_path / f"sha256-{first}.tgz").write_bytes(b"tampered")
    assert cache.get(first) is None  # a file that no longer matches its name is not served


def repo_bundle(repo: str, version: str = "", chart: str = "web") -> BundleSource:
    fleet = f"defaultNamespace: apps\nhelm:\n  repo: {repo}\n  chart: {chart}\n"
    fleet += f"  version: '{version}'\n  values:\n    color: blue\n"
    return BundleSource("ext", {"fleet.yaml": fleet.encode()})


async def test_renders_a_chart_from_a_repository_by_constraint() -> None:
    async with serving() as repo:
        repo.add_charts({"web": ["1.0.0", "1.2.0", "2.0.0"]})
        bundle = load_bundle(repo_bundle(repo.url, "^1.0"))
        resources = await render(bundle)
    (cm,) = [m.obj for m in resources.items.values()]
    assert cm["data"] == {"chart": "web-1.2.0", "color": "blue"}
    assert cm["metadata"]["name"] == "ext-cm"
    assert repo.paths() == ["index.yaml", "charts/web-1.2.0.tgz"]


async def test_digest_mismatch_is_refused() -> None:
    async with serving() as repo:
        repo.add_charts({"web": ["1.0.0"]}, digests={"charts/web-1.0.0.tgz": "0" * 64})
        bundle = load_bundle(repo_bundle(repo.url, "1.0.0"))
        with pytest.raises(InvalidInput, match=r"fleet\.yaml:3: .*sha256 does not match"):
            await render(bundle)


async def test_fetched_once_for_fifty_renders(tmp_path: Path) -> None:
    async with serving() as repo:
        repo.add_charts({"web": ["1.0.0", "1.1.0"]})
        fetcher = ChartFetcher(ArchiveCache(tmp_path / "charts"))
        ref = ChartRef("repo", f"{repo.url}/web", "^1.0")
        got = await asyncio.gather(*(fetcher.fetch(ref, where="w") for _ in range(50)))
        got += [await fetcher.fetch(ref, where="w") for _ in range(50)]
        assert set(got) == {repo.files["charts/web-1.1.0.tgz"]}
        assert repo.paths() == ["index.yaml", "charts/web-1.1.0.tgz"]
        # A new fetcher on the same cache dir (a restarted hub) reads the index, not the chart.
        again = ChartFetcher(ArchiveCache(tmp_path / "charts"))
        assert await again.fetch(ref, where="w") == got[0]
        assert repo.paths()[2:] == ["index.yaml"]


async def test_a_cancelled_render_does_not_cancel_the_fetch_others_wait_for() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    class Gated(ChartFetcher):
        async def _fetch(self, ref: ChartRef, *, where: str) -> bytes:
            self.requests += 1
            started.set()
            await release.wait()
            return b"chart"

    fetcher = Gated()
    ref = ChartRef("url", "https://charts.example/web.tgz", "")
    first = asyncio.create_task(fetcher.fetch(ref, where="a"))
    second = asyncio.create_task(fetcher.fetch(ref, where="b"))
    await started.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == b"chart"
    assert fetcher.requests == 1


async def test_credentials_go_to_their_host_only_never_after_a_redirect(tmp_path: Path) -> None:
    server_tls, ca = tls_server(tmp_path)
    client_tls = ssl.create_default_context(cafile=ca)
    async with serving(tls=server_tls) as private, serving(tls=server_tls) as other:
        private.add_charts({"web": ["1.0.0"]})
        other.files["web.tgz"] = private.files["charts/web-1.0.0.tgz"]
        private.redirects["charts/web-1.0.0.tgz"] = f"{other.url}/web.tgz"
        path = tmp_path / "creds.yaml"
        path.write_text(f"'{private.host}': {{username: alice, password: s3cret}}\n")
        creds = credentials_from_file(path)
        assert creds == StaticCredentials({private.host: Credentials("alice", "s3cret")})
        fetcher = ChartFetcher(credentials=creds, tls=client_tls)
        data = await fetcher.fetch(ChartRef("repo", f"{private.url}/web", ""), where="w")
        assert data == other.files["web.tgz"]
        assert [auth is not None for _, auth in private.requests] == [True, True]
        assert private.requests[0][1] == Credentials("alice", "s3cret").header()
        assert other.requests == [("web.tgz", None)]


async def test_credentials_never_go_over_plain_http(tmp_path: Path) -> None:
    async with serving() as plain:
        plain.add_charts({"web": ["1.0.0"]})
        creds = StaticCredentials({plain.host: Credentials("alice", "s3cret")})
        fetcher = ChartFetcher(ArchiveCache(tmp_path), credentials=creds)
        await fetcher.fetch(ChartRef("repo", f"{plain.url}/web", ""), where="w")
        assert plain.requests == [("index.yaml", None), ("charts/web-1.0.0.tgz", None)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_unreachable_repository_is_a_render_error_naming_url_and_line() -> None:
    url = f"http://bob:hunter2@127.0.0.1:{closed_port()}/charts"
    bundle = load_bundle(repo_bundle(url, "1.0.0"))
    with pytest.raises(InvalidInput) as err:
        await render(bundle)
    message = str(err.value)
    assert message.startswith("bundle ext: fleet.yaml:3: fetching http://127.0.0.1:")
    assert "/charts/index.yaml" in message
    assert "hunter2" not in message and "bob" not in message


async def test_missing_chart_or_version_names_the_index() -> None:
    async with serving() as repo:
        repo.add_charts({"web": ["1.0.0"]})
        with pytest.raises(InvalidInput, match=r"chart 'db' is not in http://.*/index\.yaml"):
            await render(load_bundle(repo_bundle(repo.url, "", chart="db")))
        with pytest.raises(
            InvalidInput, match=r"no version of chart 'web' .* matches helm\.version '\^2'"
        ):
            await render(load_bundle(repo_bundle(repo.url, "^2")))


async def test_a_chart_archive_in_the_bundle_renders() -> None:
    files = {
        "fleet.yaml": b"helm:\n  chart: ./charts/web-1.0.0.tgz\n",
        "charts/web-1.0.0.tgz": chart_archive("web", "1.0.0"),
    }
    resources = await render(load_bundle(BundleSource("local", files)))
    (cm,) = [m.obj for m in resources.items.values()]
    assert cm["data"]["chart"] == "web-1.0.0"


def test_load_checks_remote_chart_fields_with_their_lines() -> None:
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:2: helm\.chart 'git::https://x/r'"):
        load_bundle(BundleSource("b", {"fleet.yaml": b"helm:\n  chart: git::https://x/r\n"}))
    bad = b"helm:\n  repo: https://charts.example\n  chart: web\n  version: '>=banana'\n"
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:4: helm\.version"):
        load_bundle(BundleSource("b", {"fleet.yaml": bad}))
    nameless = b"helm:\n  repo: https://charts.example\n"
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:2: helm\.repo is set but helm\.chart"):
        load_bundle(BundleSource("b", {"fleet.yaml": nameless}))
    missing = b"helm:\n  chart: web-1.0.0.tgz\n"
    with pytest.raises(
        InvalidInput, match=r"fleet\.yaml:2: .*'web-1\.0\.0\.tgz': not in the bundle"
    ):
        load_bundle(BundleSource("b", {"fleet.yaml": missing}))


async def test_oci_chart_goes_to_the_helm_engine_and_names_the_field() -> None:
    # No registry here: an unreachable one shows the oci:// path is taken and errors well.
    ref = f"oci://127.0.0.1:{closed_port()}/charts/web"
    bundle = load_bundle(BundleSource("o", {"fleet.yaml": f"helm:\n  chart: {ref}\n".encode()}))
    with pytest.raises(InvalidInput, match=rf"fleet\.yaml:2: helm\.chart {ref}"):
        await render(bundle, time_limit=20)


async def test_a_chart_url_renders_like_fleets_helm_external_example() -> None:
    # Fleet's helm-external example names its chart by URL and sets namespace and releaseName.
    async with serving() as repo:
        repo.add_charts({"guestbook": ["0.0.0"]})
        fleet = (
            "namespace: fleet-helm-external-example\nhelm:\n  releaseName: guestbook\n"
            f"  chart: {repo.url}/charts/guestbook-0.0.0.tgz\n"
        )
        bundle = load_bundle(BundleSource("helm-external", {"fleet.yaml": fleet.encode()}))
        resources = await render(bundle)
    (cm,) = [m.obj for m in resources.items.values()]
    assert cm["metadata"] == {"name": "guestbook-cm", "namespace": "fleet-helm-external-example"}
    assert repo.paths() == ["charts/guestbook-0.0.0.tgz"]


async def test_an_oci_chart_is_pulled_once(tmp_path: Path) -> None:
    async with registry_serving() as registry:
        archive = registry.push("charts/web", "web", "1.0.0")
        fetcher = ChartFetcher(ArchiveCache(tmp_path), oci_plain_http=True)
        ref = ChartRef("oci", f"oci://{registry.host}/charts/web", "1.0.0")
        assert await fetcher.fetch(ref, where="w") == archive
        pulled = len(registry.requests)
        assert await fetcher.fetch(ref, where="w") == archive
        assert len(registry.requests) == pulled > 0
        fleet = f"helm:\n  chart: oci://{registry.host}/charts/web\n  version: 1.0.0\n"
        bundle = load_bundle(BundleSource("o", {"fleet.yaml": fleet.encode()}))
        resources = await render(bundle, charts=fetcher)
    (cm,) = [m.obj for m in resources.items.values()]
    assert cm["data"]["chart"] == "web-1.0.0"
