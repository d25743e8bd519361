"""`explain` answers on the clustering scenarios: merge chain, refused pair, hub value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import project

import idspine
from idspine.commands.explain import explain_profile, explain_records, render_text

IDENTIFIERS = {
    "email": {"type": "email", "max_group_size": 3},
    "phone": {"type": "phone", "default_region": "FR"},
    "customer_id": {"type": "id", "limit": 1},
    "last_name": {"type": "name"},
}
RULES = [
    {"name": "same_email", "match": {"email": "exact"}},
    {"name": "phone_and_name", "match": {"phone": "exact", "last_name": "fuzzy_strong"}},
]
CRM = [
    # a chain: 1 ~ 2 by email, 2 ~ 3 by phone and name
    {
        "id": "1",
        "email": "ann@mail.com",
        "phone": "",
        "customer_id": "",
        "last_name": "Lee",
        "updated": "2024-01-01",
    },
    {
        "id": "2",
        "email": "ann@mail.com",
        "phone": "0611111111",
        "customer_id": "",
        "last_name": "Lee",
        "updated": "2024-01-02",
    },
    {
        "id": "3",
        "email": "",
        "phone": "06 11 11 11 11",
        "customer_id": "",
        "last_name": "Leee",
        "updated": "2024-01-03",
    },
    # a family email refused by the customer_id limit
    {
        "id": "4",
        "email": "fam@mail.com",
        "phone": "",
        "customer_id": "C1",
        "last_name": "Roy",
        "updated": "2024-01-01",
    },
    {
        "id": "5",
        "email": "fam@mail.com",
        "phone": "",
        "customer_id": "C2",
        "last_name": "Roy",
        "updated": "2024-01-02",
    },
    # a hub email shared by four strangers; 9 shares a phone with 6 but not the name
    *[
        {
            "id": str(i),
            "email": "hub@mail.com",
            "phone": "",
            "customer_id": "",
            "last_name": f"N{i}",
            "updated": "2024-01-01",
        }
        for i in range(6, 10)
    ],
]


def setup(tmp_path: Path) -> idspine.Config:
    rows: list[dict[str, Any]] = [dict(r) for r in CRM]
    for row in rows:
        if row["id"] in {"6", "9"}:
            row["phone"] = "0699999999"
    config = idspine.load_config(
        project(tmp_path, {"crm": rows}, identifiers=IDENTIFIERS, rules=RULES),
        base_dir=tmp_path,
    )
    idspine.resolve(config).close()
    return config


def test_merge_chain(tmp_path: Path) -> None:
    config = setup(tmp_path)
    answer = explain_records(config, "crm:1", "crm:3")
    assert answer["same_profile"] is True
    assert [(p["left_key"], p["right_key"], p["rule"]) for p in answer["chain"]] == [
        ("1", "2", "same_email"),
        ("2", "3", "phone_and_name"),
    ]
    text = render_text(answer)
    assert "Same profile" in text
    assert "phone_and_name" in text


def test_refused_by_limit(tmp_path: Path) -> None:
    config = setup(tmp_path)
    answer = explain_records(config, "crm:4", "crm:5")
    assert answer["same_profile"] is False
    assert len(answer["refused_pairs"]) == 1
    assert "customer_id" in render_text(answer)


def test_hub_value_and_below_threshold(tmp_path: Path) -> None:
    config = setup(tmp_path)
    answer = explain_records(config, "crm:6", "crm:9")
    assert answer["same_profile"] is False
    assert "hub value" in answer["rules"]["same_email"]
    assert "jaro_winkler" in answer["rules"]["phone_and_name"]
    assert "< 0.92" in answer["rules"]["phone_and_name"]


def test_profile_view(tmp_path: Path) -> None:
    config = setup(tmp_path)
    profile_id = explain_records(config, "crm:1", "crm:2")["profile_id"]
    answer = explain_profile(config, profile_id)
    assert answer["golden"]["record_count"] == 3
    assert sorted(r["record_key"] for r in answer["records"]) == ["1", "2", "3"]
    assert {p["status"] for p in answer["pairs"]} == {"merged"}
    assert "Golden record" in render_text(answer)
