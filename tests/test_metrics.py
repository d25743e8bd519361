"""Run metrics on a hand-built dataset whose answers are worked out below (spec §8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ENGINES, project

import idspine

# crm:1 and crm:2 share customer C1 (rule 1 merges them); crm:3 shares their email but has
# C2, so both email pairs with it are refused (customer_id limit 1); crm:4 has no usable
# identifier; crm:5 and shop:1 share an email; shop:2 stands alone.
CRM = [
    {"id": "1", "email": "a@x.com", "customer_id": "C1", "updated": "2024-01-01"},
    {"id": "2", "email": "a@x.com", "customer_id": "C1", "updated": "2024-01-02"},
    {"id": "3", "email": "a@x.com", "customer_id": "C2", "updated": "2024-01-03"},
    {"id": "4", "email": "n/a", "customer_id": "", "updated": "2024-01-04"},
    {"id": "5", "email": "b@x.com", "customer_id": "", "updated": "2024-01-05"},
]
SHOP = [
    {"id": "1", "email": "B@x.com", "customer_id": "", "updated": "2024-02-01"},
    {"id": "2", "email": "c@x.com", "customer_id": "", "updated": "2024-02-02"},
]

# Worked out by hand from the data above.
EXPECTED = {
    ("records", ""): 7,
    ("records_conflict", ""): 0,  # keep_separate: nobody is held out
    ("records_refused_merge", ""): 3,  # crm:1, crm:2, crm:3 touched by refused pairs
    ("records_over_limit", ""): 0,
    ("records_matched", ""): 4,  # crm:1, crm:2, crm:5, shop:1
    ("records_unique", ""): 2,  # crm:3, shop:2
    ("records_missing", ""): 1,  # crm:4
    ("profiles", ""): 4,  # {crm1, crm2}, {crm3}, {crm5, shop1}, {shop2}
    ("unique_profiles", ""): 2,
    ("resolution_rate", ""): 6 / 7,
    ("match_rate", ""): 4 / 7,
    ("consolidation", ""): 1 - 4 / 6,
    ("largest_profile", ""): 2,
    ("pairs_total", ""): 4,
    ("pairs_merged", ""): 2,
    ("pairs_refused", ""): 2,
    ("pairs_redundant", ""): 0,
    ("rule_pairs_found", "same_customer"): 1,
    ("rule_pairs_found", "same_email"): 4,  # crm1~crm2 again, crm1~3, crm2~3, crm5~shop1
    ("rule_merged", "same_customer"): 1,
    ("rule_merged", "same_email"): 1,
    ("rule_refused", "same_email"): 2,
    ("rule_refused", "same_customer"): 0,
    ("rule_redundant", "same_email"): 0,
    ("rule_applicable_rate", "same_customer"): 3 / 7,
    ("rule_applicable_rate", "same_email"): 6 / 7,
    ("source_records", "crm"): 5,
    ("source_records", "shop"): 2,
    ("source_resolution_rate", "crm"): 4 / 5,
    ("source_resolution_rate", "shop"): 1.0,
    ("source_missing", "crm"): 1,
    ("source_missing", "shop"): 0,
    ("source_conflict", "crm"): 0,
    ("source_matched", "crm"): 3,
    ("identifier_completeness_input", "email"): 6 / 7,
    ("identifier_completeness_input", "customer_id"): 3 / 7,
    ("identifier_completeness_golden", "email"): 1.0,
    ("identifier_completeness_golden", "customer_id"): 2 / 4,
    ("identifier_blocked_values", "email"): 1,  # n/a: a placeholder, not an invalid email
    ("identifier_invalid_values", "email"): 0,
    ("identifier_profiles_at_limit", "customer_id"): 2,
    ("cluster_size_profiles", "1"): 2,
    ("cluster_size_profiles", "2"): 2,
    # Zero-valued metrics are written too, so trend queries need no outer joins.
    ("cluster_size_profiles", "51+"): 0,
    ("identifier_hub_values", "email"): 0,
    ("identifier_hub_records", "customer_id"): 0,
    ("ids_split", ""): 0,
    ("ids_merged", ""): 0,
}
# unique + matched + conflict + missing = records, per run and per source.
STATUSES = ("unique", "matched", "conflict", "missing")


@pytest.mark.parametrize("engine", ENGINES)
def test_metrics_match_the_hand_computed_answers(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result], engine: str
) -> None:
    config = project(
        tmp_path,
        {"crm": CRM, "shop": SHOP},
        engine=engine,
        identifiers={"email": {"type": "email"}, "customer_id": {"type": "id", "limit": 1}},
        rules=[
            {"name": "same_customer", "match": {"customer_id": "exact"}},
            {"name": "same_email", "match": {"email": "exact"}},
        ],
    )
    metrics = run_project(config).metrics()
    for key, expected in EXPECTED.items():
        assert metrics.get(key) == pytest.approx(expected), key
    assert sum(metrics[(f"records_{s}", "")] for s in STATUSES) == metrics[("records", "")]
    for source in ("crm", "shop"):
        total = sum(metrics[(f"source_{s}", source)] for s in STATUSES)
        assert total == metrics[("source_records", source)]
    assert metrics[("stage_seconds_cluster", "")] >= 0


@pytest.mark.parametrize("engine", ENGINES)
def test_quarantine_counts_only_the_records_held_out(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result], engine: str
) -> None:
    # crm:1 ~ crm:2 (same customer) stay; crm:3 (C2) is refused by both and is held out
    # alone; crm:4 holds two customer ids, over the limit of one, so its pair with crm:5 is
    # refused: of two equal sides, the later-founded one (crm:5) is held out.
    crm = [
        {"id": "1", "email": "a@x.com", "customer_id": "C1", "updated": "2024-01-01"},
        {"id": "2", "email": "a@x.com", "customer_id": "C1", "updated": "2024-01-02"},
        {"id": "3", "email": "a@x.com", "customer_id": "C2", "updated": "2024-01-03"},
        {"id": "4", "email": "d@x.com", "customer_id": "C4", "alt": "C5", "updated": "2024-01-04"},
        {"id": "5", "email": "d@x.com", "customer_id": "C4", "alt": "", "updated": "2024-01-05"},
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        engine=engine,
        identifiers={"email": {"type": "email"}, "customer_id": {"type": "id", "limit": 1}},
        maps={"crm": {"email": "email", "customer_id": ["customer_id", "alt"]}},
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
        conflict_policy="quarantine",
    )
    result = run_project(config)
    metrics = result.metrics()
    match = {r["record_key"]: r for r in result.arrow("identity_match").to_pylist()}
    assert {k: r["status"] for k, r in match.items()} == {
        "1": "matched",
        "2": "matched",
        "3": "conflict",
        "4": "unique",
        "5": "conflict",
    }
    assert match["4"]["over_limit"] is True
    assert match["5"]["over_limit"] is False
    assert metrics[("records_conflict", "")] == 2
    assert metrics[("records_over_limit", "")] == 1
    assert metrics[("records_refused_merge", "")] == 5
    unresolved = result.arrow("identity_unresolved_records").to_pylist()
    assert sorted(r["record_key"] for r in unresolved) == ["3", "5"]
    assert sum(metrics[(f"records_{s}", "")] for s in STATUSES) == 5


# Each absent value is blocked (a placeholder or a user pattern, judged before the syntax
# check), invalid (bad syntax), or empty (neither); a CSV field left empty is null: no row.
ABSENT_VALUES = [
    {"id": "1", "email": "unknown", "customer_id": "n/a", "updated": "2024-01-01"},
    {"id": "2", "email": "test@test.com", "customer_id": "TMP-7", "updated": "2024-01-02"},
    {"id": "3", "email": "foo@", "customer_id": "C1", "updated": "2024-01-03"},
    {"id": "4", "email": "   ", "customer_id": "C2", "updated": "2024-01-04"},
    {"id": "5", "email": "Ann@X.com", "customer_id": "", "updated": "2024-01-05"},
]


@pytest.mark.parametrize("engine", ENGINES)
def test_blocked_and_invalid_values_are_counted_apart(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result], engine: str
) -> None:
    config = project(
        tmp_path,
        {"crm": ABSENT_VALUES},
        engine=engine,
        identifiers={
            "email": {"type": "email"},
            "customer_id": {"type": "id", "block_patterns": ["^tmp-"]},
        },
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    metrics = result.metrics()
    assert metrics[("identifier_blocked_values", "email")] == 2
    assert metrics[("identifier_invalid_values", "email")] == 1
    assert metrics[("identifier_blocked_values", "customer_id")] == 2
    assert metrics[("identifier_invalid_values", "customer_id")] == 0
    lookup = {
        (r["identifier"], r["raw_value"]): (r["value"], r["is_blocked"])
        for r in result.arrow("lookup").to_pylist()
    }
    assert lookup == {
        ("email", "unknown"): (None, True),
        ("email", "test@test.com"): (None, True),
        ("email", "foo@"): (None, False),
        ("email", "   "): (None, False),
        ("email", "Ann@X.com"): ("ann@x.com", False),
        ("customer_id", "n/a"): (None, True),
        ("customer_id", "TMP-7"): (None, True),
        ("customer_id", "C1"): ("c1", False),
        ("customer_id", "C2"): ("c2", False),
    }
