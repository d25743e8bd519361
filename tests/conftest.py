"""Shared fixtures: tiny projects written to disk and run on a real engine."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import idspine

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]

# Small-data settings: one shuffle partition, no UI, and interpreted expressions (compiling
# generated code costs more than running it on a few rows).
SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for the whole suite; engines opened by tests find it active."""
    pytest.importorskip("pyspark", reason="needs pyspark (pip install idspine[spark])")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("needs a Java runtime for Spark")
    from idspine.engines.spark_engine import build_session

    session = build_session("local[2]", "idspine-tests", SPARK_TEST_CONF)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _spark_session_for_spark_tests(request: pytest.FixtureRequest) -> None:
    # Every test marked `spark` (a module, a test or an ENGINES parameter) shares the session.
    if request.node.get_closest_marker("spark") is not None:
        request.getfixturevalue("spark")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def project(
    tmp_path: Path,
    sources: dict[str, list[dict[str, Any]]],
    *,
    identifiers: dict[str, Any],
    rules: list[dict[str, Any]],
    maps: dict[str, dict[str, Any]] | None = None,
    engine: str = "duckdb",
    **extra: Any,
) -> dict[str, Any]:
    """A config dict over CSV files (key column `id`, order column `updated`)."""
    config_sources = {}
    for name, rows in sources.items():
        write_csv(tmp_path / f"{name}.csv", rows)
        columns = {c for row in rows for c in row} - {"id", "updated"}
        config_sources[name] = {
            "path": f"{name}.csv",
            "primary_key": "id",
            "order_by": "updated",
            "map": (maps or {}).get(name) or {c: c for c in sorted(columns) if c in identifiers},
        }
    return {
        "engine": engine,
        "output": {"database": str(tmp_path / "out.duckdb")},
        "identifiers": identifiers,
        "sources": config_sources,
        "rules": rules,
        **extra,
    }


def rows(result: idspine.Result, table: str) -> list[dict[str, Any]]:
    """A published table as sorted row dicts (order-independent comparisons)."""
    data = result.arrow(table).to_pylist()
    return sorted(data, key=lambda r: tuple(str(v) for v in r.values()))


@pytest.fixture
def run_project(tmp_path: Path) -> Callable[..., idspine.Result]:
    opened: list[idspine.Result] = []

    def run(config: dict[str, Any]) -> idspine.Result:
        result = idspine.resolve(idspine.load_config(config, base_dir=tmp_path))
        opened.append(result)
        return result

    yield run  # type: ignore[misc]
    for result in opened:
        result.close()
