"""Readable end-to-end scenarios, run on every engine (spec §2-§4, §7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ENGINES, project, rows

import idspine

Runner = Callable[[dict[str, Any]], idspine.Result]

IDENTIFIERS = {
    "email": {"type": "email", "limit": 3, "max_group_size": 4},
    "customer_id": {"type": "id", "limit": 1},
    "first_name": {"type": "name"},
    "last_name": {"type": "name"},
}


def profiles_of(result: idspine.Result) -> dict[str, str | None]:
    return {
        f"{r['source']}:{r['record_key']}": r["profile_id"]
        for r in result.arrow("identity_match").to_pylist()
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_family_email_with_two_customer_ids_stays_two_profiles(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    shop = [
        {
            "id": "1",
            "email": "family@mail.com",
            "customer_id": "C1",
            "first_name": "Ann",
            "last_name": "Lee",
            "updated": "2024-01-01",
        },
        {
            "id": "2",
            "email": "family@mail.com",
            "customer_id": "C2",
            "first_name": "Bob",
            "last_name": "Lee",
            "updated": "2024-02-01",
        },
    ]
    config = project(
        tmp_path,
        {"shop": shop},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    profiles = profiles_of(result)
    assert profiles["shop:1"] != profiles["shop:2"]
    pairs = result.arrow("identity_match_pairs").to_pylist()
    assert len(pairs) == 1
    assert pairs[0]["status"] == "refused"
    assert pairs[0]["conflict_identifier"] == "customer_id"
    assert pairs[0]["rule"] == "same_email"
    # Status says where each record is; the flag says a merge touching it was refused.
    match = {r["record_key"]: r for r in result.arrow("identity_match").to_pylist()}
    assert {k: (r["status"], r["refused_merge"]) for k, r in match.items()} == {
        "1": ("unique", True),
        "2": ("unique", True),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_quarantine_removes_the_smaller_side(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    shop = [
        {"id": "1", "email": "a@mail.com", "customer_id": "C1", "updated": "2024-01-01"},
        {"id": "2", "email": "a@mail.com", "customer_id": "C1", "updated": "2024-01-02"},
        {"id": "3", "email": "a@mail.com", "customer_id": "C2", "updated": "2024-01-03"},
    ]
    config = project(
        tmp_path,
        {"shop": shop},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[
            {"name": "same_customer", "match": {"customer_id": "exact"}},
            {"name": "same_email", "match": {"email": "exact"}},
        ],
        conflict_policy="quarantine",
    )
    result = run_project(config)
    profiles = profiles_of(result)
    assert profiles["shop:1"] == profiles["shop:2"] is not None
    assert profiles["shop:3"] is None
    unresolved = result.arrow("identity_unresolved_records").to_pylist()
    assert [(r["record_key"], r["reason"]) for r in unresolved] == [("3", "conflict")]
    assert "customer_id" in unresolved[0]["detail"]
    assert len(result.arrow("identity_golden")) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_junk_email_never_merges(tmp_path: Path, run_project: Runner, engine: str) -> None:
    shop = [
        {"id": str(i), "email": "shared@junk.com", "first_name": f"P{i}", "updated": "2024-01-01"}
        for i in range(6)
    ]
    shop += [
        {"id": "10", "email": "test@test.com", "updated": "2024-01-01"},
        {"id": "11", "email": "TEST@test.com ", "updated": "2024-01-01"},
    ]
    config = project(
        tmp_path,
        {"shop": shop},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    assert result.arrow("identity_match_pairs").num_rows == 0
    statuses = {r["record_key"]: r["status"] for r in result.arrow("identity_match").to_pylist()}
    assert all(statuses[str(i)] == "unique" for i in range(6))
    # test@test.com is a built-in placeholder: blocked, so those records have no identifier.
    assert statuses["10"] == statuses["11"] == "missing"
    metrics = result.metrics()
    assert metrics[("identifier_hub_values", "email")] == 1
    assert metrics[("identifier_hub_records", "email")] == 6


@pytest.mark.parametrize("engine", ENGINES)
def test_fuzzy_name_merges_only_inside_its_anchor(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        {"id": "1", "email": "jo@mail.com", "last_name": "Martin", "updated": "2024-01-01"},
        {"id": "2", "email": "jo@mail.com", "last_name": "Martinn", "updated": "2024-01-02"},
        {"id": "3", "email": "other@mail.com", "last_name": "Martin", "updated": "2024-01-03"},
        {"id": "4", "email": "jo@mail.com", "last_name": "Dupont", "updated": "2024-01-04"},
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[
            {"name": "email_and_name", "match": {"email": "exact", "last_name": "fuzzy_strong"}}
        ],
    )
    result = run_project(config)
    profiles = profiles_of(result)
    assert profiles["crm:1"] == profiles["crm:2"]
    assert profiles["crm:3"] != profiles["crm:1"]  # same name, no shared anchor
    assert profiles["crm:4"] != profiles["crm:1"]  # same anchor, name too far
    pairs = result.arrow("identity_match_pairs").to_pylist()
    assert [(p["left_key"], p["right_key"], p["status"]) for p in pairs] == [("1", "2", "merged")]
    assert 0.92 <= pairs[0]["score"] < 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_swapped_names_and_initials(tmp_path: Path, run_project: Runner, engine: str) -> None:
    app = [
        {
            "id": "1",
            "email": "x@mail.com",
            "first_name": "Jean",
            "last_name": "Dupont",
            "updated": "2024-01-01",
        },
        {
            "id": "2",
            "email": "x@mail.com",
            "first_name": "DUPONT",
            "last_name": "Jean",
            "updated": "2024-01-02",
        },
        {
            "id": "3",
            "email": "y@mail.com",
            "first_name": "J",
            "last_name": "Moreau",
            "updated": "2024-01-01",
        },
        {
            "id": "4",
            "email": "y@mail.com",
            "first_name": "Julie",
            "last_name": "Moreau",
            "updated": "2024-01-02",
        },
    ]
    config = project(
        tmp_path,
        {"app": app},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[
            {
                "name": "email_and_names",
                "match": {
                    "email": "exact",
                    "names": {"identifiers": ["first_name", "last_name"], "type": "fuzzy_strong"},
                },
            }
        ],
    )
    profiles = profiles_of(run_project(config))
    assert profiles["app:1"] == profiles["app:2"]
    assert profiles["app:3"] == profiles["app:4"]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_record_appears_once_with_missing_reason(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        {"id": "1", "email": "a@mail.com", "updated": "2024-01-01"},
        {"id": "2", "email": "", "updated": "2024-01-01"},
        {"id": "3", "email": "not an email", "updated": "2024-01-01"},
    ]
    shop = [{"id": "1", "email": "A@Mail.com", "updated": "2023-05-01"}]
    config = project(
        tmp_path,
        {"crm": crm, "shop": shop},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    match = rows(result, "identity_match")
    assert [(r["source"], r["record_key"], r["status"]) for r in match] == [
        ("crm", "1", "matched"),
        ("crm", "2", "missing"),
        ("crm", "3", "missing"),
        ("shop", "1", "matched"),
    ]
    unresolved = rows(result, "identity_unresolved_records")
    assert [(r["record_key"], r["reason"]) for r in unresolved] == [
        ("2", "missing"),
        ("3", "missing"),
    ]
    golden = result.arrow("identity_golden").to_pylist()
    assert len(golden) == 1
    assert golden[0]["record_count"] == 2
    assert golden[0]["sources"] == "crm,shop"
    assert golden[0]["representative_source"] == "crm"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_in_two_columns_of_one_record_counts_once(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        {"id": "1", "email": "ann@mail.com", "alt": "Ann@Mail.com", "updated": "2024-01-01"},
        {"id": "2", "email": "ann@mail.com", "alt": "", "updated": "2024-02-01"},
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers={"email": {"type": "email"}},
        maps={"crm": {"email": ["email", "alt"]}},
        engine=engine,
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    assert len(rows(result, "identity_lookup")) == 3  # every raw value is kept
    assert [
        (r["left_key"], r["right_key"], r["status"]) for r in rows(result, "identity_match_pairs")
    ] == [("1", "2", "merged")]
    matched = rows(result, "identity_matched_ids")
    assert [(r["value"], r["record_count"]) for r in matched] == [("ann@mail.com", 2)]
