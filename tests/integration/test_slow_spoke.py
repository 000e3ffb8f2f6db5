"""A spoke that stops reading its stream holds up nobody else, and is cut off at the deadline."""

from __future__ import annotations

import time
from pathlib import Path

import grpc

from argosy.api.v1 import fleet_pb2, spoke_pb2, spoke_pb2_grpc
from tests.harness import bundle_spec, eventually, running_hub, start_spoke

# Long enough that delivery to everyone else finishes first even on a loaded machine: had
# delivery waited on the stuck spoke, it could not finish before the stuck one is cut off.
DEADLINE = 15.0


def welcome(msg: object) -> bool:
    return isinstance(msg, spoke_pb2.ConnectResponse) and msg.WhichOneof("msg") == "welcome"


def big_bundle(n: int = 20, size: int = 25_000) -> dict[str, str]:
    return {
        f"cm{i}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}}}\n"
        f"data: {{blob: '{'x' * size}'}}\n"
        for i in range(n)
    }


async def test_stuck_spoke_does_not_slow_the_others(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub", send_deadline_seconds=DEADLINE, insecure=True) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        # The stuck spoke: registers, says hello, then never reads again.
        channel = grpc.aio.insecure_channel(hub.address)
        stub = spoke_pb2_grpc.SpokeServiceStub(channel)
        reg = await stub.Register(
            spoke_pb2.RegisterRequest(token=token, cluster_name="stuck"), timeout=5
        )
        call = stub.Connect(metadata=(("authorization", f"Bearer {reg.credential}"),))
        await call.write(spoke_pb2.ConnectRequest(hello=spoke_pb2.Hello()))
        assert welcome(await call.read())
        spokes = [
            start_spoke(hub=hub, name=f"s{i}", labels={}, token=token, data_dir=tmp_path / f"s{i}")
            for i in range(100)
        ]
        try:
            await eventually(
                lambda: all(s.spoke.link.connected.is_set() for s in spokes), timeout=60
            )
            stuck = hub.hub.fleet.cluster_by_name("stuck") if hub.hub.fleet else None
            assert stuck is not None and hub.hub.fleet is not None
            assert hub.hub.fleet.connected(stuck.id)
            # Fill the stuck spoke's stream past what the transport and the kernel buffer
            # (a few MB on loopback): bundles that only it receives, so nobody else pays.
            only_stuck = "targets:\n- clusterName: stuck\n"
            flooded = time.monotonic()
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[
                        bundle_spec(
                            f"flood{i}", {**big_bundle(40, 80_000), "fleet.yaml": only_stuck}
                        )
                        for i in range(4)
                    ]
                ),
                timeout=60,
            )
            started = time.monotonic()
            names = ["big0", "big1"]
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec(n, big_bundle()) for n in names]
                ),
                timeout=60,
            )

            async def delivered() -> bool:
                return all(
                    n in s.spoke.state.deployments
                    and len(s.spoke.state.deployments[n].resources) == 20
                    for s in spokes
                    for n in names
                )

            await eventually(delivered, timeout=60, what="2 x 500 kB bundles on 100 spokes")
            elapsed = time.monotonic() - started
            print(f"delivered 2 x 500 kB to 100 spokes in {elapsed:.2f}s with one stuck spoke")
            assert elapsed < DEADLINE
            # Had delivery waited on the stuck spoke, it would have taken the whole deadline.
            assert hub.hub.fleet.connected(stuck.id), "cut off before anyone waited on it"
            await eventually(
                lambda: not hub.hub.fleet.connected(stuck.id),  # type: ignore[union-attr]
                timeout=DEADLINE + 15,
                what="stuck spoke disconnected",
            )
            cut_after = time.monotonic() - flooded
            assert cut_after >= DEADLINE
            print(f"stuck spoke cut off after {cut_after:.2f}s (deadline {DEADLINE}s)")
        finally:
            call.cancel()
            await channel.close()
            for s in spokes:
                await s.stop()


async def test_second_stream_for_a_cluster_replaces_the_first(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub", insecure=True) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        async with grpc.aio.insecure_channel(hub.address) as channel:
            stub = spoke_pb2_grpc.SpokeServiceStub(channel)
            reg = await stub.Register(
                spoke_pb2.RegisterRequest(token=token, cluster_name="twin"), timeout=5
            )
            meta = (("authorization", f"Bearer {reg.credential}"),)
            first = stub.Connect(metadata=meta)
            await first.write(spoke_pb2.ConnectRequest(hello=spoke_pb2.Hello()))
            assert welcome(await first.read())
            second = stub.Connect(metadata=meta)
            await second.write(spoke_pb2.ConnectRequest(hello=spoke_pb2.Hello()))
            assert welcome(await second.read())
            try:
                await first.read()
                raise AssertionError("the first stream should have been closed")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
                assert "replaced by a newer stream" in (exc.details() or "")
            second.cancel()
