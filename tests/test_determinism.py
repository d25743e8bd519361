"""Same data and config give the same outputs, whatever the row order or thread count."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.conftest import project

import idspine

TABLES = (
    "identity_golden",
    "identity_match",
    "identity_matched_ids",
    "identity_lookup",
    "identity_match_pairs",
    "identity_unresolved_records",
    "identity_profile_ids",
)

IDENTIFIERS = {
    "email": {"type": "email", "limit": 2, "max_group_size": 6, "strip_plus_tag": True},
    "phone": {"type": "phone", "default_region": "FR", "limit": 1},
    "customer_id": {"type": "id", "limit": 1},
    "last_name": {"type": "name"},
}
RULES = [
    {"name": "same_customer", "match": {"customer_id": "exact"}},
    {
        "name": "email_and_name",
        "match": {"email": "exact", "last_name": {"type": "fuzzy_medium", "allow_missing": True}},
    },
    {"name": "same_phone", "match": {"phone": "exact"}},
]


def messy_records(count: int, seed: int) -> list[dict[str, Any]]:
    """Small value pools so that records collide, chain, hit limits and form hubs."""
    rng = random.Random(seed)
    names = ["Martin", "Martinn", "Bernard", "Dubois", "Durand", "Duran", ""]
    result = []
    for i in range(count):
        result.append(
            {
                "id": f"k{i:04d}",
                "email": rng.choice(
                    [
                        f"u{rng.randrange(count // 3)}@mail.com",
                        f"U{rng.randrange(count // 3)}+x@mail.com",
                        "hub@mail.com",
                        "",
                    ]
                ),
                "phone": rng.choice([f"06{rng.randrange(10**6, 10**6 + count // 4):08d}", ""]),
                "customer_id": rng.choice([f"C{rng.randrange(count // 2)}", "", ""]),
                "last_name": rng.choice(names),
                "updated": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}",
            }
        )
    return result


def outputs(tmp_path: Path, data: list[dict[str, Any]], threads: int) -> dict[str, list[Any]]:
    tmp_path.mkdir()
    config = project(
        tmp_path,
        {"crm": data[: len(data) // 2], "app": data[len(data) // 2 :]},
        identifiers=IDENTIFIERS,
        rules=RULES,
        duckdb={"threads": threads},
    )
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        return {t: sorted(map(repr, result.arrow(t).to_pylist())) for t in TABLES}


def test_row_order_and_threads_do_not_change_outputs(tmp_path: Path) -> None:
    data = messy_records(400, seed=3)
    baseline = outputs(tmp_path / "base", data, threads=1)
    for attempt in range(3):
        # Records keep their source: shuffle within each half only.
        half = len(data) // 2
        crm, app = data[:half], data[half:]
        random.Random(attempt).shuffle(crm)
        random.Random(attempt + 10).shuffle(app)
        again = outputs(tmp_path / f"run{attempt}", crm + app, threads=4)
        assert again == baseline
    pairs = baseline["identity_match_pairs"]
    assert any("'refused'" in p for p in pairs)  # the data does exercise conflict replay
    assert any("'merged'" in p for p in pairs)
