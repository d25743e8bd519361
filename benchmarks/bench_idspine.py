"""idspine jobs on the generator's data: the full, like-for-like and messy configs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
CONFIG_FILES = {
    "idspine-full": CONFIG_DIR / "full.yml",
    "idspine-like-for-like": CONFIG_DIR / "like_for_like.yml",
    "idspine-full-capped": CONFIG_DIR / "full.yml",
    "idspine-messy": CONFIG_DIR / "messy.yml",
}
# DuckDB's default memory_limit is 80% of RAM and its buffer pool fills what it may use; the
# capped job shows what a run needs when it is told to stay within a budget.
CAPPED_MEMORY_LIMIT = "8GB"
DATA_PLACEHOLDER = "DATA/"


def benchmark_config(job: str, data_dir: Path, work_dir: Path) -> dict[str, Any]:
    """The job's YAML config with its sources read from ``data_dir`` and output in ``work_dir``."""
    raw: dict[str, Any] = yaml.safe_load(CONFIG_FILES[job].read_text(encoding="utf-8"))
    data_dir, work_dir = data_dir.resolve(), work_dir.resolve()
    for source in raw["sources"].values():
        path = source.get("path")
        if path and path.startswith(DATA_PLACEHOLDER):
            source["path"] = str(data_dir / path.removeprefix(DATA_PLACEHOLDER))
    raw["output"]["database"] = str(work_dir / Path(raw["output"]["database"]).name)
    if job == "idspine-full-capped":
        raw["duckdb"] = {**raw.get("duckdb", {}), "memory_limit": CAPPED_MEMORY_LIMIT}
    return raw


def output_database(job: str, work_dir: Path) -> Path:
    return Path(benchmark_config(job, work_dir, work_dir)["output"]["database"])


def run(job: str, data_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Load the config, resolve, close (outputs durable); time all of it."""
    import idspine
    from idspine.config.load import load_config

    raw = benchmark_config(job, data_dir, work_dir)
    start = time.perf_counter()
    config = load_config(raw, base_dir=work_dir)
    with idspine.resolve(config) as result:
        stages = dict(result.run.stage_seconds)
        steps = dict(getattr(result.engine, "step_seconds", {}))
        warnings = list(result.run.warnings)
    wall = time.perf_counter() - start
    return {"wall_seconds": wall, "stages": stages, "steps": steps, "warnings": warnings}


def read_predicted(job: str, work_dir: Path) -> pa.Table:
    """``source``, ``record_key``, ``cluster_id`` of every record, from the published match."""
    con = duckdb.connect(str(output_database(job, work_dir)), read_only=True)
    try:
        return con.sql(
            "SELECT source, record_key, CAST(profile_id AS VARCHAR) AS cluster_id "
            "FROM identity.identity_match"
        ).to_arrow_table()
    finally:
        con.close()
