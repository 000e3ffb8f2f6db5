"""Peer liveness (pure): who joined, who fell silent."""

from __future__ import annotations

from hub.replication.peers import PeerTable


def test_a_replica_is_new_once_until_it_is_taken_for_dead() -> None:
    peers = PeerTable(timeout=5.0)
    assert peers.heard("b", 0.0)
    assert not peers.heard("b", 1.0)
    assert "b" in peers
    assert peers.expire(5.9) == []  # 4.9s silent: still alive
    assert peers.expire(6.5) == [("b", 5.5)]
    assert "b" not in peers
    assert peers.expire(20.0) == []  # reported once
    assert peers.heard("b", 21.0)  # back: a newcomer again


def test_only_the_silent_expire() -> None:
    peers = PeerTable(timeout=5.0)
    peers.heard("b", 0.0)
    peers.heard("c", 0.0)
    peers.heard("c", 4.0)
    assert [o for o, _ in peers.expire(6.0)] == ["b"]
    assert "c" in peers


def test_the_first_replica_is_the_one_whose_id_sorts_first_among_the_live() -> None:
    peers = PeerTable(timeout=5.0)
    assert peers.first("m")  # alone (a single replica on PostgreSQL)
    peers.heard("z", 0.0)
    assert peers.first("m")
    peers.heard("a", 0.0)
    assert not peers.first("m")
    peers.heard("z", 4.0)
    peers.expire(6.0)  # a fell silent
    assert peers.first("m")


def test_a_message_received_keeps_a_known_peer_alive_and_greets_no_stranger() -> None:
    peers = PeerTable(timeout=5.0)
    peers.heard("b", 0.0)
    peers.received("b", 4.0)
    assert peers.expire(8.0) == []
    peers.received("c", 8.0)
    assert "c" not in peers  # a newcomer is greeted when applied (`heard`), not on receipt
    assert peers.heard("c", 8.5)
