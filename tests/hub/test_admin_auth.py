import grpc

from argosy.api.v1 import fleet_pb2
from hub.admin_auth import (
    CACHE_SECONDS,
    READ_METHODS,
    SERVICE_PREFIX,
    UNKNOWN_CACHE,
    AdminAuth,
    caller,
    decide,
    token_actor,
)
from hub.core import auth
from hub.models import AdminTokenRecord

SERVICE = fleet_pb2.DESCRIPTOR.services_by_name["FleetService"]


def test_caller_names_the_admin_token_by_its_id_and_never_carries_the_secret() -> None:
    metadata = [("authorization", "Bearer argosy-adm-a-1234.s3cr3t")]
    assert caller(metadata) == "token/a-1234"
    assert "s3cr3t" not in caller(metadata)


def test_caller_without_an_admin_token_is_anonymous() -> None:
    assert caller(None) == "anonymous"
    assert caller([("authorization", "Bearer something-else")]) == "anonymous"


def test_the_dashboards_cookie_token_names_the_same_actor_as_the_api() -> None:
    assert token_actor("argosy-adm-a-1234.s3cr3t") == "token/a-1234"
    assert token_actor("") == token_actor("argosy-adm-.x") == "anonymous"


def test_a_viewer_may_read_but_not_write() -> None:
    assert decide("viewer", "GetStatus") is None
    refusal = decide("viewer", "ApplyBundles")
    assert refusal is not None and "viewer" in refusal[1]


def test_a_viewer_may_read_a_bundle_diff_but_not_dry_run_an_apply() -> None:
    assert decide("viewer", "GetBundleDiff") is None
    # A dry run is an ApplyBundles call: it renders as an apply does, which is an admin's.
    assert decide("viewer", "ApplyBundles") is not None


class Tokens:
    """A store of one admin token, its lookups counted."""

    def __init__(self, record: AdminTokenRecord) -> None:
        self.record = record
        self.lookups = 0

    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None:
        self.lookups += 1
        return self.record if secret_hash == self.record.secret_hash else None


async def test_unknown_tokens_are_remembered_a_bounded_few_and_expired_ones_dropped() -> None:
    now = [1000.0]
    store = Tokens(AdminTokenRecord("a-1", auth.hash_secret("argosy-adm-a-1.s"), "viewer", 0))
    checker = AdminAuth(store, clock=lambda: now[0])  # type: ignore[arg-type]
    assert await checker.role_of("argosy-adm-a-1.s") == "viewer"
    # Anyone may send any token: thousands of strangers do not grow the hub's memory.
    for i in range(UNKNOWN_CACHE * 4):
        assert await checker.role_of(f"stranger-{i}") is None
    assert checker.cached() <= UNKNOWN_CACHE + 1
    # A retry of a recent unknown token is answered without the store, as a known one is.
    lookups = store.lookups
    assert await checker.role_of(f"stranger-{UNKNOWN_CACHE * 4 - 1}") is None
    assert await checker.role_of("argosy-adm-a-1.s") == "viewer"
    assert store.lookups == lookups
    # Once expired, entries go at the next store lookup: known and unknown alike.
    now[0] += CACHE_SECONDS + 1
    assert await checker.role_of("stranger-new") is None
    assert checker.cached() == 1


def test_the_service_is_the_one_the_interceptor_guards() -> None:
    assert f"/{SERVICE.full_name}/" == SERVICE_PREFIX


def test_read_methods_name_only_real_rpcs() -> None:
    rpcs = {m.name for m in SERVICE.methods}
    assert rpcs >= READ_METHODS, f"not RPCs of FleetService: {sorted(READ_METHODS - rpcs)}"


def test_every_rpc_but_the_reads_is_refused_to_a_viewer_and_allowed_to_an_admin() -> None:
    # A new write RPC is an admin's unless someone decides otherwise in READ_METHODS.
    for method in SERVICE.methods:
        assert decide("admin", method.name) is None, method.name
        refusal = decide("viewer", method.name)
        if method.name in READ_METHODS:
            assert refusal is None, method.name
        else:
            assert refusal is not None, method.name
            assert refusal[0] == grpc.StatusCode.PERMISSION_DENIED, method.name
        unknown = decide(None, method.name)
        assert unknown is not None and unknown[0] == grpc.StatusCode.UNAUTHENTICATED
