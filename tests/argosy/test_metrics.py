"""--metrics-listen: HOST:PORT, and loopback unless the operator opts in (argosy/metrics.py)."""

from __future__ import annotations

import pytest

from argosy.metrics import check_listen, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_listen(f"{host}:9100", public=False, flag="--metrics-listen")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "10.0.0.5", "metrics.example.com"])
def test_other_hosts_need_the_opt_in(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ValueError, match=r"not a loopback address.*--metrics-public"):
        check_listen(f"{host}:9100", public=False, flag="--metrics-listen")
    check_listen(f"{host}:9100", public=True, flag="--metrics-listen")


@pytest.mark.parametrize("listen", ["9100", ":9100", "127.0.0.1:", "127.0.0.1:http", "h:70000"])
def test_not_host_port(listen: str) -> None:
    with pytest.raises(ValueError, match=r"--metrics-listen: .* is not HOST:PORT"):
        check_listen(listen, public=True, flag="--metrics-listen")
