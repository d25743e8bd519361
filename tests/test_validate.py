"""`idspine validate` reads every source where `run` reads it (spec §2.1, §9), writing nothing.

`table` and `query` sources read the output database on DuckDB and the session catalog on
Spark; validating must find them there, and leave the database as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner, Result

import idspine
from idspine.commands.cli import app
from idspine.commands.validate import validate_sources

CUSTOMERS = (
    "Contact_ID,updated_at,email\n"
    "1,2024-01-01,ann@x.com\n"
    "2,2024-01-02,bob@x.com\n"
    "3,2024-01-03,cat@x.com\n"
)


def config_for(folder: Path, **place: str) -> dict[str, Any]:
    """A project whose one source is read from `place` (table: or query:)."""
    return {
        "output": {"database": str(folder / "out.duckdb")},
        "identifiers": {"email": {"type": "email"}},
        "sources": {
            "customers": {
                **place,
                "primary_key": "Contact_ID",
                "order_by": "updated_at",
                "map": {"email": "email"},
            }
        },
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
    }


def validate(folder: Path, config: dict[str, Any]) -> Result:
    path = folder / "idspine.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return CliRunner().invoke(app, ["validate", str(path)])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """An output database holding the source table `crm.customers` (3 rows)."""
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    path = tmp_path / "out.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA crm")
        connection.execute(
            "CREATE TABLE crm.customers AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(tmp_path / "customers.csv")],
        )
    return path


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.mark.parametrize(
    ("place", "records"),
    [
        ({"table": "crm.customers"}, 3),
        ({"query": "SELECT * FROM crm.customers WHERE Contact_ID <> '2'"}, 2),
    ],
    ids=["table", "query"],
)
def test_validate_reads_sources_in_the_output_database(
    tmp_path: Path, database: Path, place: dict[str, str], records: int
) -> None:
    before = fingerprint(database)
    result = validate(tmp_path, config_for(tmp_path, **place))
    assert result.exit_code == 0, result.output
    assert f"customers: {records} records" in " ".join(result.stdout.split())
    assert fingerprint(database) == before, "validate writes nothing to the output database"
    assert not Path(f"{database}.wal").exists()


def test_validate_and_run_read_the_same_table(tmp_path: Path, database: Path) -> None:
    config = idspine.load_config(config_for(tmp_path, table="crm.customers"), tmp_path)
    assert validate_sources(config) == {"customers": 3}
    with idspine.resolve(config) as result:
        assert result.arrow("match").num_rows == 3
    assert validate_sources(config) == {"customers": 3}, "once outputs are published too"


@pytest.mark.parametrize(
    "place",
    [{"table": "crm.missing"}, {"query": "SELECT * FROM crm.missing"}],
    ids=["table", "query"],
)
def test_validate_a_missing_table_exits_2_naming_the_source(
    tmp_path: Path, database: Path, place: dict[str, str]
) -> None:
    before = fingerprint(database)
    result = validate(tmp_path, config_for(tmp_path, **place))
    assert result.exit_code == 2, result.output
    kind = next(iter(place))
    assert f"sources.customers.{kind}: cannot read" in result.stderr
    assert "missing" in result.stderr
    assert fingerprint(database) == before


def test_validate_without_the_output_database_says_it_is_missing(tmp_path: Path) -> None:
    result = validate(tmp_path, config_for(tmp_path, table="crm.customers"))
    assert result.exit_code == 2, result.output
    printed = " ".join(result.stderr.split())
    assert "sources.customers.table: cannot read 'crm.customers'" in printed
    assert "does not exist yet, and this source reads it" in printed
    assert not (tmp_path / "out.duckdb").exists(), "validate creates no database"


def test_validate_a_query_over_files_needs_no_database(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    query = f"SELECT * FROM read_csv('{tmp_path / 'customers.csv'}', all_varchar = true)"
    result = validate(tmp_path, config_for(tmp_path, query=query))
    assert result.exit_code == 0, result.output
    assert "customers: 3 records" in " ".join(result.stdout.split())
    assert not (tmp_path / "out.duckdb").exists()


@pytest.mark.spark
def test_validate_on_spark_reads_the_session_catalog(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="needs pyspark (pip install idspine[spark])")
    from idspine.engines.spark_engine import build_session

    spark = build_session("local[2]", "idspine-tests", {"spark.sql.shuffle.partitions": "1"})
    rows = [tuple(line.split(",")) for line in CUSTOMERS.splitlines()[1:]]
    frame = spark.createDataFrame(rows, "Contact_ID string, updated_at string, email string")
    frame.createOrReplaceTempView("crm_customers")
    try:
        for place, records in (
            ({"table": "crm_customers"}, 3),
            ({"query": "SELECT * FROM crm_customers WHERE Contact_ID <> '2'"}, 2),
        ):
            config = config_for(tmp_path, **place)
            config["engine"] = "spark"
            assert validate_sources(idspine.load_config(config, tmp_path)) == {"customers": records}
        missing = config_for(tmp_path, table="crm_missing")
        missing["engine"] = "spark"
        with pytest.raises(idspine.InputError) as caught:
            validate_sources(idspine.load_config(missing, tmp_path))
        assert caught.value.problems[0].path == "sources.customers.table"
    finally:
        spark.catalog.dropTempView("crm_customers")
    assert not (tmp_path / "out.duckdb").exists()
    assert not (tmp_path / "out.duckdb.spark").exists(), "validate writes no output"


def test_validate_warns_about_an_empty_source_and_unreadable_times(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text("id,email,updated\n1,a@x.com,yesterday\n", encoding="utf-8")
    (tmp_path / "app.csv").write_text("id,email,updated\n", encoding="utf-8")
    config = {
        "identifiers": {"email": {"type": "email"}},
        "sources": {
            name: {
                "path": f"{name}.csv",
                "primary_key": "id",
                "order_by": "updated",
                "map": {"email": "email"},
            }
            for name in ("crm", "app")
        },
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
        "output": {"database": str(tmp_path / "out.duckdb")},
    }
    path = tmp_path / "idspine.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "source app has no rows" in text
    assert "sources.crm.order_by: 1 values of 'updated' cannot be read as a time" in text
