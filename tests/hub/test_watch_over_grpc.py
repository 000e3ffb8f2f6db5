"""WatchStatus over a real grpc.aio server (add_to_server: the bytes serializer): 1,200
clusters arrive as three snapshot chunks, and the CLI's follower draws them as one."""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from cli.watch import LiveStatus
from hub.fleet_service import add_to_server
from tests.hub.test_cluster_labels_and_pages import rig


async def read(stream: object) -> fleet_pb2.WatchStatusResponse:
    msg = await asyncio.wait_for(stream.read(), 10)  # type: ignore[attr-defined]
    assert isinstance(msg, fleet_pb2.WatchStatusResponse)
    return msg


async def test_1200_clusters_come_in_three_chunks_over_the_wire() -> None:
    r = await rig()
    names = [f"c{i:04d}" for i in range(1200)]
    for name in names:
        await r.register(name, {})
    server = grpc.aio.server()
    add_to_server(r.admin, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    loop = asyncio.create_task(r.admin.broadcaster.run(), name="test-broadcaster")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            streams = [stub.WatchStatus(fleet_pb2.WatchStatusRequest()) for _ in range(2)]
            for stream in streams:
                chunks = [await read(stream) for _ in range(3)]
                assert [len(c.clusters) for c in chunks] == [500, 500, 200]
                assert [(c.snapshot, c.snapshot_continues) for c in chunks] == [
                    (True, True),
                    (False, True),
                    (False, False),
                ]
                live = LiveStatus()
                for c in chunks:
                    live.update(c)
                    assert live.partial == c.snapshot_continues
                assert sorted(live.clusters) == names
                stream.cancel()
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await server.stop(None)
