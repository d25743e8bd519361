"""Nicknames and compound names, as the matching stage compares them, on every engine.

One project holds every case: a case is two records sharing an anchor of their own variant
(`anchor_<variant>`), so a rule only ever pairs the records of one variant. Each row of the
table says whether the two records end in one profile.
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

# variant -> the name identifiers it compares (its rule is anchor exact + those, fuzzy_strong)
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {"first_plain": {"type": "name"}},
    "builtin": {"first_builtin": {"type": "name", "nicknames": True}},
    "custom": {
        "first_custom": {
            "type": "name",
            "nicknames": {
                "add": [["Zed", "ZEDEKIAH"], ["kiki", "christine"]],
                "remove": [["william", "bill"]],
            },
        }
    },
    "legacy": {"first_legacy": {"type": "name", "nicknames": {"Bob": "Roberto"}}},
    "only_added": {
        "first_only": {"type": "name", "nicknames": {"builtin": False, "add": [["bo", "bob"]]}}
    },
    "compound": {"last_compound": {"type": "name", "compound": True}},
    "not_compound": {"last_simple": {"type": "name"}},
    "group": {
        "first_group": {"type": "name", "nicknames": True},
        "last_group": {"type": "name"},
    },
}

# (variant, left values, right values, one profile?)
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], bool]] = [
    ("plain", ("Bill",), ("William",), False),
    ("plain", ("Jean",), ("Jean",), True),
    # the dataset, in both directions, many-to-many, cleaned like values
    ("builtin", ("Bill",), ("William",), True),
    ("builtin", ("william",), ("BILL",), True),
    ("builtin", ("Alex",), ("Alexandra",), True),
    ("builtin", ("Alex",), ("Alexander",), True),
    ("builtin", ("Bób",), ("Robert",), True),
    ("builtin", ("Fred",), ("Frédéric",), True),  # a French pair idspine adds
    ("builtin", ("Bill",), ("Robert",), True),  # the dataset knows this one too
    ("builtin", ("Bill",), ("Thomas",), False),
    ("builtin", ("Peggy",), ("Robert",), False),
    ("builtin", ("Mike",), ("Michael",), True),
    # added pairs join the dataset; a removed pair goes, whichever way it is written
    ("custom", ("zed",), ("Zedekiah",), True),
    ("custom", ("Christine",), ("Kiki",), True),
    ("custom", ("Bill",), ("William",), False),
    ("custom", ("Bob",), ("Robert",), True),
    # the older form {alias: full name} replaces the dataset
    ("legacy", ("Bob",), ("Roberto",), True),
    ("legacy", ("Bob",), ("Robert",), False),
    ("only_added", ("Bo",), ("Bob",), True),
    ("only_added", ("Bill",), ("William",), False),
    # compound last names: one value's words all within the other's
    ("compound", ("García López",), ("Garcia",), True),
    ("compound", ("Lopez",), ("Garcia-Lopez",), False),  # one word once cleaned: no split
    ("compound", ("Lopez",), ("Garcia Lopez",), True),
    ("compound", ("Perez Garcia",), ("Lopez Martin",), False),
    ("not_compound", ("Lopez",), ("Garcia Lopez",), False),
    # inside a name group, straight and swapped
    ("group", ("Bob", "Smith"), ("Robert", "Smith"), True),
    ("group", ("Smith", "Bob"), ("Robert", "Smith"), True),
    ("group", ("Bob", "Smith"), ("Robert", "Jones"), False),
]


def _config(tmp_path: Path, engine: str) -> dict[str, Any]:
    identifiers: dict[str, Any] = {}
    rules = []
    for variant, names in VARIANTS.items():
        identifiers[f"anchor_{variant}"] = {"type": "id"}
        identifiers.update(names)
        members = list(names)
        criterion: dict[str, Any] = (
            {"type": "fuzzy_strong"}
            if len(members) == 1
            else {"type": "fuzzy_strong", "identifiers": members}
        )
        rules.append(
            {
                "name": f"rule_{variant}",
                "match": {f"anchor_{variant}": "exact", members[0]: criterion},
            }
        )
    records = []
    for index, (variant, left, right, _) in enumerate(CASES):
        for side, values in (("a", left), ("b", right)):
            record = {"id": f"{index}{side}", "updated": "2024-01-01"}
            record[f"anchor_{variant}"] = f"case{index}"
            record.update(dict(zip(VARIANTS[variant], values, strict=True)))
            records.append(record)
    return project(tmp_path, {"crm": records}, identifiers=identifiers, rules=rules, engine=engine)


@pytest.fixture(scope="module", params=ENGINES)
def outcome(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp(f"names_{request.param}")
    config = _config(folder, request.param)
    with idspine.resolve(idspine.load_config(config, base_dir=folder)) as result:
        rows = result.arrow("identity_match").to_pylist()
        lookup = result.arrow("identity_lookup").to_pylist()
    assert {r["value"] for r in lookup if r["raw_value"] == "Bill"} == {"bill"}, (
        "a nickname is never rewritten"
    )
    return config, folder, {r["record_key"]: r["profile_id"] for r in rows}


@pytest.mark.parametrize(
    ("index", "variant", "left", "right", "merged"),
    [(i, *case) for i, case in enumerate(CASES)],
    ids=[f"{v}-{'/'.join(a)}-{'/'.join(b)}" for v, a, b, _ in CASES],
)
def test_name_pairs(
    outcome: tuple[dict[str, Any], Path, dict[str, str | None]],
    index: int,
    variant: str,
    left: tuple[str, ...],
    right: tuple[str, ...],
    merged: bool,
) -> None:
    profiles = outcome[2]
    assert (profiles[f"{index}a"] == profiles[f"{index}b"]) is merged


def test_explain_knows_the_nickname_pairs(
    outcome: tuple[dict[str, Any], Path, dict[str, str | None]],
) -> None:
    config, folder, _ = outcome
    index = CASES.index(("builtin", ("Bill",), ("William",), True))
    answer = explain_records(
        idspine.load_config(config, base_dir=folder), f"crm:{index}a", f"crm:{index}b"
    )
    verdict = next(v for v in answer["rule_verdicts"] if v["rule"] == "rule_builtin")
    assert verdict["passed"] is True
    assert verdict["score"] == 1.0
