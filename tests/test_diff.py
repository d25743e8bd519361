"""`idspine diff`: what a config change would merge and split, with outputs untouched."""

from __future__ import annotations

from pathlib import Path

import duckdb
from tests.conftest import project

import idspine
from idspine.commands.diff import diff_configs, render_diff

CRM = [
    {"id": "1", "email": "a@x.com", "phone": "0611111111", "updated": "2024-01-01"},
    {"id": "2", "email": "a@x.com", "phone": "", "updated": "2024-01-02"},
    {"id": "3", "email": "", "phone": "0611111111", "updated": "2024-01-03"},
    {"id": "4", "email": "b@x.com", "phone": "0622222222", "updated": "2024-01-04"},
    {"id": "5", "email": "", "phone": "0622222222", "updated": "2024-01-05"},
]
IDENTIFIERS = {"email": {"type": "email"}, "phone": {"type": "phone", "default_region": "FR"}}


def test_dropping_a_rule_shows_the_splits_and_leaves_outputs_alone(tmp_path: Path) -> None:
    both = [
        {"name": "same_email", "match": {"email": "exact"}},
        {"name": "same_phone", "match": {"phone": "exact"}},
    ]
    current = idspine.load_config(
        project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=both), base_dir=tmp_path
    )
    changed = idspine.load_config(
        project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=both[:1]),
        base_dir=tmp_path,
    )
    with idspine.resolve(current) as result:
        before = sorted(map(repr, result.arrow("identity_match").to_pylist()))
    outcome = diff_configs(current, changed)
    # Without the phone rule, {1,2,3} loses 3 and {4,5} falls apart.
    assert outcome["old_profiles"] == 2
    assert outcome["new_profiles"] == 4
    assert outcome["splits"] == 2
    assert outcome["merges"] == 0
    assert "2 current profiles would be split" in render_diff(outcome)
    with duckdb.connect(current.output.database, read_only=True) as connection:
        after = connection.sql("SELECT * FROM identity.identity_match").to_arrow_table()
    assert sorted(map(repr, after.to_pylist())) == before
