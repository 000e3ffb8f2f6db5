"""Where a spoke opens its stream, and putting chunked upserts back together (pure)."""

from __future__ import annotations

from argosy.api.v1 import resources_pb2, spoke_pb2
from spoke.link import ChunkAssembler, stream_address
from spoke.state import Credential


def test_stream_address_keeps_the_registering_hubs_port_distance() -> None:
    cred = Credential("c-1", "", "a", stream_port=7444, registered_hub="10.0.0.1:7443")
    assert stream_address("10.0.0.1:7443", cred) == "10.0.0.1:7444"
    assert stream_address("hub-b.example:9443", cred) == "hub-b.example:9444"
    legacy = Credential("c-1", "", "a", stream_port=7444)
    assert stream_address("hub-b.example:9443", legacy) == "hub-b.example:7444"


def test_chunks_reassemble_in_order_and_a_newer_revision_replaces_an_unfinished_one() -> None:
    def part(rev: str, i: int, n: int, key: str) -> spoke_pb2.DeploymentUpsert:
        return spoke_pb2.DeploymentUpsert(
            bundle="b",
            revision=rev,
            chunk_index=i,
            chunk_count=n,
            upserts=[resources_pb2.Resource(key=key)],
        )

    chunks = ChunkAssembler()
    assert chunks.add(part("r1", 0, 2, "a")) is None
    assert chunks.add(part("r2", 0, 2, "x")) is None  # r1 abandoned
    whole = chunks.add(part("r2", 1, 2, "y"))
    assert whole is not None and [r.key for r in whole.upserts] == ["x", "y"]
    assert chunks.add(part("r3", 1, 2, "z")) is None  # out of order: dropped
    single = spoke_pb2.DeploymentUpsert(bundle="b", revision="r4")
    assert chunks.add(single) is single
