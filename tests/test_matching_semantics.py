"""Name groups, missing positions and the contested-anchor guard, as run and as explained.

Each case is a reproduction from docs/matching.md; `explain` must tell what the run did.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ENGINES, project

import idspine
from idspine.commands.explain import explain_records

Runner = Callable[[dict[str, Any]], idspine.Result]

IDENTIFIERS = {
    "zip": {"type": "text"},
    "phone": {"type": "phone", "default_region": "FR"},
    "email": {"type": "email"},
    "first_name": {"type": "name"},
    "last_name": {"type": "name"},
}
NAMES = ["first_name", "last_name"]


def person(key: str, first: str, last: str, **values: str) -> dict[str, str]:
    return {"id": key, "first_name": first, "last_name": last, "updated": "2024-01-01", **values}


def profiles_of(result: idspine.Result) -> dict[str, str | None]:
    return {r["record_key"]: r["profile_id"] for r in result.arrow("identity_match").to_pylist()}


def name_rule(anchor: str, *, allow_missing: bool = False) -> dict[str, Any]:
    names: dict[str, Any] = {"identifiers": NAMES, "type": "fuzzy_strong"}
    if allow_missing:
        names["allow_missing"] = True
    return {"name": f"{anchor}_and_names", "match": {anchor: "exact", "names": names}}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_name_group_needs_every_position_on_both_records(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        # a lone last name is never compared with the other record's first name ...
        person("1", "", "Higueras", zip="75001"),
        person("2", "Higueras", "Anne", zip="75001"),
        # ... nor alone with a last name
        person("3", "", "Borges", zip="69002"),
        person("4", "Hortense", "Borges", zip="69002"),
        # complete names match straight or swapped
        person("5", "Paul", "Martin", zip="13001"),
        person("6", "Martin", "Paul", zip="13001"),
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[name_rule("zip")],
    )
    result = run_project(config)
    profiles = profiles_of(result)
    assert profiles["1"] != profiles["2"]
    assert profiles["3"] != profiles["4"]
    assert profiles["5"] == profiles["6"]
    loaded = idspine.load_config(config, base_dir=tmp_path)
    result.close()
    answer = explain_records(loaded, "crm:1", "crm:2")
    assert answer["rule_verdicts"][0]["passed"] is False
    assert "missing on a record" in answer["rules"]["zip_and_names"]
    assert "every position" in answer["rules"]["zip_and_names"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_partly_named_record_does_not_chain_two_people_on_a_shared_phone(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        person("1", "Jean", "Dupont", phone="0145454545"),
        person("2", "Marie", "Dupont", phone="0145454545"),
        person("3", "", "Dupont", phone="0145454545"),
        # elsewhere, a record missing a name still joins an uncontested anchor
        person("4", "Luc", "Bernard", phone="0611223344"),
        person("5", "", "", phone="0611223344"),
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[name_rule("phone", allow_missing=True)],
    )
    result = run_project(config)
    profiles = profiles_of(result)
    assert len({profiles["1"], profiles["2"], profiles["3"]}) == 3
    assert profiles["4"] == profiles["5"]
    loaded = idspine.load_config(config, base_dir=tmp_path)
    result.close()
    answer = explain_records(loaded, "crm:1", "crm:3")
    assert answer["rule_verdicts"][0]["criteria"][1]["state"] == "contested"
    assert "contested" in answer["rules"]["phone_and_names"]
    joined = explain_records(loaded, "crm:4", "crm:5")
    assert joined["same_profile"] is True


@pytest.mark.parametrize("engine", ENGINES)
def test_explain_follows_positions_and_the_contested_anchor(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        person("1", "John", "Smith", email="js@mail.com"),
        person("2", "John", "Zelenski", email="js@mail.com"),
        person("3", "Jean", "Isella", email="isella@mail.com"),
        person("4", "Paul", "Isella", email="isella@mail.com"),
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers=IDENTIFIERS,
        engine=engine,
        rules=[name_rule("email")],
    )
    result = run_project(config)
    assert result.arrow("identity_match_pairs").num_rows == 0
    loaded = idspine.load_config(config, base_dir=tmp_path)
    result.close()
    for first, second in (("crm:1", "crm:2"), ("crm:3", "crm:4")):
        answer = explain_records(loaded, first, second)
        assert answer["same_profile"] is False
        verdict = answer["rule_verdicts"][0]
        assert verdict["passed"] is False
        assert verdict["criteria"][1]["state"] == "failed"
        assert "< 0.92" in answer["rules"]["email_and_names"]


@pytest.mark.parametrize("engine", ENGINES)
def test_hub_values_are_published_only_for_linking_identifiers(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [person(str(i), "Daniel", f"N{i}", email="info@shop.com") for i in range(5)]
    identifiers = {
        **IDENTIFIERS,
        "email": {"type": "email", "max_group_size": 3},
        "first_name": {"type": "name", "max_group_size": 3},
    }
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers=identifiers,
        engine=engine,
        rules=[name_rule("email", allow_missing=True)],
    )
    result = run_project(config)
    hubs = result.arrow("identity_hub_values").to_pylist()
    # `daniel` is compared, never linked on: it is no hub, whatever its count.
    assert hubs == [{"identifier": "email", "value": "info@shop.com", "records": 5, "rule": None}]
    metrics = result.metrics()
    assert metrics[("identifier_hub_values", "email")] == 1
    assert metrics[("identifier_hub_values", "first_name")] == 0
    loaded = idspine.load_config(config, base_dir=tmp_path)
    result.close()
    answer = explain_records(loaded, "crm:0", "crm:1")
    assert answer["rule_verdicts"][0]["criteria"][0]["state"] == "hub"
    assert "hub value" in answer["rules"]["email_and_names"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_record_over_a_limit_on_its_own_is_flagged(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    crm = [
        {"id": "1", "email": "a@x.com", "email2": "b@x.com", "updated": "2024-01-01"},
        {"id": "2", "email": "a@x.com", "email2": "", "updated": "2024-01-02"},
    ]
    config = project(
        tmp_path,
        {"crm": crm},
        identifiers={"email": {"type": "email", "limit": 1}},
        maps={"crm": {"email": ["email", "email2"]}},
        engine=engine,
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
    )
    result = run_project(config)
    match = {r["record_key"]: r for r in result.arrow("identity_match").to_pylist()}
    assert (match["1"]["status"], match["1"]["over_limit"], match["1"]["refused_merge"]) == (
        "unique",
        True,
        True,
    )
    assert (match["2"]["over_limit"], match["2"]["refused_merge"]) == (False, True)
    assert result.metrics()[("records_over_limit", "")] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_bound_skips_large_anchor_groups_and_reports_them(
    tmp_path: Path, run_project: Runner, engine: str
) -> None:
    # A crowded postcode: three namesakes and a pair; a quiet one with a pair.
    crm = [
        *[person(str(i), "Jean", "Martin", zip="75011") for i in range(3)],
        person("3", "Anne", "Roy", zip="75011"),
        person("4", "Anne", "Roy", zip="75011"),
        person("5", "Paul", "Durand", zip="23000"),
        person("6", "Paul", "Durand", zip="23000"),
    ]
    rule = {**name_rule("zip"), "max_group_size": 4}
    config = project(tmp_path, {"crm": crm}, identifiers=IDENTIFIERS, engine=engine, rules=[rule])
    result = run_project(config)
    profiles = profiles_of(result)
    assert len({profiles[k] for k in "01234"}) == 5  # 75011 holds 5 records > 4: no pairs
    assert profiles["5"] == profiles["6"]
    hubs = result.arrow("identity_hub_values").to_pylist()
    assert hubs == [{"identifier": "zip", "value": "75011", "records": 5, "rule": "zip_and_names"}]
    metrics = result.metrics()
    assert metrics[("rule_bounded_values", "zip_and_names")] == 1
    assert metrics[("rule_bounded_records", "zip_and_names")] == 5
    assert metrics[("identifier_hub_values", "zip")] == 0
    loaded = idspine.load_config(config, base_dir=tmp_path)
    result.close()
    answer = explain_records(loaded, "crm:3", "crm:4")
    assert answer["rule_verdicts"][0]["criteria"][0]["state"] == "hub"
