"""Phones of several countries: the region per source, per record (a country column) and the
fallback regions; the SQL fast path still agrees with the phonenumbers library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp
from tests.conftest import ENGINES, project
from tests.test_phones import shapes

import idspine
from idspine.config.load import load_config
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.errors import ConfigError
from idspine.sql.build import values_table
from idspine.sql.udfs import phone_e164
from idspine.stages.phone_regions import country_join_condition, country_relation
from idspine.stages.phones import plan_phone_parsing

REGIONS = ["FR", "US", "GB", "DE", "IT", "BR", "BE", "CH", "ES"]


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(":memory:")
    yield engine
    engine.close()


def parse_with_regions(
    engine: DuckDBEngine, rows: list[tuple[str, str]], fallbacks: list[str]
) -> dict[tuple[str, str], tuple[str | None, str]]:
    """(raw, record region) -> (value, region read in), by the steps a run plans."""
    config = load_config(
        {
            "identifiers": {
                "phone": {"type": "phone", "default_region": "FR", "fallback_regions": fallbacks}
            },
            "sources": {
                "s": {"path": "x.csv", "primary_key": "id", "order_by": "t", "map": {"phone": "p"}}
            },
            "rules": [{"name": "r", "match": {"phone": "exact"}}],
        }
    )
    engine.connection.execute(
        "CREATE OR REPLACE TEMP TABLE lookup_raw "
        "(identifier VARCHAR, raw_value VARCHAR, region VARCHAR)"
    )
    engine.connection.executemany(
        "INSERT INTO lookup_raw VALUES ('phone', ?, ?)", [list(r) for r in sorted(set(rows))]
    )
    engine.run_all(plan_phone_parsing(config.identifier("phone")))
    found = engine.connection.execute(
        "SELECT raw_value, region, value, read_region FROM phone_phone"
    ).fetchall()
    return {(raw, region): (value, read) for raw, region, value, read in found}


def oracle(raw: str, regions: list[str]) -> tuple[str | None, str]:
    """The library, region after region: the first that reads a possible number."""
    for region in regions:
        value = phone_e164(raw.replace(" ", ""), region)
        if value is not None:
            return value, region
    return None, regions[0]


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.tuples(shapes, st.sampled_from(REGIONS)), min_size=1, max_size=50),
    fallbacks=st.lists(st.sampled_from(REGIONS), max_size=3, unique=True),
)
def test_regions_and_fallbacks_match_the_library(
    engine: DuckDBEngine, rows: list[tuple[str, str]], fallbacks: list[str]
) -> None:
    parsed = parse_with_regions(engine, rows, fallbacks)
    for raw, region in set(rows):
        assert parsed[(raw, region)] == oracle(raw, [region, *fallbacks]), (raw, region)


# (raw, record region, fallback regions) -> (value, region read in)
FALLBACK_TABLE = [
    # a US national number in a mostly French file: impossible in FR, read in US
    ("(415) 555-2671", "FR", ["US", "GB"], ("+14155552671", "US")),
    ("415 555 2671", "FR", [], (None, "FR")),
    # a British national number: impossible in FR and in US, read in GB
    ("07911 123456", "FR", ["US", "GB"], ("+447911123456", "GB")),
    # possible in the record's region: fallbacks never change it
    ("06 12 34 56 78", "FR", ["US", "GB"], ("+33612345678", "FR")),
    # international numbers need no region
    ("+49 30 901820", "FR", ["US"], ("+4930901820", "FR")),
    # impossible everywhere: absent, shown with the record's region
    ("123", "FR", ["US", "GB"], (None, "FR")),
    ("999", "US", ["GB", "FR"], (None, "US")),
    # the library deems short local numbers possible in GB: the fallback takes them
    ("12345", "FR", ["US", "GB"], ("+4412345", "GB")),
]


@pytest.mark.parametrize(
    ("raw", "region", "fallbacks", "expected"),
    FALLBACK_TABLE,
    ids=[f"{r}-{g}-{'+'.join(f)}" for r, g, f, _ in FALLBACK_TABLE],
)
def test_fallback_regions(
    engine: DuckDBEngine,
    raw: str,
    region: str,
    fallbacks: list[str],
    expected: tuple[str | None, str],
) -> None:
    assert parse_with_regions(engine, [(raw, region)], fallbacks)[(raw, region)] == expected


# a country field as exports write it -> the region (None: unknown, the default applies)
COUNTRY_TABLE = [
    ("FR", "FR"),
    ("fr", "FR"),
    (" us ", "US"),
    ("France", "FR"),
    ("FRANCE", "FR"),
    ("USA", "US"),
    ("U.S.A.", "US"),
    ("United States", "US"),
    ("États-Unis", "US"),
    ("Etats-Unis", "US"),
    ("UK", "GB"),
    ("United Kingdom", "GB"),
    ("Royaume-Uni", "GB"),
    ("Deutschland", "DE"),
    ("Germany", "DE"),
    ("Allemagne", "DE"),
    ("España", "ES"),
    ("Espana", "ES"),
    ("Belgique", "BE"),
    ("Schweiz", "CH"),
    ("Italia", "IT"),
    ("Brasil", "BR"),
    ("Narnia", None),
    ("", None),
]


def test_country_names(engine: DuckDBEngine) -> None:
    texts = values_table(["text"], [(t,) for t, _ in COUNTRY_TABLE], "t")
    query = (
        exp.select("t.text", "c.region")
        .from_(texts)
        .join(
            country_relation(),
            on=country_join_condition(exp.column("text", "t")),
            join_type="left",
        )
    )
    found = {row["text"]: row["region"] for row in engine.fetch_arrow(query).to_pylist()}
    assert found == dict(COUNTRY_TABLE)


def _config(tmp_path: Path, engine: str) -> dict[str, Any]:
    crm = [  # mostly French, one American
        {"id": "c1", "updated": "2024-01-01", "phone": "06 12 34 56 78"},
        {"id": "c2", "updated": "2024-01-01", "phone": "(415) 555-2671"},
        {"id": "c3", "updated": "2024-01-01", "phone": "123"},
    ]
    uk_shop = [  # a British shop: its own default region
        {"id": "u1", "updated": "2024-01-01", "phone": "020 7946 0958"},
        {"id": "u2", "updated": "2024-01-01", "phone": "+33 6 12 34 56 78"},
    ]
    app = [  # a country per record, in codes or names
        {"id": "a1", "updated": "2024-01-01", "phone": "415-555-2671", "country": "USA"},
        {
            "id": "a2",
            "updated": "2024-01-01",
            "phone": "020 7946 0958",
            "country": "United Kingdom",
        },
        {"id": "a3", "updated": "2024-01-01", "phone": "030 901820", "country": "de"},
        {"id": "a4", "updated": "2024-01-01", "phone": "0612345678", "country": "Narnia"},
        {"id": "a5", "updated": "2024-01-01", "phone": "0612345678", "country": ""},
    ]
    config = project(
        tmp_path,
        {"crm": crm, "uk_shop": uk_shop, "app": app},
        identifiers={
            "phone": {"type": "phone", "default_region": "FR", "fallback_regions": ["US", "GB"]}
        },
        rules=[{"name": "same_phone", "match": {"phone": "exact"}}],
        engine=engine,
        maps={"app": {"phone": "phone"}},
    )
    config["sources"]["uk_shop"]["phones"] = {"default_region": "GB"}
    config["sources"]["app"]["phones"] = {"region": "country"}
    return config


@pytest.mark.parametrize("engine", ENGINES)
def test_phones_from_several_countries(
    tmp_path: Path, run_project: Callable[[dict[str, Any]], idspine.Result], engine: str
) -> None:
    result = run_project(_config(tmp_path, engine))
    lookup = {
        r["record_key"]: (r["value"], r["region"])
        for r in result.arrow("identity_lookup").to_pylist()
    }
    assert lookup == {
        "c1": ("+33612345678", "FR"),
        "c2": ("+14155552671", "US"),  # by the fallback
        "c3": (None, "FR"),  # impossible in every region
        "u1": ("+442079460958", "GB"),
        "u2": ("+33612345678", "GB"),
        "a1": ("+14155552671", "US"),
        "a2": ("+442079460958", "GB"),
        "a3": ("+4930901820", "DE"),
        "a4": ("+33612345678", "FR"),  # an unknown country: the default region
        "a5": ("+33612345678", "FR"),
    }
    profiles = {
        r["record_key"]: r["profile_id"] for r in result.arrow("identity_match").to_pylist()
    }
    assert profiles["c1"] == profiles["u2"] == profiles["a4"]
    assert profiles["c2"] == profiles["a1"]
    assert profiles["u1"] == profiles["a2"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda c: c["sources"]["uk_shop"]["phones"].update(default_region="XX"),
            "sources.uk_shop.phones.default_region",
        ),
        (
            lambda c: c["identifiers"]["phone"].update(fallback_regions=["US", "ZZ"]),
            "identifiers.phone.fallback_regions[1]",
        ),
    ],
)
def test_unknown_regions_are_config_errors(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], path: str
) -> None:
    config = _config(tmp_path, "duckdb")
    change(config)
    with pytest.raises(ConfigError) as caught:
        idspine.load_config(config, base_dir=tmp_path)
    assert [p.path for p in caught.value.problems] == [path]
