"""Finding a tree's bundles for the hub's git source: Fleet's REPO-PATH names, one path's
problem kept to that path, and the CLI's problem locations unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.bundle.discovery import Found, bundle_name, clean_path, discover, load_located
from argosy.bundle.reader import BundleSource
from argosy.errors import InvalidInput

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _by_path(found: list[Found]) -> dict[str, Found]:
    return {f.path: f for f in found}


def test_bundles_are_named_repo_path_unless_fleet_yaml_names_them(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "apps/web/fleet.yaml": "{}\n",
            "apps/web/cm.yaml": CM.format("web"),
            "apps/named/fleet.yaml": "name: chosen\n",
            "apps/named/cm.yaml": CM.format("named"),
            "plain/cm.yaml": CM.format("plain"),
            "plain/skip.yaml": CM.format("skip"),
            "plain/.fleetignore": "skip.yaml\n",
        },
    )
    found = _by_path(discover(tmp_path, prefix="demo"))
    assert {p: f.source.name for p, f in found.items() if f.source} == {
        "apps/web": "demo-apps-web",
        "apps/named": "chosen",
        "plain": "demo-plain",
    }
    plain = found["plain"].source
    assert plain is not None and set(plain.files) == {"cm.yaml"}  # .fleetignore honoured


def test_a_bad_fleet_yaml_errors_its_path_only(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "good/cm.yaml": CM.format("good"),
            "bad/fleet.yaml": "helm: [not, a, mapping]\n",
            "bad/cm.yaml": CM.format("bad"),
        },
    )
    found = _by_path(discover(tmp_path, prefix="r", paths=["good", "bad", "missing"]))
    assert found["good"].source is not None and found["good"].problem == ""
    assert found["bad"].source is None and found["bad"].problem.startswith("bad/fleet.yaml")
    assert found["missing"].source is None and "not a directory" in found["missing"].problem
    assert str(tmp_path) not in found["missing"].problem  # the hub's data dir is not shown


def test_paths_select_and_clashing_names_error_both(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a/fleet.yaml": "name: same\n",
            "a/cm.yaml": CM.format("a"),
            "b/fleet.yaml": "name: same\n",
            "b/cm.yaml": CM.format("b"),
            "c/cm.yaml": CM.format("c"),
        },
    )
    assert [f.path for f in discover(tmp_path, prefix="r", paths=["c"])] == ["c"]
    found = _by_path(discover(tmp_path, prefix="r", paths=["a", "b"]))
    assert all(
        f.source is None and "would both be bundle 'same'" in f.problem for f in found.values()
    )


def test_root_path_is_the_repo_name_and_bad_paths_are_refused() -> None:
    assert bundle_name("repo", "") == "repo"
    assert bundle_name("repo", "deploy/Web_App") == "repo-deploy-web-app"
    assert clean_path("./deploy/") == "deploy"
    assert clean_path(".") == ""
    for bad in ("/etc", "../up", "a/../../b"):
        with pytest.raises(InvalidInput, match=r"without '\.\.'"):
            clean_path(bad)


def test_load_located_names_files_by_the_directory_given() -> None:
    source = BundleSource(name="x", files={"cm.yaml": b"kind: [\n"}, origin="some/dir/")
    with pytest.raises(InvalidInput) as info:
        load_located(source)
    assert all(p.startswith("some/dir/cm.yaml") for p in info.value.problems)


def test_a_path_that_links_out_of_the_repository_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, {"outside/cm.yaml": CM.format("o")})
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "escape").symlink_to(tmp_path / "outside")
    [found] = discover(repo, prefix="r", paths=["escape"])
    assert found.source is None
    assert "out of the repository" in found.problem


def test_a_tree_with_no_bundle_left_finds_nothing(tmp_path: Path) -> None:
    _write(tmp_path, {"README.md": "the bundles were removed\n", "docs/notes.txt": "x"})
    assert discover(tmp_path, prefix="r") == []
    assert discover(tmp_path, prefix="r", paths=["docs"]) == []
