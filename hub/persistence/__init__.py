"""The hub's persistence: one `Store` Protocol (protocol.py) and its two implementations.

- `sqlite.py`: the embedded default, one file, one hub;
- `postgres.py`: for several hub replicas sharing one database (hub/replication/);
- `codec.py`: the record <-> row encodings both share (JSON columns, positional rows), and
  `token_usable`, the one rule for whether a registration token may be spent;
- `migrations.py`: each store's numbered, append-only migration list and the shared rule for
  which of them a database still lacks.

No SQL lives outside this package. Both stores keep their historical table names (SQLite's
`groups_` and its `bundles.files` column, PostgreSQL's `cluster_groups` and `bundle_files`):
renaming a SQLite table would make an older hub, which checks no version, silently create an
empty one beside it. The contract suite (tests/hub/test_store_contract.py) holds both stores
to the same behaviour.
"""
