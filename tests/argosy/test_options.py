"""ApplyOptions: the parsed comparePatches and ignore.conditions are parsed once."""

from __future__ import annotations

from argosy.options import ApplyOptions, json_list


def test_parsed_lists_are_parsed_once_and_are_no_part_of_equality() -> None:
    patches = [{"kind": "ConfigMap", "operations": [{"op": "remove", "path": "/data"}]}]
    conditions = [{"type": "Progressing"}]
    options = ApplyOptions(
        compare_patches_json=json_list(patches), ignore_conditions_json=json_list(conditions)
    )
    assert options.compare_patches == patches and options.ignore_conditions == conditions
    assert options.compare_patches is options.compare_patches
    assert options.ignore_conditions is options.ignore_conditions
    fresh = ApplyOptions(
        compare_patches_json=json_list(patches), ignore_conditions_json=json_list(conditions)
    )
    assert options == fresh and options.as_dict() == fresh.as_dict()
    assert ApplyOptions().compare_patches == []
