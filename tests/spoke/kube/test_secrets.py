"""The credential kept in a Secret: restored by a new pod, every change written back."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

from spoke.backends.kube.client import ApiError
from spoke.backends.kube.secrets import KEY, SecretCredentialStore
from spoke.state import Credential
from tests.harness import eventually
from tests.spoke.kube.fakes import ScriptedClient

CRED = Credential("c-1", "", "edge-1", cert_pem="CERT", key_pem="KEY", stream_port=7444)
PATH = "/api/v1/namespaces/argosy-system/secrets/cred"


class SecretServer:
    """One Secret, as an API server keeps it (stringData written as base64 data)."""

    def __init__(self, doc: dict[str, Any] | None = None) -> None:
        self.data: dict[str, str] | None = None
        if doc is not None:
            self.data = {KEY: base64.b64encode(json.dumps(doc).encode()).decode()}
        self.writes: list[tuple[str, Any]] = []

    def __call__(self, method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        assert path == PATH
        if method != "GET":
            self.writes.append((method, kwargs.get("body")))
        if method == "PATCH":
            text = kwargs["body"]["stringData"][KEY]
            self.data = {KEY: base64.b64encode(text.encode()).decode()}
            return {}
        if self.data is None:
            raise ApiError(404, "not found")
        if method == "DELETE":
            self.data = None
            return {}
        return {"data": self.data}


async def test_a_new_pod_restores_the_credential_from_the_secret(tmp_path: Path) -> None:
    server = SecretServer(dataclasses.asdict(CRED) | {"a_field_from_the_future": 1})
    store = SecretCredentialStore(
        tmp_path / "c.json", client=ScriptedClient(server), namespace="argosy-system", name="cred"
    )
    await store.restore()
    assert store.load() == CRED
    assert (tmp_path / "c.json").exists()
    assert server.writes == []  # the Secret already holds it


async def test_every_change_is_written_to_the_secret(tmp_path: Path) -> None:
    server = SecretServer()
    store = SecretCredentialStore(
        tmp_path / "c.json", client=ScriptedClient(server), namespace="argosy-system", name="cred"
    )
    await store.restore()  # nothing anywhere: nothing to do
    assert store.load() is None
    loop = asyncio.create_task(store.run(), name="test-credential-secret")
    try:
        store.save(CRED)
        await eventually(lambda: server.data is not None, what="the Secret written")
        method, body = server.writes[-1]
        assert method == "PATCH" and json.loads(body["stringData"][KEY])["cluster_id"] == "c-1"
        store.clear()
        await eventually(lambda: server.data is None, what="the Secret deleted")
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
