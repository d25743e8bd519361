"""Full names parsed into first and last name: the parser's table of cases, the config shape,
and a source with one full-name column matched against one with two columns, on every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import ENGINES, project

import idspine
from idspine.config.model import ProjectSpec
from idspine.errors import ConfigError
from idspine.sql.names import (
    _special_words,
    name_part_many,
    parse_full_name,
    parse_with_library,
)

# full name -> (first name, last name) as the parser gives them (before standardization)
PARSER_TABLE: list[tuple[str, tuple[str | None, str | None]]] = [
    ("Jean Dupont", ("Jean", "Dupont")),
    # titles in French, German, Spanish and English are dropped
    ("Mme Marie-Claire Lefèvre", ("Marie-Claire", "Lefèvre")),
    ("M. Jean Dupont", ("Jean", "Dupont")),
    ("Mlle. Ève Lévêque", ("Ève", "Lévêque")),
    ("Monsieur Paul Martin", ("Paul", "Martin")),
    ("Herr Dr. Hans Müller", ("Hans", "Müller")),
    ("Frau Anna Schmidt", ("Anna", "Schmidt")),
    ("Sra. Ana Ruiz", ("Ana", "Ruiz")),
    ("Sr Juan Pérez", ("Juan", "Pérez")),
    ("Mr. John Smith", ("John", "Smith")),
    ("Dr Jane Doe", ("Jane", "Doe")),
    # suffixes are dropped
    ("John Smith Jr.", ("John", "Smith")),
    ("Henry Ford III", ("Henry", "Ford")),
    ("Bill Gates Sr", ("Bill", "Gates")),
    # LAST, First; and the capitals-first export convention
    ("DUPONT, Jean", ("Jean", "DUPONT")),
    ("García López, María", ("María", "García López")),
    ("DUPONT Jean-Pierre", ("Jean-Pierre", "DUPONT")),
    ("MME DUPONT Marie", ("Marie", "DUPONT")),
    # middle names are not part of the first name; initials stay
    ("Jean Pierre Dupont", ("Jean", "Dupont")),
    ("J. R. R. Tolkien", ("J.", "Tolkien")),
    ("Dr. J. Smith", ("J.", "Smith")),
    # particles stay with the last name
    ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
    ("Wernher von Braun", ("Wernher", "von Braun")),
    ("Leonardo da Vinci", ("Leonardo", "da Vinci")),
    ("Sophie Le Gall", ("Sophie", "Le Gall")),
    ("Giuseppe di Stefano", ("Giuseppe", "di Stefano")),
    ("Dolores del Río", ("Dolores", "del Río")),
    ("Pierre du Pont", ("Pierre", "du Pont")),
    ("Marie de la Fontaine", ("Marie", "de la Fontaine")),
    ("Van Der Berg, Jan", ("Jan", "Van Der Berg")),
    # one token: a first name, unless a title says it is a surname
    ("Madonna", ("Madonna", None)),
    ("Mr Smith", (None, "Smith")),
    ("Mme", (None, None)),
    # all capitals, accents, extra spaces, empty
    ("JEAN DUPONT", ("JEAN", "DUPONT")),
    ("ÉLODIE DURAND", ("ÉLODIE", "DURAND")),
    ("  jean   dupont ", ("jean", "dupont")),
    ("", (None, None)),
    ("   ", (None, None)),
]


@pytest.mark.parametrize(("full", "expected"), PARSER_TABLE, ids=[r for r, _ in PARSER_TABLE])
def test_parser(full: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_full_name(full) == expected


# Words of names, and words the library treats specially (titles, particles, suffixes…).
WORD = st.one_of(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzéèëçñøüABCDEFGHIJKLMNOPQRSTUVWXYZÉÇ",
        min_size=1,
        max_size=9,
    ),
    st.sampled_from(sorted(_special_words())).map(lambda w: w.capitalize()),
    st.sampled_from(sorted(_special_words())),
)


@settings(max_examples=3000, deadline=None)
@given(first=WORD, second=WORD, spaces=st.sampled_from([" ", "  ", " \t"]))
def test_plain_pairs_read_as_the_library_reads_them(first: str, second: str, spaces: str) -> None:
    # The fast path for two plain words must give exactly the library's answer.
    value = f"{first}{spaces}{second}"
    assert parse_full_name(value) == parse_with_library(value), value


def test_batch_form_reads_missing_values_as_absent() -> None:
    assert name_part_many(["Jean Dupont", None, float("nan")], ["first", "last", "first"]) == [
        "Jean",
        None,
        None,
    ]


IDENTIFIERS = {
    "email": {"type": "email"},
    "first_name": {"type": "name"},
    "last_name": {"type": "name"},
    "phone": {"type": "phone", "default_region": "FR"},
}
RULES = [
    {
        "name": "email_and_names",
        "match": {
            "email": "exact",
            "names": {"type": "fuzzy_strong", "identifiers": ["first_name", "last_name"]},
        },
    }
]


def _config(tmp_path: Path, engine: str) -> dict[str, Any]:
    crm = [
        {
            "id": "c1",
            "updated": "2024-01-01",
            "email": "a@x.com",
            "first": "Jean",
            "last": "Dupont",
        },
        {
            "id": "c2",
            "updated": "2024-01-01",
            "email": "b@x.com",
            "first": "Hans",
            "last": "Müller",
        },
        {"id": "c3", "updated": "2024-01-01", "email": "c@x.com", "first": "Anna", "last": "Berg"},
    ]
    shop = [
        {"id": "s1", "updated": "2024-01-02", "email": "a@x.com", "full_name": "M. DUPONT Jean"},
        {
            "id": "s2",
            "updated": "2024-01-02",
            "email": "b@x.com",
            "full_name": "Herr Dr. Hans Müller",
        },
        # another person on a shared address: the parsed names disagree
        {"id": "s3", "updated": "2024-01-02", "email": "c@x.com", "full_name": "Sra. Ana Ruiz"},
        {"id": "s4", "updated": "2024-01-02", "email": "d@x.com", "full_name": ""},
    ]
    config = project(
        tmp_path,
        {"crm": crm, "shop": shop},
        identifiers=IDENTIFIERS,
        rules=RULES,
        engine=engine,
        maps={
            "crm": {"email": "email", "first_name": "first", "last_name": "last"},
            "shop": {"email": "email"},
        },
    )
    config["sources"]["shop"]["names"] = {
        "column": "full_name",
        "first": "first_name",
        "last": "last_name",
    }
    return config


@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_name_column_matches_first_and_last_columns(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result], engine: str
) -> None:
    result = run_project(_config(tmp_path, engine))
    profiles = {
        r["record_key"]: r["profile_id"] for r in result.arrow("identity_match").to_pylist()
    }
    assert profiles["c1"] == profiles["s1"]
    assert profiles["c2"] == profiles["s2"]
    assert profiles["c3"] != profiles["s3"]
    lookup = {
        (r["record_key"], r["identifier"]): (r["raw_value"], r["value"], r["region"])
        for r in result.arrow("identity_lookup").to_pylist()
    }
    # the parsed parts keep the full name as their raw value: where the value came from
    assert lookup[("s1", "first_name")] == ("M. DUPONT Jean", "jean", None)
    assert lookup[("s1", "last_name")] == ("M. DUPONT Jean", "dupont", None)
    assert lookup[("s2", "last_name")] == ("Herr Dr. Hans Müller", "muller", None)
    assert lookup[("c1", "first_name")] == ("Jean", "jean", None)
    assert ("s4", "first_name") not in lookup  # nothing to parse: no value
    golden = {r["representative_key"]: r for r in result.arrow("identity_golden").to_pylist()}
    assert golden["s1"]["first_name"] == "Jean"  # shown as the part was written


def test_a_full_name_may_be_an_sql_expression(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result]
) -> None:
    config = _config(tmp_path, "duckdb")
    config["sources"]["shop"]["names"]["column"] = "upper(full_name)"
    result = run_project(config)
    raw = {
        (r["record_key"], r["identifier"]): r["raw_value"]
        for r in result.arrow("identity_lookup").to_pylist()
    }
    assert raw[("s1", "first_name")] == "M. DUPONT JEAN"


@pytest.mark.parametrize(
    ("names", "path", "message"),
    [
        ({"column": "full_name"}, "sources.shop.names", "at least one of first and last"),
        (
            {"column": "full_name", "first": "first_nme"},
            "sources.shop.names.first",
            "unknown identifier 'first_nme'",
        ),
        (
            {"column": "full_name", "last": "email"},
            "sources.shop.names.last",
            "of type email",
        ),
        (
            {"column": "full_name", "first": "first_name", "last": "first_name"},
            "sources.shop.names",
            "two identifiers",
        ),
        ({"column": "full_name", "middle": "x"}, "sources.shop.names.middle", ""),
    ],
)
def test_config_errors_name_their_path(
    tmp_path: Path, names: dict[str, Any], path: str, message: str
) -> None:
    config = _config(tmp_path, "duckdb")
    config["sources"]["shop"]["names"] = names
    with pytest.raises(ConfigError) as caught:
        idspine.load_config(config, base_dir=tmp_path)
    assert any(p.path == path and message in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_a_missing_full_name_column_is_reported(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result]
) -> None:
    config = _config(tmp_path, "duckdb")
    config["sources"]["shop"]["names"]["column"] = "fullname"
    with pytest.raises(idspine.InputError) as caught:
        run_project(config)
    assert any(p.path == "sources.shop.names.column" for p in caught.value.problems)


def test_the_json_schema_holds_the_new_options() -> None:
    definitions = ProjectSpec.model_json_schema(by_alias=True)["$defs"]
    assert {"names", "phones"} <= set(definitions["SourceSpec"]["properties"])
    assert {"fallback_regions", "compound", "nicknames"} <= set(
        definitions["IdentifierSpec"]["properties"]
    )
    assert set(definitions["FullNameSpec"]["properties"]) == {"column", "first", "last"}
    assert set(definitions["NicknamesSpec"]["properties"]) == {"builtin", "add", "remove"}


def test_a_value_both_mapped_and_parsed_counts_once(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result]
) -> None:
    config = _config(tmp_path, "duckdb")
    config["sources"]["crm"]["names"] = {
        "column": "first || ' ' || last",
        "first": "first_name",
        "last": "last_name",
    }
    result = run_project(config)
    counts = {
        (r["identifier"], r["value"]): r["record_count"]
        for r in result.arrow("identity_matched_ids").to_pylist()
    }
    assert counts[("first_name", "jean")] == 2  # c1 (mapped and parsed) and s1
