"""The change feed between hub replicas that share one PostgreSQL database.

Every replica holds the whole fleet in memory (hub/fleet.py) and writes it through to the
shared store. What one replica commits, the others must learn, within a second:

- after each committed write, the replica NOTIFYs channel `argosy_changes` with what changed
  (a bundle, cluster, group or rollout control by name; deployment rows by key). The others
  re-read just that from the store and re-plan, as if the change had been made locally
  (publishing.py announces, applying.py applies, messages.py is the wire format);
- the replica holding a cluster's stream announces it (attach/detach), and every replica says
  it is alive each second; one silent for `peer_timeout` is taken for dead, and the streams it
  held for down (their spokes reconnect to a live replica) (peers.py);
- rollout releases are decided by one replica per bundle, the holder of a session-level
  advisory lock on the bundle (`pg_try_advisory_lock`), which then NOTIFYs what it released
  (leases.py).

LISTEN/NOTIFY, not a change-log table: the change itself is in the ordinary tables already,
so the feed carries only names, and a replica that missed notifications (its connection
dropped) re-reads the store (`Fleet.resync`) instead of replaying a log that would need
trimming. NOTIFY adds no table writes to the hot write-behind path. feed.py owns the one
connection that carries all of it.
"""

from hub.replication.applying import ReplicaFleet, apply_change
from hub.replication.feed import Replication
from hub.replication.leases import lock_key
from hub.replication.messages import CHANNEL, MAX_PAYLOAD, Change, decode, encode
from hub.replication.publishing import PublishingStore

__all__ = [
    "CHANNEL",
    "MAX_PAYLOAD",
    "Change",
    "PublishingStore",
    "ReplicaFleet",
    "Replication",
    "apply_change",
    "decode",
    "encode",
    "lock_key",
]
