"""The hub's core: the fleet's state and the decisions about it, one module per concern.

inventory (bundles, clusters, groups, controls), planning (which cluster gets which input),
revisions (rendered revisions in memory), deployments (the per-cluster state machine and its
StateChanged listeners), writebehind (deployment rows to the store), rollouts (the gate loop),
liveness (who is connected, who is offline), registration and auth (tokens, credentials,
certificates), and ports (the protocols of what the core needs from outside: sessions, replicas,
where connectivity is shown).
hub/fleet.py composes them into the use cases the servicers call. Nothing here imports the
delivery (sessions), the status book or the servicers: they depend on the core, never the reverse.
"""
