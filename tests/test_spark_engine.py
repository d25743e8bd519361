"""Spark engine: the same SQL results as DuckDB function by function (cleaning, dates,
comparators), graph primitives against sequential oracles, crash-safe publishing, and the same
output tables as DuckDB for one config run on both engines."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp
from tests.conftest import SPARK_TEST_CONF

import idspine
from idspine.commands.report import build_report

pytest.importorskip("pyspark", reason="needs pyspark (pip install idspine[spark])")
pytest.importorskip("pandas", reason="needs pandas (pip install idspine[spark])")

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from idspine.engines.spark_engine import SparkEngine

pytestmark = [
    pytest.mark.spark,
    # PySpark 4 warns that pandas 3 support is partial; the engine's UDFs do not depend on it.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.fixture
def engine(spark: SparkSession, tmp_path: Path) -> Iterator[SparkEngine]:
    from idspine.engines.spark_engine import SparkEngine

    opened = SparkEngine(spark, location=str(tmp_path / "published"))
    yield opened
    opened.close()


def fetch(engine: SparkEngine, table: str) -> list[dict[str, Any]]:
    rows = engine.fetch_arrow(exp.select("*").from_(exp.to_table(table))).to_pylist()
    return sorted(rows, key=lambda r: tuple(r.values()))


# -- the same SQL results as DuckDB, function by function ----------------------------------

RAW_VALUES = [
    "  Ann.Lee+News@GMAIL.com ",
    "a.b.c@googlemail.com",
    "x@y",
    "no at sign",
    "two@@at.com",
    "Élodie  Dupont-Núñez",
    "José\u00a0MARÍA",
    "Dvořák",
    "ﬁnn O'Brien",
    "한국 이름",
    "Straße",
    "\tTabbed\nName ",
    "\u0130stanbul",
    "\u03a3\u0391\u03a3",
    "\u000bvertical tab",
    "a+b+c@mail.com",
    "x.y\u2028z@mail.com",
    "N/A",
    "null",
    "0000000000",
    "test@test.com",
    "noreply@shop.com",
    "+33 (0)6 12-34-56-78",
    "06.12.34.56.78",
    "ID-00123",
    "",
    "   ",
]


def identifiers_for_parity() -> tuple[Any, ...]:
    config = idspine.load_config(
        {
            "identifiers": {
                "email": {"type": "email", "strip_plus_tag": True, "gmail_dots": True},
                "name": {"type": "name", "block": ["Dupont"]},
                "code": {"type": "id", "only_numeric": True},
                "label": {"type": "text", "case_sensitive": True, "block_patterns": ["^ID-"]},
                "custom": {
                    "type": "custom",
                    "expression": "regexp_replace(value, '([a-z]+) ([a-z]+)', '\\2 \\1')",
                },
            },
            "sources": {
                "s": {"path": "s.csv", "primary_key": "k", "order_by": "t", "map": {"email": "e"}}
            },
            "rules": [{"name": "r", "match": {"email": "exact"}}],
        }
    )
    return config.identifiers


def cleaning_query(engine_name: str) -> exp.Expr:
    from idspine.stages.standardize import base_clean, block_condition, clean_value

    raw = exp.column("raw_value")
    columns: list[exp.Expr] = [raw]
    for identifier in identifiers_for_parity():
        value = clean_value(identifier, raw, engine_name)
        cleaned = base_clean(raw, identifier.case_sensitive)
        columns.append(exp.alias_(value, f"{identifier.name}_value"))
        columns.append(
            exp.alias_(block_condition(identifier, cleaned, value), f"{identifier.name}_blocked")
        )
    return exp.select(*columns).from_("raw_values")


def on_both_engines(engine: SparkEngine, data: pa.Table, query: Any) -> tuple[Any, Any]:
    from idspine.engines.duckdb_engine import DuckDBEngine

    duck = DuckDBEngine(":memory:")
    try:
        duck.register_arrow("raw_values", data)
        expected = duck.fetch_arrow(query("duckdb")).to_pylist()
    finally:
        duck.close()
    engine.register_arrow("raw_values", data)
    return engine.fetch_arrow(query("spark")).to_pylist(), expected


def test_cleaning_gives_the_same_values_as_duckdb(engine: SparkEngine) -> None:
    data = pa.table({"raw_value": RAW_VALUES})
    actual, expected = on_both_engines(engine, data, cleaning_query)
    assert actual == expected


@pytest.mark.parametrize(
    ("order_format", "values"),
    [
        (None, ["2024-03-05", "2024-03-05 14:07:09", "2024-03-05T14:07:09.123456", "March 5"]),
        ("epoch", ["1700000000", "1700000000.25", "-86400", "soon"]),
        ("epoch_ms", ["1700000000123", "0"]),
        ("%d/%m/%Y %H:%M", ["28/11/2026 14:05", "5/1/2024 4:05", "2024-01-05", "31/02/2024 1:00"]),
        ("%Y%m%d", ["20240105", "2024010"]),
        ("%d.%m.%y", ["05.01.24", "5.1.24"]),
    ],
)
def test_order_fields_read_the_same_as_duckdb(
    engine: SparkEngine, order_format: str | None, values: list[str]
) -> None:
    from idspine.sql.dialect import parse_order_field

    def query(engine_name: str) -> exp.Expr:
        parsed = parse_order_field(engine_name, exp.column("raw_value"), order_format)
        return exp.select("raw_value", exp.alias_(parsed, "order_ts")).from_("raw_values")

    actual, expected = on_both_engines(engine, pa.table({"raw_value": values}), query)
    assert actual == expected


def test_comparators_score_the_same_as_duckdb_and_the_reference(engine: SparkEngine) -> None:
    from idspine.sql.comparators import COMPARATORS
    from idspine.sql.dialect import similarity

    pairs = [
        ("martha", "marhta"),
        ("dixon", "dicksonx"),
        ("jean pierre", "pierre jean"),
        ("ca", "abc"),
        ("anne marie", "anne"),
        ("x", "y"),
        ("nguyen", "nguyen"),
    ]
    data = pa.table({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]})

    def query(engine_name: str) -> exp.Expr:
        a, b = exp.column("a"), exp.column("b")
        return exp.select(
            *[exp.alias_(similarity(engine_name, name, a, b), name) for name in COMPARATORS]
        ).from_("raw_values")

    actual, expected = on_both_engines(engine, data, query)
    for spark_row, duck_row, (left, right) in zip(actual, expected, pairs, strict=True):
        for name, comparator in COMPARATORS.items():
            assert spark_row[name] == pytest.approx(duck_row[name], abs=1e-12), (name, left)
            assert spark_row[name] == pytest.approx(comparator.reference(left, right), abs=1e-12)


# -- connected components -------------------------------------------------------------------


def find_root(parent: dict[int, int], node: int) -> int:
    """The root of a node in a union-find forest (path halving); adds unseen nodes."""
    parent.setdefault(node, node)
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def union_find_components(edges: list[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}
    for a, b in edges:
        ra, rb = find_root(parent, a), find_root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: find_root(parent, node) for node in parent}


def edge_table(edges: list[tuple[int, int]], ranks: list[int] | None = None) -> pa.Table:
    columns = {
        "node_a": pa.array([a for a, _ in edges], pa.int64()),
        "node_b": pa.array([b for _, b in edges], pa.int64()),
    }
    if ranks is not None:
        columns["rank"] = pa.array(ranks, pa.int64())
    return pa.table(columns)


def components_of(engine: SparkEngine, edges: list[tuple[int, int]]) -> dict[int, int]:
    engine.register_arrow("edges", edge_table(edges))
    engine.connected_components("edges", "components")
    return {r["node"]: r["component"] for r in fetch(engine, "components")}


def random_graphs(seed: int) -> list[tuple[int, int]]:
    """Many random graphs of every density side by side, with large sparse node ids."""
    rng = random.Random(seed)
    edges: list[tuple[int, int]] = []
    for graph in range(30):
        nodes = rng.sample(range(graph * 10**9, graph * 10**9 + 10**6), rng.randint(2, 60))
        for _ in range(rng.randint(1, 2 * len(nodes))):
            edges.append((rng.choice(nodes), rng.choice(nodes)))
    rng.shuffle(edges)
    return edges


@pytest.mark.parametrize("seed", [1, 2])
def test_components_match_union_find_on_random_graphs(engine: SparkEngine, seed: int) -> None:
    edges = random_graphs(seed)
    assert components_of(engine, edges) == union_find_components(edges)


def test_components_of_a_long_path_with_shuffled_labels(engine: SparkEngine) -> None:
    labels = list(range(10_000))
    random.Random(7).shuffle(labels)
    edges = list(itertools.pairwise(labels))
    assert components_of(engine, edges) == dict.fromkeys(labels, 0)
    assert 0 < engine.last_cc_iterations <= 30


def test_components_of_stars_centred_on_the_largest_and_smallest_node(
    engine: SparkEngine,
) -> None:
    edges = [(5_000, leaf) for leaf in range(5_000)] + [
        (10_000, leaf) for leaf in range(10_001, 12_000)
    ]
    result = components_of(engine, edges)
    assert result == {
        **dict.fromkeys(range(5_001), 0),
        **dict.fromkeys(range(10_000, 12_000), 10_000),
    }


def test_components_with_parquet_checkpoints(spark: SparkSession, tmp_path: Path) -> None:
    from idspine.engines.spark_engine import SparkEngine

    engine = SparkEngine(
        spark, location=str(tmp_path / "published"), checkpoint_dir=str(tmp_path / "checkpoints")
    )
    try:
        edges = random_graphs(3)
        assert components_of(engine, edges) == union_find_components(edges)
        assert any((tmp_path / "checkpoints").iterdir())
    finally:
        engine.close()
    assert not any((tmp_path / "checkpoints").iterdir())


# -- ordered spanning forest ----------------------------------------------------------------


def kruskal(edges: list[tuple[int, int]], ranks: list[int]) -> list[int]:
    parent: dict[int, int] = {}
    kept = []
    for rank, (a, b) in sorted(zip(ranks, edges, strict=True)):
        ra, rb = find_root(parent, a), find_root(parent, b)
        if ra != rb:
            parent[ra] = rb
            kept.append(rank)
    return kept


def test_spanning_forest_matches_sequential_kruskal(engine: SparkEngine) -> None:
    rng = random.Random(11)
    edges = [(a, b) for a, b in random_graphs(4) if a != b]
    ranks = rng.sample(range(10 * len(edges)), len(edges))
    engine.register_arrow("ranked", edge_table(edges, ranks))
    engine.spanning_forest("ranked", "forest")
    assert [r["rank"] for r in fetch(engine, "forest")] == kruskal(edges, ranks)

    # After a components call over a superset of the edges, its labels group the work.
    engine.register_arrow("edges", edge_table(edges))
    engine.connected_components("edges", "components")
    subset = [i for i in range(len(edges)) if rng.random() < 0.7]
    engine.register_arrow(
        "ranked", edge_table([edges[i] for i in subset], [ranks[i] for i in subset])
    )
    engine.spanning_forest("ranked", "forest")
    expected = kruskal([edges[i] for i in subset], [ranks[i] for i in subset])
    assert [r["rank"] for r in fetch(engine, "forest")] == expected


# -- publishing -----------------------------------------------------------------------------


def test_publish_replaces_appends_and_survives_an_interrupted_publish(
    engine: SparkEngine, tmp_path: Path
) -> None:
    engine.register_arrow("work_a", pa.table({"x": [1, 2]}))
    engine.register_arrow("work_log", pa.table({"run": ["r1"]}))
    engine.publish("out", {"table_a": "work_a"}, {"log": "work_log"})
    engine.register_arrow("work_a", pa.table({"x": [3]}))
    engine.register_arrow("work_log", pa.table({"run": ["r2"]}))
    engine.publish("out", {"table_a": "work_a"}, {"log": "work_log"})
    assert fetch(engine, "out.table_a") == [{"x": 3}]
    assert fetch(engine, "out.log") == [{"run": "r1"}, {"run": "r2"}]

    # A publish that fails half-way leaves the previous tables as they were.
    engine.register_arrow("work_a", pa.table({"x": [4]}))
    with pytest.raises(Exception, match="missing_work_table"):
        engine.publish("out", {"table_a": "work_a", "table_b": "missing_work_table"}, {})
    assert fetch(engine, "out.table_a") == [{"x": 3}]
    assert not engine.exists("table_b", "out")

    # A process killed after the commit marker: the next access finishes the swap.
    root = tmp_path / "published" / "out"
    engine.spark.createDataFrame([(5,)], "x long").write.parquet(str(root / "_staging/table_a"))
    (root / "_staging" / "_COMMITTED").touch()
    assert fetch(engine, "out.table_a") == [{"x": 5}]
    assert fetch(engine, "out.log") == [{"run": "r1"}, {"run": "r2"}]
    # ... and one killed before it: the staging directory is discarded.
    engine.spark.createDataFrame([(6,)], "x long").write.parquet(str(root / "_staging/table_a"))
    assert fetch(engine, "out.table_a") == [{"x": 5}]
    assert not (root / "_staging").exists()


# -- the same tables as DuckDB --------------------------------------------------------------

TABLES = (
    "identity_match",
    "identity_golden",
    "identity_match_pairs",
    "identity_unresolved_records",
    "identity_lookup",
    "identity_matched_ids",
    "identity_profile_ids",
    "identity_profile_redirects",
    "identity_hub_values",
    "identity_retired_members",
    "identity_override_status",
)


def write_inputs(folder: Path) -> None:
    """A CSV and a Parquet source with duplicates, a family email, junk and fuzzy names."""
    crm = [
        ("c1", "Ann.Lee@Mail.com", "06 12 34 56 78", "Ann", "Lee", "28/11/2024 14:05", "75001"),
        ("c2", "ann.lee+shop@mail.com", "", "Anne", "Lée", "01/12/2024 09:00", "75002"),
        ("c3", "family@mail.com", "+33 6 99 99 99 99", "Bob", "Martin", "5/1/2024 4:05", ""),
        ("c4", "family@mail.com", "", "Carla", "Martin", "06/01/2024 10:00", "69001"),
        ("c5", "test@test.com", "0000000000", "n/a", "", "not a date", ""),
        ("c9", "José.Núñez@mail.com", "", "José", "Núñez", "08/01/2024 10:00", "13001"),
        ("c10", "jon.smyth@mail.com", "0611111111", "Jonathan", "Smyth", "09/01/2024", ""),
        ("c11", "jon.smyth@mail.com", "0611111111", "Jonathon", "Smith", "10/01/2024 8:00", ""),
    ]
    crm += [
        (f"j{i}", "junk@junk.com", "", f"Name{i}", f"Last{i}", "07/01/2024 10:00", "")
        for i in range(8)
    ]
    with (folder / "crm.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["contact_id", "Email", "Phone", "First", "Last", "Updated", "Zip"])
        writer.writerows(crm)
    moment = dt.datetime(2023, 1, 1)
    pq.write_table(
        pa.table(
            {
                "customer_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
                "email_address": [
                    "ann.lee@mail.com",
                    "family@mail.com",
                    "family@mail.com",
                    "jose.nunez@mail.com",
                    "junk@junk.com",
                    "JON.SMYTH@mail.com",
                ],
                "mobile": ["+33612345678", None, "0699999999", None, None, "+33 6 11 11 11 11"],
                "full_name": [
                    "Ann Lee",
                    "Bob Martin",
                    "Bobby Martin",
                    "Jose Nunez",
                    "Q Four",
                    "Jon Smyth",
                ],
                "created_at": pa.array(
                    [moment + dt.timedelta(days=30 * i) if i != 3 else None for i in range(6)],
                    pa.timestamp("us"),
                ),
            }
        ),
        folder / "shop.parquet",
    )
    with (folder / "app.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uid", "mail", "cust", "fn", "ln", "ts"])
        writer.writerows(
            [
                ("u1", "ANN.LEE@MAIL.COM", "S1", "A", "Lee", "1700000000"),
                ("u2", "family@mail.com", "S2", "Bob", "Martin", "1700000100.5"),
                ("u3", "family@mail.com", "S3", "Bobby", "Martyn", "1700000200"),
                ("u4", "", "", "", "", ""),
                ("u5", "jon.smyth@mail.com", "S6", "J", "Smyth", "1700000300"),
            ]
        )


def cross_engine_config(engine: str, folder: Path) -> dict[str, Any]:
    return {
        "engine": engine,
        "spark": {"master": "local[2]", "conf": SPARK_TEST_CONF},
        "output": {"database": str(folder / f"{engine}.duckdb")},
        "identifiers": {
            "email": {"type": "email", "strip_plus_tag": True, "limit": 3, "max_group_size": 6},
            "phone": {"type": "phone", "default_region": "FR", "limit": 2},
            "customer_id": {"type": "id", "limit": 1},
            "first_name": {"type": "name"},
            "last_name": {"type": "name"},
        },
        "sources": {
            "crm": {
                "path": "crm.csv",
                "primary_key": "contact_id",
                "order_by": {"column": "Updated", "format": "%d/%m/%Y %H:%M"},
                "map": {
                    "email": "Email",
                    "phone": "Phone",
                    "first_name": "First",
                    "last_name": "Last",
                },
                "fields": {"zip": "Zip"},
            },
            "shop": {
                "path": "shop.parquet",
                "primary_key": "customer_id",
                "order_by": "created_at",
                "map": {
                    "customer_id": "customer_id",
                    "email": "email_address",
                    "phone": "mobile",
                    "first_name": "split_part(full_name, ' ', 1)",
                    "last_name": "split_part(full_name, ' ', -1)",
                },
            },
            "app": {
                "path": "app.csv",
                "primary_key": "uid",
                "order_by": {"column": "ts", "format": "epoch"},
                "map": {
                    "email": "mail",
                    "customer_id": "cust",
                    "first_name": "fn",
                    "last_name": "ln",
                },
            },
        },
        "rules": [
            {"name": "same_customer_id", "match": {"customer_id": "exact"}},
            {
                "name": "email_and_last_name",
                "match": {"email": "exact", "last_name": "fuzzy_strong"},
            },
            {
                "name": "phone_and_names",
                "match": {
                    "phone": "exact",
                    "last_name": {"function": "damerau_levenshtein", "threshold": 0.6},
                    "first_name": {
                        "function": "jaccard_tokens",
                        "threshold": 0.5,
                        "allow_missing": True,
                    },
                },
            },
        ],
        "golden": {
            "email": "most_frequent",
            "zip": {"strategy": "source_priority", "order": ["crm", "shop"]},
        },
    }


def published(config: dict[str, Any], folder: Path) -> dict[str, list[dict[str, Any]]]:
    with idspine.resolve(idspine.load_config(config, base_dir=folder)) as result:
        tables = {t: sorted(result.arrow(t).to_pylist(), key=repr) for t in TABLES}
        tables["identity_run_metrics"] = sorted(
            (
                {k: r[k] for k in ("metric", "dimension", "value")}
                for r in result.arrow("identity_run_metrics").to_pylist()
                if not r["metric"].startswith("stage_seconds_")
            ),
            key=repr,
        )
    return tables


def test_spark_publishes_the_same_tables_as_duckdb(spark: SparkSession, tmp_path: Path) -> None:
    write_inputs(tmp_path)
    expected = published(cross_engine_config("duckdb", tmp_path), tmp_path)
    actual = published(cross_engine_config("spark", tmp_path), tmp_path)
    for table, rows in expected.items():
        assert actual[table] == rows, table
    # The data exercises every keep_separate status, a refused pair and its flag.
    assert {r["status"] for r in expected["identity_match"]} == {"matched", "unique", "missing"}
    assert any(r["refused_merge"] for r in expected["identity_match"])
    assert "refused" in {r["status"] for r in expected["identity_match_pairs"]}


def test_quickstart_gives_the_same_tables_on_both_engines(
    spark: SparkSession, tmp_path: Path
) -> None:
    """The README's quickstart, run once per engine on the same files."""
    import yaml

    quickstart = Path(__file__).resolve().parents[1] / "examples" / "quickstart"
    base = yaml.safe_load((quickstart / "idspine.yml").read_text(encoding="utf-8"))
    results = {}
    reports: dict[str, dict[str, str]] = {}
    for engine in ("duckdb", "spark"):
        config = dict(
            base,
            engine=engine,
            output={
                "database": str(tmp_path / engine / "quickstart.duckdb"),
                "schema": "identity",
                "location": str(tmp_path / engine / "tables"),
            },
        )
        results[engine] = published(config, quickstart)
        # The report reads the published tables through the engine, on Spark too.
        resolved = idspine.load_config(config, base_dir=quickstart)
        page = build_report(resolved, tmp_path / engine / "report.html").read_text("utf-8")
        reports[engine] = dict(re.findall(r'data-metric="([a-z_]+)">([^<]*)<', page))
    for table, rows in results["duckdb"].items():
        assert results["spark"][table] == rows, table
    assert len(results["duckdb"]["identity_match"]) > 3000
    assert reports["spark"] == reports["duckdb"]
    assert reports["duckdb"]["records"] == f"{len(results['duckdb']['identity_match']):,}"
