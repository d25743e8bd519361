"""Property: for any two records, `explain` says what the run decided.

Random small datasets (tiny value pools, so records share anchors, disagree on names, miss
positions and form hubs) and random rule sets (name groups, `allow_missing`, limits). For
sampled pairs, the strongest rule `explain` finds passing, and its score, must be the rule
and score of the pair the run recorded in `identity_match_pairs`, and no pair the run did
not record may pass any rule in `explain`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import project

import idspine
from idspine.commands.explain import explain_records

FIRST = ["Jean", "Jeanne", "Marie", "J", ""]
LAST = ["Dupont", "Dupond", "Martin", ""]
EMAIL = ["a@x.com", "b@x.com", ""]
PHONE = ["0145454545", "0611223344", ""]
ZIP = ["75001", "75002", ""]

record = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(FIRST),
        "last_name": st.sampled_from(LAST),
        "email": st.sampled_from(EMAIL),
        "phone": st.sampled_from(PHONE),
        "zip": st.sampled_from(ZIP),
    }
)
NAMES = ["first_name", "last_name"]
CANDIDATE_RULES: list[dict[str, Any]] = [
    {"name": "same_email", "match": {"email": "exact"}},
    {
        "name": "phone_names",
        "match": {"phone": "exact", "names": {"identifiers": NAMES, "type": "fuzzy_strong"}},
    },
    {
        "name": "phone_names_or_missing",
        "match": {
            "phone": "exact",
            "names": {"identifiers": NAMES, "type": "fuzzy_medium", "allow_missing": True},
        },
    },
    {
        "name": "zip_last_name",
        "match": {"zip": "exact", "last_name": {"type": "fuzzy_medium", "allow_missing": True}},
    },
    {"name": "email_first_name", "match": {"email": "exact", "first_name": "fuzzy_strong"}},
]


@settings(
    max_examples=int(os.environ.get("IDSPINE_PROPERTY_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    crm=st.lists(record, min_size=2, max_size=7),
    shop=st.lists(record, min_size=1, max_size=5),
    rules=st.lists(st.sampled_from(CANDIDATE_RULES), min_size=1, max_size=3, unique_by=str),
    email_limit=st.sampled_from([None, 1]),
    hub_size=st.sampled_from([3, 1000]),
    picks=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=4, max_size=4),
)
def test_explain_agrees_with_the_run(
    crm: list[dict[str, str]],
    shop: list[dict[str, str]],
    rules: list[dict[str, Any]],
    email_limit: int | None,
    hub_size: int,
    picks: list[tuple[int, int]],
) -> None:
    sources = {
        "crm": [{"id": f"c{i}", "updated": "2024-01-01", **r} for i, r in enumerate(crm)],
        "shop": [{"id": f"s{i}", "updated": "2024-02-01", **r} for i, r in enumerate(shop)],
    }
    identifiers = {
        "email": {"type": "email", "limit": email_limit, "max_group_size": hub_size},
        "phone": {"type": "phone", "default_region": "FR", "max_group_size": hub_size},
        "zip": {"type": "text", "max_group_size": hub_size},
        "first_name": {"type": "name"},
        "last_name": {"type": "name"},
    }
    keys = [("crm", r["id"]) for r in sources["crm"]] + [("shop", r["id"]) for r in sources["shop"]]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = idspine.load_config(
            project(tmp, sources, identifiers=identifiers, rules=rules), base_dir=tmp
        )
        with idspine.resolve(config) as result:
            recorded = {
                frozenset(
                    {(p["left_source"], p["left_key"]), (p["right_source"], p["right_key"])}
                ): (
                    p["rule"],
                    p["score"],
                )
                for p in result.arrow("identity_match_pairs").to_pylist()
            }
        pairs = [(keys[i % len(keys)], keys[j % len(keys)]) for i, j in picks]
        pairs += [tuple(sorted(p)) for p in list(recorded)[:3]]
        for first, second in pairs:
            if first == second:
                continue
            answer = explain_records(config, ":".join(first), ":".join(second))
            passing = [v for v in answer["rule_verdicts"] if v["passed"]]
            strongest = (passing[0]["rule"], passing[0]["score"]) if passing else None
            assert strongest == recorded.get(frozenset({first, second})), (first, second)
