"""Input checks before any work (spec §2.1, §10), and the lookup keeping every raw value."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idspine
from idspine.errors import InputError, Problem

COLUMNS_HINT = "columns are: Contact_ID, updated_at, email, alt_email, first, last"
CONTACTS = (
    "Contact_ID,updated_at,email,alt_email,first,last\n"
    "1,2024-01-01,ann@x.com,,Ann,Lee\n"
    "2,2024-01-02,bob@x.com,bob@y.com,Bob,Ray\n"
)
OTHER = "id,updated_at,email,secret\n1,2024-01-01,ann@x.com,hidden\n"


def config_for(folder: Path, **source: Any) -> dict[str, Any]:
    spec = {
        "path": "contacts.csv",
        "primary_key": "Contact_ID",
        "order_by": "updated_at",
        "map": {"email": ["email", "alt_email"], "first_name": "first"},
        **source,
    }
    return {
        "output": {"database": str(folder / "out.duckdb")},
        "identifiers": {"email": {"type": "email"}, "first_name": {"type": "name"}},
        "sources": {"contacts": spec},
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    (tmp_path / "other.csv").write_text(OTHER, encoding="utf-8")
    return tmp_path


def input_problems(folder: Path, config: dict[str, Any]) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        idspine.resolve(idspine.load_config(config, folder))
    assert_nothing_published(folder / "out.duckdb")
    return caught.value.problems


def assert_nothing_published(database: Path) -> None:
    """A failed validation leaves no output: no file, or a file without identity tables."""
    if not database.exists():
        return
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'identity'"
        ).fetchall()
    assert tables == []


def test_a_valid_source_runs(folder: Path) -> None:
    with idspine.resolve(idspine.load_config(config_for(folder), folder)) as result:
        assert result.arrow("match").num_rows == 2


def test_missing_primary_key_column_hints_at_its_case(folder: Path) -> None:
    problems = input_problems(folder, config_for(folder, primary_key="contact_id"))
    assert problems == [
        Problem(
            "sources.contacts.primary_key",
            "column 'contact_id' does not exist",
            "the input has 'Contact_ID' (names are case-sensitive)",
        )
    ]


def test_missing_order_column(folder: Path) -> None:
    problems = input_problems(folder, config_for(folder, order_by="modified"))
    assert problems == [
        Problem("sources.contacts.order_by", "column 'modified' does not exist", COLUMNS_HINT)
    ]


def test_missing_mapped_columns_are_all_reported(folder: Path) -> None:
    config = config_for(folder, map={"email": ["email", "mail_2"], "first_name": "First"})
    problems = input_problems(folder, config)
    assert problems == [
        Problem("sources.contacts.map.email[1]", "column 'mail_2' does not exist", COLUMNS_HINT),
        Problem(
            "sources.contacts.map.first_name",
            "column 'First' does not exist",
            "the input has 'first' (names are case-sensitive)",
        ),
    ]


def test_an_expression_mapping_over_own_columns_is_used(folder: Path) -> None:
    config = config_for(folder, map={"email": "email", "first_name": "first || ' ' || last"})
    with idspine.resolve(idspine.load_config(config, folder)) as result:
        names = {
            r["raw_value"]
            for r in result.arrow("lookup").to_pylist()
            if r["identifier"] == "first_name"
        }
    assert names == {"Ann Lee", "Bob Ray"}


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("other.secret", "column 'other.secret' must not name a table"),
        ("contacts.first", "column 'contacts.first' must not name a table"),
        ("upper(secret)", "unknown column 'secret'"),
        (
            "(SELECT max(secret) FROM read_csv('other.csv'))",
            "only a plain expression is allowed (no query, statement or table)",
        ),
        (
            "first || (SELECT 'x')",
            "only a plain expression is allowed (no query, statement or table)",
        ),
        ("read_csv('other.csv')", "function 'read_csv' is not allowed in an expression"),
        ("read_parquet('x.parquet')", "function 'read_parquet' is not allowed in an expression"),
        ("getenv('HOME')", "function 'getenv' is not allowed in an expression"),
        ("first || getenv('HOME')", "function 'getenv' is not allowed in an expression"),
        (
            "current_setting('home_directory')",
            "function 'current_setting' is not allowed in an expression",
        ),
    ],
)
def test_expression_mappings_reaching_outside_the_row_are_refused(
    folder: Path, expression: str, reason: str
) -> None:
    config = config_for(folder, map={"email": "email", "first_name": expression})
    problems = input_problems(folder, config)
    assert problems == [
        Problem(
            "sources.contacts.map.first_name",
            f"bad SQL expression {expression!r}: {reason}",
            COLUMNS_HINT,
        )
    ]


def test_null_keys_are_counted(folder: Path) -> None:
    (folder / "nulls.csv").write_text(
        "Contact_ID,updated_at,email\n1,2024-01-01,a@x.com\n,2024-01-01,b@x.com\n"
        ",2024-01-02,c@x.com\n4,2024-01-02,d@x.com\n",
        encoding="utf-8",
    )
    config = config_for(folder, path="nulls.csv", map={"email": "email"})
    problems = input_problems(folder, config)
    assert problems == [
        Problem(
            "sources.contacts.primary_key",
            "2 of 4 rows have a null key in column 'Contact_ID'",
            "every record needs a key; fix or filter the source",
        )
    ]


def test_duplicate_keys_are_counted_with_examples(folder: Path) -> None:
    (folder / "dups.csv").write_text(
        "Contact_ID,updated_at,email\n"
        "1,2024-01-01,a@x.com\n1,2024-01-01,b@x.com\n"
        "2,2024-01-01,c@x.com\n2,2024-01-01,d@x.com\n2,2024-01-01,e@x.com\n"
        "3,2024-01-01,f@x.com\n",
        encoding="utf-8",
    )
    config = config_for(folder, path="dups.csv", map={"email": "email"})
    problems = input_problems(folder, config)
    assert problems == [
        Problem(
            "sources.contacts.primary_key",
            "column 'Contact_ID' is not unique: 3 extra rows share a key (e.g. '1' x2, '2' x3)",
            "idspine never drops duplicates silently: deduplicate the source or pick another key",
        )
    ]


def test_missing_file_names_the_path(folder: Path) -> None:
    problems = input_problems(folder, config_for(folder, path="absent.csv"))
    assert problems == [
        Problem("sources.contacts.path", f"file not found: {folder / 'absent.csv'}")
    ]


def test_unreadable_file_names_the_path(folder: Path) -> None:
    (folder / "broken.parquet").write_bytes(b"this is not a parquet file")
    problems = input_problems(folder, config_for(folder, path="broken.parquet"))
    assert len(problems) == 1
    assert problems[0].path == "sources.contacts.path"
    assert problems[0].message.startswith(f"cannot read {str(folder / 'broken.parquet')!r}: ")


def test_problems_of_every_source_are_reported_together(folder: Path) -> None:
    config = config_for(folder, primary_key="contact_id")
    config["sources"]["shop"] = {
        "path": "absent.csv",
        "primary_key": "id",
        "order_by": "updated_at",
        "map": {"email": "email"},
    }
    problems = input_problems(folder, config)
    assert [p.path for p in problems] == ["sources.contacts.primary_key", "sources.shop.path"]


def test_a_failed_run_keeps_the_previous_outputs(folder: Path) -> None:
    config = config_for(folder)
    with idspine.resolve(idspine.load_config(config, folder)) as result:
        before = sorted((tuple(r.values()) for r in result.arrow("match").to_pylist()), key=str)
    (folder / "contacts.csv").write_text(CONTACTS + "2,2024-01-03,dup@x.com,,Dup,Dup\n")
    with pytest.raises(InputError):
        idspine.resolve(idspine.load_config(config, folder))
    with duckdb.connect(str(folder / "out.duckdb"), read_only=True) as connection:
        after = connection.execute("SELECT * FROM identity.identity_match").fetchall()
    assert sorted(after, key=str) == before


# --- property: the lookup holds every mapped raw value, once -------------------------------


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


MAPPING = {"email": ["email_1", "email_2"], "phone": "phone", "note": ["note", "first"]}
VALUE_COLUMNS = ["email_1", "email_2", "phone", "first", "note"]
POOL = [
    "ann@x.com",
    "Ann@X.com ",
    "a.nn+tag@gmail.com",
    "test@test.com",
    "not-an-email",
    "06 12 34 56 78",
    "+33612345678",
    "0000000000",
    "12",
    "Zoé",
    fullwidth("ABC"),
    "Bob",
    "null",
    "N/A",
    " ",
    "\t",
    "Jean-Pierre",
]
values = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(POOL),
    st.text(alphabet="ab é@.+0 9\t-" + fullwidth("A"), max_size=8),
)
rows = st.lists(st.fixed_dictionaries(dict.fromkeys(VALUE_COLUMNS, values)), max_size=6)


def write_source(path: Path, source_rows: list[dict[str, str | None]]) -> None:
    table = {
        "key": pa.array([f"k{i}" for i in range(len(source_rows))], pa.string()),
        "updated_at": pa.array(["2024-01-01"] * len(source_rows), pa.string()),
        **{c: pa.array([r[c] for r in source_rows], pa.string()) for c in VALUE_COLUMNS},
    }
    pq.write_table(pa.table(table), path)


def expected_lookup(
    name: str, source_rows: list[dict[str, str | None]]
) -> Counter[tuple[str, ...]]:
    expected: Counter[tuple[str, ...]] = Counter()
    for index, row in enumerate(source_rows):
        for identifier, columns in MAPPING.items():
            for column in [columns] if isinstance(columns, str) else columns:
                value = row[column]
                if value is not None:
                    expected[(name, f"k{index}", identifier, value)] += 1
    return expected


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(crm_rows=rows, shop_rows=rows)
def test_lookup_holds_each_mapped_raw_value_once(
    crm_rows: list[dict[str, str | None]], shop_rows: list[dict[str, str | None]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        write_source(folder / "crm.parquet", crm_rows)
        write_source(folder / "shop.parquet", shop_rows)
        source = {"primary_key": "key", "order_by": "updated_at", "map": MAPPING}
        config = idspine.load_config(
            {
                "output": {"database": "out.duckdb"},
                "identifiers": {
                    "email": {"type": "email"},
                    "phone": {"type": "phone", "default_region": "FR"},
                    "note": {"type": "text"},
                },
                "sources": {
                    "crm": {"path": "crm.parquet", **source},
                    "shop": {"path": "shop.parquet", **source},
                },
                "rules": [{"name": "same_email", "match": {"email": "exact"}}],
            },
            folder,
        )
        with idspine.resolve(config) as result:
            lookup = result.arrow("lookup").to_pylist()
            match = result.arrow("match").to_pylist()
    got = Counter((r["source"], r["record_key"], r["identifier"], r["raw_value"]) for r in lookup)
    assert got == expected_lookup("crm", crm_rows) + expected_lookup("shop", shop_rows)
    assert all(r["value"] is None or r["value"] != "" for r in lookup)
    assert all(r["value"] is None for r in lookup if r["is_blocked"])
    assert len(match) == len(crm_rows) + len(shop_rows)
