"""Stable profile ids across runs (spec §5): each scenario is one readable test."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.conftest import project

import idspine

IDENTIFIERS = {"email": {"type": "email"}, "phone": {"type": "phone", "default_region": "FR"}}
RULES = [
    {"name": "same_email", "match": {"email": "exact"}},
    {"name": "same_phone", "match": {"phone": "exact"}},
]

BASE = [
    {"id": "a1", "email": "ann@mail.com", "phone": "", "updated": "2024-01-01"},
    {"id": "a2", "email": "ann@mail.com", "phone": "0611111111", "updated": "2024-01-02"},
    {"id": "b1", "email": "bob@mail.com", "phone": "0622222222", "updated": "2024-01-03"},
    {"id": "b2", "email": "bob@mail.com", "phone": "", "updated": "2024-01-04"},
    {"id": "b3", "email": "bob@mail.com", "phone": "", "updated": "2024-01-05"},
]


def run(
    tmp_path: Path, records: list[dict[str, Any]], rules: list[dict[str, Any]] = RULES
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    config = project(tmp_path, {"crm": records}, identifiers=IDENTIFIERS, rules=rules)
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        membership = {
            r["record_key"]: r["profile_id"] for r in result.arrow("identity_match").to_pylist()
        }
        redirects = result.arrow("identity_profile_redirects").to_pylist()
    return membership, redirects


def test_rerun_unchanged_keeps_every_id(tmp_path: Path) -> None:
    first, _ = run(tmp_path, BASE)
    second, redirects = run(tmp_path, BASE)
    assert first == second
    assert redirects == []
    assert len(set(first.values())) == 2


def test_first_run_ids_are_deterministic_across_databases(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, _ = run(tmp_path / "one", BASE)
    second, _ = run(tmp_path / "two", list(reversed(BASE)))
    assert first == second


def test_new_record_joining_a_profile_keeps_its_id(tmp_path: Path) -> None:
    first, _ = run(tmp_path, BASE)
    extra = {"id": "a3", "email": "ANN@mail.com", "phone": "", "updated": "2024-02-01"}
    second, redirects = run(tmp_path, [*BASE, extra])
    assert second["a3"] == second["a1"] == first["a1"]
    assert second["b1"] == first["b1"]
    assert redirects == []


def test_bridge_merges_and_redirects_the_smaller_profile(tmp_path: Path) -> None:
    first, _ = run(tmp_path, BASE)
    bridge = {"id": "x", "email": "ann@mail.com", "phone": "0622222222", "updated": "2024-03-01"}
    second, redirects = run(tmp_path, [*BASE, bridge])
    # Bob's profile gave 3 records, Ann's 2: the merged profile keeps Bob's id.
    assert len(set(second.values())) == 1
    assert second["a1"] == first["b1"]
    assert [(r["old_profile_id"], r["profile_id"], r["reason"]) for r in redirects] == [
        (first["a1"], first["b1"], "merged")
    ]


def test_removing_the_bridge_splits_and_the_largest_part_keeps_the_id(tmp_path: Path) -> None:
    bridge = {"id": "x", "email": "ann@mail.com", "phone": "0622222222", "updated": "2024-03-01"}
    merged, _ = run(tmp_path, [*BASE, bridge])
    split, redirects = run(tmp_path, BASE)
    assert split["b1"] == merged["b1"]  # Bob's side (3 records) keeps the id
    assert split["a1"] != merged["a1"]  # Ann's side gets a new id...
    assert split["a1"] not in merged.values()
    # ...and the lineage says where it came from.
    assert [(r["old_profile_id"], r["profile_id"], r["reason"]) for r in redirects] == [
        (merged["a1"], split["a1"], "split")
    ]


def test_ids_are_never_reused(tmp_path: Path) -> None:
    bridge = {"id": "x", "email": "ann@mail.com", "phone": "0622222222", "updated": "2024-03-01"}
    seen: set[str] = set()
    history = [BASE, [*BASE, bridge], BASE, [*BASE, bridge], BASE]
    for records in history:
        membership, _ = run(tmp_path, records)
        new_ids = set(membership.values()) - seen
        seen |= new_ids
    config = project(tmp_path, {"crm": BASE}, identifiers=IDENTIFIERS, rules=RULES)
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        registry = result.arrow("identity_profile_ids").to_pylist()
    ids = [r["profile_id"] for r in registry]
    assert len(ids) == len(set(ids))
    assert set(ids) == seen


def test_changing_a_rule_moves_records_but_keeps_ids_where_possible(tmp_path: Path) -> None:
    first, _ = run(tmp_path, BASE)
    only_phone = [{"name": "same_phone", "match": {"phone": "exact"}}]
    second, redirects = run(tmp_path, BASE, rules=only_phone)
    # Without the email rule every record stands alone; each old id survives in one part.
    assert len(set(second.values())) == 5
    assert first["a1"] in second.values()
    assert first["b1"] in second.values()
    assert {r["reason"] for r in redirects} == {"split"}
    assert len(redirects) == 3


def test_shuffled_input_gives_the_same_ids(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    first, _ = run(tmp_path / "x", BASE)
    shuffled = BASE.copy()
    random.Random(7).shuffle(shuffled)
    (tmp_path / "y").mkdir()
    second, _ = run(tmp_path / "y", shuffled)
    assert first == second


def test_old_id_redirect_follows_later_merges(tmp_path: Path) -> None:
    third = [{"id": "c1", "email": "cy@mail.com", "phone": "0633333333", "updated": "2024-01-01"}]
    first, _ = run(tmp_path, [*BASE, *third])
    bridge_ab = {"id": "x", "email": "ann@mail.com", "phone": "0622222222", "updated": "2024-03-01"}
    run(tmp_path, [*BASE, *third, bridge_ab])
    bridge_bc = {"id": "y", "email": "cy@mail.com", "phone": "0622222222", "updated": "2024-03-02"}
    final, redirects = run(tmp_path, [*BASE, *third, bridge_ab, bridge_bc])
    current = {r["old_profile_id"]: r["profile_id"] for r in redirects if r["reason"] == "merged"}
    # Every retired id points straight at a live profile.
    assert set(current.values()) <= set(final.values())
    assert current[first["a1"]] == final["a1"]
