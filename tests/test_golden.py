"""Survivorship (spec §6): every strategy, ties and all-null fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import write_csv

import idspine

# One person in two sources; `code` is a field, `nick` a name identifier.
CRM = [
    {
        "id": "1",
        "email": "p@mail.com",
        "code": "bb",
        "nick": "Zoé",
        "empty": "",
        "updated": "2024-01-01",
    },
    {
        "id": "2",
        "email": "p@mail.com",
        "code": "aaa",
        "nick": "zoe",
        "empty": "",
        "updated": "2024-03-01",
    },
    {
        "id": "3",
        "email": "p@mail.com",
        "code": "bb",
        "nick": "",
        "empty": "",
        "updated": "2024-02-01",
    },
]
SHOP = [
    {
        "id": "9",
        "email": "P@mail.com",
        "code": "c",
        "nick": "Zozo",
        "empty": "",
        "updated": "2023-01-01",
    },
]


def golden_value(tmp_path: Path, name: str, strategy: Any, crm: list[dict[str, Any]] = CRM) -> Any:
    write_csv(tmp_path / "crm.csv", crm)
    write_csv(tmp_path / "shop.csv", SHOP)
    source = {
        "primary_key": "id",
        "order_by": "updated",
        "map": {"email": "email", "nick": "nick"},
        "fields": {"code": "code", "empty": "empty"},
    }
    config = {
        "output": {"database": str(tmp_path / "out.duckdb")},
        "identifiers": {"email": {"type": "email"}, "nick": {"type": "name"}},
        "sources": {"crm": {"path": "crm.csv", **source}, "shop": {"path": "shop.csv", **source}},
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
        "golden": {name: strategy},
    }
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        golden = result.arrow("identity_golden").to_pylist()
    assert len(golden) == 1
    return golden[0][name]


@pytest.mark.parametrize(
    ("name", "strategy", "expected"),
    [
        ("code", "last_non_null", "aaa"),  # crm:2 is the latest record
        ("code", "first_non_null", "c"),  # shop:9 is the oldest
        ("code", "most_frequent", "bb"),  # two records say bb
        ("code", "longest", "aaa"),
        ("code", "min", "aaa"),
        ("code", "max", "c"),
        ("code", {"strategy": "source_priority", "order": ["shop", "crm"]}, "c"),
        ("code", {"strategy": "source_priority", "order": ["crm", "shop"]}, "aaa"),
        ("nick", "last_non_null", "zoe"),  # names shown as written
        ("nick", "most_frequent", "zoe"),  # Zoé and zoe are one value; the latest wins
        ("nick", "first_non_null", "Zozo"),
        ("email", "last_non_null", "p@mail.com"),  # identifiers shown standardized
        ("empty", "last_non_null", None),  # all empty -> null
        ("empty", "most_frequent", None),
    ],
)
def test_strategy(tmp_path: Path, name: str, strategy: Any, expected: Any) -> None:
    assert golden_value(tmp_path, name, strategy) == expected


def test_ties_are_broken_the_same_way_whatever_the_input_order(tmp_path: Path) -> None:
    tied = [dict(row, updated="2024-01-01", code=f"v{row['id']}") for row in CRM]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = golden_value(tmp_path / "a", "code", "most_frequent", tied)
    second = golden_value(tmp_path / "b", "code", "most_frequent", list(reversed(tied)))
    assert first == second
    first = golden_value(tmp_path / "a", "code", "last_non_null", tied)
    second = golden_value(tmp_path / "b", "code", "last_non_null", list(reversed(tied)))
    assert first == second == "v3"  # same time: the larger record key wins


@pytest.mark.parametrize("columns", [["email", "alt"], ["alt", "email"]])
@pytest.mark.parametrize(
    ("strategy", "expected"), [("last_non_null", "b@mail.com"), ("min", "a@mail.com")]
)
def test_two_values_of_one_record_tie_on_the_value(
    tmp_path: Path, columns: list[str], strategy: str, expected: str
) -> None:
    # One record holds two emails: record and time tie, so the value decides, whatever the
    # order of the columns in the config.
    write_csv(
        tmp_path / "crm.csv",
        [{"id": "1", "email": "a@mail.com", "alt": "b@mail.com", "updated": "2024-01-01"}],
    )
    config = {
        "output": {"database": str(tmp_path / "out.duckdb")},
        "identifiers": {"email": {"type": "email"}},
        "sources": {
            "crm": {
                "path": "crm.csv",
                "primary_key": "id",
                "order_by": "updated",
                "map": {"email": columns},
            }
        },
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
        "golden": {"email": strategy},
    }
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        golden = result.arrow("identity_golden").to_pylist()
    assert [row["email"] for row in golden] == [expected]
