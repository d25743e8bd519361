"""Configuration errors: each with its exact path and message, all reported at once."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import idspine
from idspine.commands.cli import app
from idspine.errors import ConfigError, Problem

UNKNOWN_KEY_HINT = "remove it or check its spelling (see `idspine schema`)"
ANCHOR_HINT = (
    "every rule needs at least one `exact` identifier; fuzzy criteria are only compared "
    "between records that share the anchor"
)
KNOWN = "known: email, last_name, phone"

VALID: dict[str, Any] = {
    "identifiers": {
        "email": {"type": "email"},
        "last_name": {"type": "name"},
        "phone": {"type": "phone", "default_region": "FR"},
    },
    "sources": {
        "crm": {
            "path": "crm.csv",
            "primary_key": "id",
            "order_by": "updated_at",
            "map": {"email": "email", "last_name": "last", "phone": "mobile"},
            "fields": {"zip": "zip"},
        },
        "shop": {
            "path": "shop.csv",
            "primary_key": "id",
            "order_by": "updated_at",
            "map": {"email": "email"},
        },
    },
    "rules": [
        {"name": "email_and_name", "match": {"email": "exact", "last_name": "fuzzy_strong"}},
    ],
}


def problems_of(change: Callable[[dict[str, Any]], object]) -> list[Problem]:
    config = copy.deepcopy(VALID)
    change(config)
    with pytest.raises(ConfigError) as caught:
        idspine.load_config(config, Path("/nonexistent"))
    return caught.value.problems


def add_rule(name: str, match: dict[str, Any]) -> Callable[[dict[str, Any]], object]:
    return lambda config: config["rules"].append({"name": name, "match": match})


def set_in(*keys: str | int, value: Any) -> Callable[[dict[str, Any]], object]:
    def change(config: dict[str, Any]) -> None:
        node: Any = config
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def drop(*keys: str | int) -> Callable[[dict[str, Any]], object]:
    def change(config: dict[str, Any]) -> None:
        node: Any = config
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


def test_the_base_config_is_valid() -> None:
    config = idspine.load_config(copy.deepcopy(VALID), Path("/nonexistent"))
    assert [rule.name for rule in config.rules] == ["email_and_name"]


CASES = [
    pytest.param(
        add_rule("names_only", {"last_name": "fuzzy_strong"}),
        Problem("rules[1].match", "rule 'names_only' has no exact criterion (anchor)", ANCHOR_HINT),
        id="missing-anchor",
    ),
    pytest.param(
        add_rule("typo", {"emial": "exact"}),
        Problem(
            "rules[1].match.emial", "unknown identifier 'emial'", f"did you mean 'email'? {KNOWN}"
        ),
        id="unknown-identifier-in-rule",
    ),
    pytest.param(
        add_rule(
            "group",
            {
                "email": "exact",
                "names": {"type": "fuzzy_strong", "identifiers": ["last_name", "lastname_2"]},
            },
        ),
        Problem(
            "rules[1].match.names",
            "unknown identifier 'lastname_2'",
            f"did you mean 'last_name'? {KNOWN}",
        ),
        id="unknown-identifier-in-group",
    ),
    pytest.param(
        set_in("sources", "crm", "map", "phnoe", value="mobile"),
        Problem("sources.crm.map.phnoe", "unknown identifier", f"did you mean 'phone'? {KNOWN}"),
        id="unknown-identifier-in-source-map",
    ),
    pytest.param(
        set_in("identifiers", "email", "colour", value="blue"),
        Problem("identifiers.email.colour", "unknown key", UNKNOWN_KEY_HINT),
        id="unknown-key-in-identifier",
    ),
    pytest.param(
        set_in("outptu", value={"database": "x.duckdb"}),
        Problem("outptu", "unknown key", UNKNOWN_KEY_HINT),
        id="unknown-top-level-key",
    ),
    pytest.param(
        set_in("rules", 0, "match", "last_name", value={"type": "fuzzy_strong", "treshold": 0.9}),
        Problem("rules[0].match.last_name.treshold", "unknown key", UNKNOWN_KEY_HINT),
        id="unknown-key-in-criterion",
    ),
    pytest.param(
        set_in("rules", 0, "match", "last_name", value="fuzzy"),
        Problem(
            "rules[0].match.last_name",
            "Input should be 'exact', 'fuzzy_strong' or 'fuzzy_medium'",
            "got 'fuzzy'",
        ),
        id="unknown-match-level",
    ),
    pytest.param(
        set_in("identifiers", "email", "type", value="mail"),
        Problem(
            "identifiers.email.type",
            "Input should be 'email', 'phone', 'name', 'id', 'text' or 'custom'",
            "got 'mail'",
        ),
        id="bad-identifier-type",
    ),
    pytest.param(
        drop("identifiers", "phone", "default_region"),
        Problem("identifiers.phone", "a phone identifier needs default_region", "e.g. FR, US, GB"),
        id="phone-without-region",
    ),
    pytest.param(
        set_in("identifiers", "phone", "default_region", value="ZZ"),
        Problem("identifiers.phone.default_region", "unknown region 'ZZ'"),
        id="unknown-region",
    ),
    pytest.param(
        set_in("golden", value={"zip": "source_priority"}),
        Problem("golden.zip", "source_priority needs `order: [source, ...]`"),
        id="source-priority-without-order",
    ),
    pytest.param(
        set_in("golden", value={"zip": {"strategy": "source_priority", "order": ["crm", "shpo"]}}),
        Problem(
            "golden.zip.order", "unknown source 'shpo'", "did you mean 'shop'? known: crm, shop"
        ),
        id="source-priority-unknown-source",
    ),
    pytest.param(
        set_in("golden", value={"zipcode": "last_non_null"}),
        Problem(
            "golden.zipcode",
            "not an identifier nor a source field",
            "did you mean 'zip'? known: email, last_name, phone, zip",
        ),
        id="golden-neither-identifier-nor-field",
    ),
    pytest.param(
        add_rule("email_and_name", {"email": "exact"}),
        Problem("rules[1].name", "rule name 'email_and_name' is used twice"),
        id="duplicate-rule-name",
    ),
    pytest.param(
        set_in("identifiers", "domain", value={"type": "custom", "expression": "(SELECT 1)"}),
        Problem(
            "identifiers.domain.expression",
            "only a plain expression is allowed (no query, statement or table)",
            "use `value` for the raw value",
        ),
        id="custom-scalar-subquery",
    ),
    pytest.param(
        set_in(
            "identifiers",
            "domain",
            value={"type": "custom", "expression": "value || (SELECT max(x) FROM t)"},
        ),
        Problem(
            "identifiers.domain.expression",
            "only a plain expression is allowed (no query, statement or table)",
            "use `value` for the raw value",
        ),
        id="custom-nested-subquery",
    ),
    pytest.param(
        set_in("identifiers", "domain", value={"type": "custom", "expression": "getenv('HOME')"}),
        Problem(
            "identifiers.domain.expression",
            "function 'getenv' is not allowed in an expression",
            "use `value` for the raw value",
        ),
        id="custom-getenv",
    ),
    pytest.param(
        set_in("identifiers", "domain", value={"type": "custom", "expression": "other || value"}),
        Problem(
            "identifiers.domain.expression",
            "unknown column 'other'",
            "use `value` for the raw value",
        ),
        id="custom-other-column",
    ),
    pytest.param(
        set_in("identifiers", "domain", value={"type": "custom"}),
        Problem(
            "identifiers.domain.expression",
            "a custom identifier needs an SQL expression over `value`",
        ),
        id="custom-without-expression",
    ),
    pytest.param(
        set_in("sources", "CRM_EU", value={**VALID["sources"]["shop"], "order_by": {"col": "x"}}),
        Problem("sources.CRM_EU.order_by.col", "unknown key", UNKNOWN_KEY_HINT),
        id="path-keeps-upper-case-user-keys",
    ),
]


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_config_error(change: Callable[[dict[str, Any]], object], expected: Problem) -> None:
    problems = problems_of(change)
    assert expected in problems
    # A typo in a key must not drown in noise about the other shapes a value may take.
    assert all(p.path.startswith(expected.path) for p in problems), problems


def test_missing_required_key_names_its_place() -> None:
    problems = problems_of(drop("sources", "shop", "primary_key"))
    assert problems == [Problem("sources.shop.primary_key", "Field required")]


def test_unknown_identifier_in_a_rule_is_not_also_a_missing_anchor() -> None:
    problems = problems_of(add_rule("typo", {"emial": "exact"}))
    assert [p.path for p in problems] == ["rules[1].match.emial"]


def test_region_is_case_insensitive() -> None:
    config = copy.deepcopy(VALID)
    config["identifiers"]["phone"]["default_region"] = "gb"
    assert idspine.load_config(config, Path("/nonexistent")).identifier("phone").default_region == (
        "GB"
    )


def test_several_problems_are_reported_at_once() -> None:
    def break_everything(config: dict[str, Any]) -> None:
        del config["identifiers"]["phone"]["default_region"]
        config["sources"]["crm"]["map"]["phnoe"] = "mobile"
        config["rules"].append({"name": "email_and_name", "match": {"last_name": "fuzzy_medium"}})
        config["golden"] = {"zipcode": "most_frequent"}

    config = copy.deepcopy(VALID)
    break_everything(config)
    with pytest.raises(ConfigError) as caught:
        idspine.load_config(config, Path("/nonexistent"))
    error = caught.value
    assert sorted(p.path for p in error.problems) == [
        "golden.zipcode",
        "identifiers.phone",
        "rules[1].match",
        "rules[1].name",
        "sources.crm.map.phnoe",
    ]
    text = str(error)
    assert text.startswith("5 problems in the configuration:\n")
    for problem in error.problems:
        assert f"  - {problem.path}: {problem.message}" in text


def test_several_shape_problems_are_reported_at_once() -> None:
    def break_shape(config: dict[str, Any]) -> None:
        config["identifiers"]["email"]["colour"] = "blue"
        config["identifiers"]["last_name"]["type"] = "surname"
        config["conflict_policy"] = "merge_anyway"

    problems = problems_of(break_shape)
    assert sorted(p.path for p in problems) == [
        "conflict_policy",
        "identifiers.email.colour",
        "identifiers.last_name.type",
    ]


def test_a_yaml_file_is_named_in_the_message(tmp_path: Path) -> None:
    config = copy.deepcopy(VALID)
    config["identifiers"]["phone"]["default_region"] = "ZZ"
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        idspine.load_config(path)
    assert str(caught.value).startswith(f"1 problem in the configuration in {path}:\n")
    assert caught.value.source == str(path)


def test_a_missing_or_broken_yaml_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        idspine.load_config(tmp_path / "absent.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("identifiers: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        idspine.load_config(broken)
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the file must hold a YAML mapping"):
        idspine.load_config(listed)


# --- the CLI ---------------------------------------------------------------------------------


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "idspine.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_cli_validate_bad_config_exits_2_and_prints_the_path(tmp_path: Path) -> None:
    config = copy.deepcopy(VALID)
    config["rules"].append({"name": "names_only", "match": {"last_name": "fuzzy_strong"}})
    path = write_config(tmp_path, config)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "rules[1].match: rule 'names_only' has no exact criterion (anchor)" in result.stderr
    assert str(path) in result.stderr
    assert result.stdout == ""


def test_cli_validate_reports_input_problems_with_exit_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, copy.deepcopy(VALID))  # crm.csv and shop.csv do not exist
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "sources.crm.path: file not found" in result.stderr
    assert "sources.shop.path: file not found" in result.stderr


def test_cli_validate_good_config_exits_0(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(
        "id,updated_at,email,last,mobile,zip\n1,2024-01-01,a@x.com,Doe,0612345678,75001\n",
        encoding="utf-8",
    )
    (tmp_path / "shop.csv").write_text(
        "id,updated_at,email\n1,2024-01-01,a@x.com\n2,2024-01-02,b@x.com\n", encoding="utf-8"
    )
    path = write_config(tmp_path, copy.deepcopy(VALID))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the console wraps long lines
    assert "is valid (2 sources, 3 identifiers, 1 rules) crm: 1 records shop: 2 records" in printed
    assert not (tmp_path / "idspine.duckdb").exists(), "validate writes nothing"
