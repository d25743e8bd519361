"""Stable profile ids across runs (spec §5): each scenario is one readable test."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import ENGINES, project

import idspine
from idspine.commands.explain import explain_profile
from idspine.errors import InputError

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


BRIDGE_AB = {"id": "x", "email": "ann@mail.com", "phone": "0622222222", "updated": "2024-03-01"}


@dataclass
class Outcome:
    """What one run published about ids."""

    membership: dict[str, str]
    redirects: list[dict[str, Any]]
    live: set[str]
    retired_members: list[dict[str, Any]]
    metrics: dict[str, float]
    run_id: str


def run_once(
    tmp_path: Path,
    records: list[dict[str, Any]],
    rules: list[dict[str, Any]] = RULES,
    engine: str = "duckdb",
) -> Outcome:
    config = project(
        tmp_path, {"crm": records}, identifiers=IDENTIFIERS, rules=rules, engine=engine
    )
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        return Outcome(
            membership={
                r["record_key"]: r["profile_id"] for r in result.arrow("identity_match").to_pylist()
            },
            redirects=result.arrow("identity_profile_redirects").to_pylist(),
            live={r["profile_id"] for r in result.arrow("identity_golden").to_pylist()},
            retired_members=result.arrow("identity_retired_members").to_pylist(),
            metrics={m: v for (m, d), v in result.metrics().items() if m.startswith("ids_")},
            run_id=result.run.run_id,
        )


def run(
    tmp_path: Path, records: list[dict[str, Any]], rules: list[dict[str, Any]] = RULES
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    outcome = run_once(tmp_path, records, rules)
    return outcome.membership, outcome.redirects


def assert_redirects_are_sound(outcome: Outcome) -> None:
    """One row per retired id; never a live id; a live target, or none when removed."""
    old_ids = [r["old_profile_id"] for r in outcome.redirects]
    assert len(old_ids) == len(set(old_ids))
    assert not set(old_ids) & outcome.live
    assert set(old_ids) == {r["old_profile_id"] for r in outcome.retired_members}
    for redirect in outcome.redirects:
        if redirect["profile_id"] is None:
            assert redirect["reason"] == "removed"
        else:
            assert redirect["reason"] == "merged"
            assert redirect["profile_id"] in outcome.live


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
    merged = run_once(tmp_path, [*BASE, BRIDGE_AB]).membership
    split = run_once(tmp_path, BASE)
    assert split.membership["b1"] == merged["b1"]  # Bob's side (3 records) keeps the id
    assert split.membership["a1"] != merged["a1"]  # Ann's side gets a new id...
    assert split.membership["a1"] not in merged.values()
    # ...no id retired, so no redirect (the old id is still live on Bob's side); the run
    # counts the profile split off it.
    assert split.redirects == []
    assert split.metrics == {
        "ids_kept": 1,
        "ids_new": 1,
        "ids_split": 1,
        "ids_merged": 0,
        "ids_removed": 0,
    }


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
    second = run_once(tmp_path, BASE, rules=only_phone)
    # Without the email rule every record stands alone; each old id survives in one part.
    assert len(set(second.membership.values())) == 5
    assert first["a1"] in second.membership.values()
    assert first["b1"] in second.membership.values()
    # Both old ids are still live, so nothing is redirected; three parts split off them.
    assert second.redirects == []
    assert second.metrics["ids_split"] == 3


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


@pytest.mark.parametrize("engine", ENGINES)
def test_after_a_split_a_retired_id_follows_its_own_records(tmp_path: Path, engine: str) -> None:
    """Ann's id, retired into Bob's when a bridge merged them, follows Ann once they split."""
    first = run_once(tmp_path, BASE, engine=engine)
    ann, bob = first.membership["a1"], first.membership["b1"]
    merged = run_once(tmp_path, [*BASE, BRIDGE_AB], engine=engine)
    assert merged.redirects == [
        {"old_profile_id": ann, "profile_id": bob, "run_id": merged.run_id, "reason": "merged"}
    ]
    assert merged.metrics == {
        "ids_kept": 1,
        "ids_new": 0,
        "ids_merged": 1,
        "ids_removed": 0,
        "ids_split": 0,
    }
    assert {(r["source"], r["record_key"], r["retired_run"]) for r in merged.retired_members} == {
        ("crm", "a1", 2),
        ("crm", "a2", 2),
    }
    split = run_once(tmp_path, BASE, engine=engine)
    assert split.membership["b1"] == bob
    ann_now = split.membership["a1"]
    assert ann_now not in (ann, bob)
    # The redirect moved with Ann's records, and keeps the run that retired the id.
    assert split.redirects == [
        {"old_profile_id": ann, "profile_id": ann_now, "run_id": merged.run_id, "reason": "merged"}
    ]
    assert split.metrics == {
        "ids_kept": 1,
        "ids_new": 1,
        "ids_split": 1,
        "ids_merged": 0,
        "ids_removed": 0,
    }
    assert_redirects_are_sound(split)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_chain_of_retirements_points_at_the_live_profile(tmp_path: Path, engine: str) -> None:
    cy = [
        {"id": f"c{i}", "email": "cy@mail.com", "phone": "", "updated": "2024-01-01"}
        for i in range(1, 8)
    ]
    bridge_bc = {"id": "y", "email": "cy@mail.com", "phone": "0622222222", "updated": "2024-03-02"}
    first = run_once(tmp_path, [*BASE, *cy], engine=engine)
    ann, bob, cy_id = (first.membership[k] for k in ("a1", "b1", "c1"))
    run_once(tmp_path, [*BASE, *cy, BRIDGE_AB], engine=engine)  # Ann's id retires into Bob's
    # Bob's profile (now 6 records) joins Cy's (7): Bob's id retires in turn.
    chained = run_once(tmp_path, [*BASE, *cy, BRIDGE_AB, bridge_bc], engine=engine)
    assert set(chained.membership.values()) == {cy_id}
    assert {(r["old_profile_id"], r["profile_id"]) for r in chained.redirects} == {
        (ann, cy_id),
        (bob, cy_id),
    }
    assert_redirects_are_sound(chained)
    # Without the bridges the three people split apart; each retired id follows its own
    # records, not the profile that kept the surviving id.
    apart = run_once(tmp_path, [*BASE, *cy], engine=engine)
    assert apart.membership["c1"] == cy_id
    assert {(r["old_profile_id"], r["profile_id"]) for r in apart.redirects} == {
        (ann, apart.membership["a1"]),
        (bob, apart.membership["b1"]),
    }
    assert_redirects_are_sound(apart)


def test_a_retired_id_whose_records_are_gone_is_removed_until_they_return(
    tmp_path: Path,
) -> None:
    run_once(tmp_path, BASE)
    ann = run_once(tmp_path, [*BASE, BRIDGE_AB]).redirects[0]["old_profile_id"]
    without_ann = run_once(tmp_path, [r for r in BASE if r["id"].startswith("b")])
    assert [(r["old_profile_id"], r["profile_id"], r["reason"]) for r in without_ann.redirects] == [
        (ann, None, "removed")
    ]
    assert_redirects_are_sound(without_ann)
    config = project(tmp_path, {"crm": BASE}, identifiers=IDENTIFIERS, rules=RULES)
    with pytest.raises(InputError, match="none of its records remain"):
        explain_profile(idspine.load_config(config, base_dir=tmp_path), ann)
    back = run_once(tmp_path, BASE)
    assert [(r["old_profile_id"], r["profile_id"], r["reason"]) for r in back.redirects] == [
        (ann, back.membership["a1"], "merged")
    ]


def test_explain_follows_an_old_id_to_the_profile_holding_its_records(tmp_path: Path) -> None:
    ann = run_once(tmp_path, BASE).membership["a1"]
    run_once(tmp_path, [*BASE, BRIDGE_AB])
    split = run_once(tmp_path, BASE)
    config = project(tmp_path, {"crm": BASE}, identifiers=IDENTIFIERS, rules=RULES)
    answer = explain_profile(idspine.load_config(config, base_dir=tmp_path), ann)
    assert answer["redirected_to"]["profile_id"] == split.membership["a1"]
    assert sorted(r["record_key"] for r in answer["records"]) == ["a1", "a2"]


def test_redirects_written_before_retired_members_were_kept_stay_sound(tmp_path: Path) -> None:
    """A database from an earlier version has redirects but no identity_retired_members."""
    run_once(tmp_path, BASE)
    run_once(tmp_path, [*BASE, BRIDGE_AB])
    with duckdb.connect(str(tmp_path / "out.duckdb")) as connection:
        connection.execute("DROP TABLE identity.identity_retired_members")
        connection.execute(
            "INSERT INTO identity.identity_profile_redirects SELECT profile_id, NULL, "
            "'old-run', 'split' FROM identity.identity_golden"
        )
    later = run_once(tmp_path, BASE)
    # The old redirect is kept (its records are unknown), the old split row is dropped.
    assert len(later.redirects) == 1
    assert later.redirects[0]["profile_id"] in later.live
    assert not {r["old_profile_id"] for r in later.redirects} & later.live
