"""The SQL fast path for phones agrees with the phonenumbers library wherever it answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idspine.config.load import load_config
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.sql.udfs import phone_e164
from idspine.stages.phones import plan_phone_parsing

REGIONS = ["FR", "US", "GB", "DE", "IT", "BR"]


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(":memory:")
    yield engine
    engine.close()


def parse_all(engine: DuckDBEngine, region: str, raws: list[str]) -> dict[str, str | None]:
    config = load_config(
        {
            "identifiers": {"phone": {"type": "phone", "default_region": region}},
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
        "INSERT INTO lookup_raw VALUES ('phone', ?, ?)", [[r, region] for r in sorted(set(raws))]
    )
    engine.run_all(plan_phone_parsing(config.identifier("phone")))
    return dict(engine.connection.execute("SELECT raw_value, value FROM phone_phone").fetchall())


digits = st.text(alphabet="0123456789", min_size=4, max_size=14)
shapes = st.one_of(
    digits,
    digits.map(lambda d: "+" + d),
    digits.map(lambda d: "00" + d),
    digits.map(lambda d: "011" + d),
    digits.map(lambda d: "0" + d),
    st.sampled_from(["33", "1", "44", "49", "39", "55"]).flatmap(
        lambda cc: digits.map(lambda d: f"+{cc} (0){d}")
    ),
    st.sampled_from(["33", "1", "44", "49", "39", "55"]).flatmap(
        lambda cc: digits.map(lambda d: f"{cc}{d}")
    ),
    digits.map(lambda d: " ".join(d[i : i + 2] for i in range(0, len(d), 2))),
)


@settings(max_examples=40, deadline=None)
@given(region=st.sampled_from(REGIONS), raws=st.lists(shapes, min_size=1, max_size=60))
def test_fast_path_matches_the_library(engine: DuckDBEngine, region: str, raws: list[str]) -> None:
    parsed = parse_all(engine, region, raws)
    for raw in set(raws):
        assert parsed[raw] == phone_e164(raw.replace(" ", ""), region), raw


@pytest.mark.parametrize(
    ("region", "raw", "expected"),
    [
        ("FR", "06 12 34 56 78", "+33612345678"),
        ("FR", "+33 (0)6 12 34 56 78", "+33612345678"),
        ("FR", "0033 6 12 34 56 78", "+33612345678"),
        ("FR", "33612345678", "+33612345678"),
        ("FR", "+44 20 7946 0958", "+442079460958"),
        ("US", "(415) 555-2671", "+14155552671"),
        ("US", "011 33 6 12 34 56 78", "+33612345678"),
        ("IT", "06 6982 1234", "+390669821234"),  # Italian numbers keep their leading 0
        ("FR", "12", None),
        # foreign numbers without their country code: impossible for FR, refused in SQL
        ("FR", "07856 632975", None),
        ("FR", "311 449 3610", None),
        # shapes the library reads in ways plain prefixes cannot tell
        ("FR", "3300483954639", "+33483954639"),  # country code, then two trunk zeros
        ("US", "11158354077", None),  # "1" as country code and as national prefix
        ("US", "+67212754", "+672312754"),  # Norfolk Island rewrites its numbers
        ("GB", "0086129263317897", "+863317897"),  # China strips carrier prefixes
    ],
)
def test_known_numbers(engine: DuckDBEngine, region: str, raw: str, expected: str | None) -> None:
    assert parse_all(engine, region, [raw])[raw] == expected
