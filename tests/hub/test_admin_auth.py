from hub.admin_auth import caller, decide, token_actor


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
