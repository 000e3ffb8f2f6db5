"""A repository over SSH end to end: Debian's sshd on 127.0.0.1, a real hub, simulated spokes,
and the CLI as a user runs it (`argosy secret create --ssh-key --known-hosts`, `argosy repo add
ssh://...`, `argosy repo sync`).

The hub checks host keys strictly: a known_hosts line for another key fails the fetch with
ssh's own "Host key verification failed", and the private key appears in no log or reply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from tests.cli.test_cli import argosy
from tests.gitserver import keygen, ssh_git_server
from tests.harness import eventually, running_hub
from tests.integration.test_gitops import CM, repo, spokes, values

pytestmark = pytest.mark.sshd


async def test_an_ssh_repo_converges_and_a_wrong_host_key_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        ssh_git_server(tmp_path / "git") as server,
        running_hub(tmp_path / "hub") as hub,
    ):
        assert server.client_key is not None and server.log is not None
        private_key = server.client_key.read_text().strip()
        key_body = private_key.splitlines()[1]  # a line of the key itself, not its armour
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(server.known_hosts)
        first = server.commit({"app/cm.yaml": CM.format(name="a", v="one")})
        running = await spokes(hub, tmp_path)
        replies: list[str] = []

        async def cli(*args: str) -> str:
            code, out, err = await argosy(hub, *args)
            assert code == 0, err
            replies.append(out + err)
            return out

        try:
            await cli(
                "secret", "create", "deploy",
                "--ssh-key", str(server.client_key), "--known-hosts", str(known_hosts),
            )  # fmt: skip
            await cli("repo", "add", "demo", server.url, "--secret", "deploy", "--paths", "app")
            await eventually(
                lambda: all(values(s, "a") == "one" for s in running), timeout=30, what="one"
            )
            assert (await repo(hub, "demo")).status.commit == first
            assert "Accepted publickey" in server.log.read_text()  # it was sshd, with the key

            # A push, then `argosy repo sync`: every cluster converges to the new commit.
            second = server.commit({"app/cm.yaml": CM.format(name="a", v="two")})
            await cli("repo", "sync", "demo")
            await eventually(
                lambda: all(values(s, "a") == "two" for s in running), timeout=30, what="two"
            )
            got = await repo(hub, "demo")
            assert got.status.commit == second and got.status.error == ""
            assert list(got.status.bundles) == ["demo-app"]

            # The same key, but known_hosts vouches for another host key: ssh refuses to
            # connect (strict checking, no prompt, nothing added), and the error says why.
            other = tmp_path / "other"
            keygen(other)
            port_prefix = server.known_hosts.split()[0]
            algo, key = (tmp_path / "other.pub").read_text().split()[:2]
            wrong = tmp_path / "wrong_known_hosts"
            wrong.write_text(f"{port_prefix} {algo} {key}\n")
            await cli(
                "secret", "create", "spoofed",
                "--ssh-key", str(server.client_key), "--known-hosts", str(wrong),
            )  # fmt: skip
            await cli("repo", "add", "spoofed", server.url, "--secret", "spoofed")
            source = hub.hub.git_source
            assert source is not None
            await eventually(lambda: source.state("spoofed").failures >= 1, what="refused")
            bad = await repo(hub, "spoofed")
            assert bad.status.error.startswith("git fetch:")
            assert "Host key verification failed" in bad.status.error, bad.status.error
            assert not bad.status.commit and not bad.status.bundles
            # The good repository is untouched by its neighbour's error.
            assert (await repo(hub, "demo")).status.commit == second

            # The key is in no reply (API or CLI) and no log line.
            replies.append(await cli("repo", "get", "demo", "-o", "json"))
            replies.append(await cli("repo", "get", "spoofed", "-o", "json"))
            replies.append(await cli("repo", "list", "-o", "json"))
            replies.append(await cli("secret", "list", "-o", "json"))
            replies.append(await cli("status"))
            status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
            names = await hub.stub.ListSecrets(fleet_pb2.ListSecretsRequest(), timeout=5)
            assert list(names.names) == ["deploy", "spoofed"]
            for text in [*replies, str(status), str(names), str(got), str(bad), caplog.text]:
                assert key_body not in text and "PRIVATE KEY" not in text
        finally:
            for s in running:
                await s.stop()
