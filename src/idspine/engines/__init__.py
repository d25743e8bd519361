"""Engines: where the SQL runs. `open_engine` picks one from the config; Spark loads lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idspine.engines.base import Engine

if TYPE_CHECKING:
    from idspine.config.load import Config

__all__ = ["Engine", "open_engine"]


def open_engine(config: Config, *, read_only: bool = False) -> Engine:
    """The config's engine; `read_only` for commands that only read published tables (a
    DuckDB file is then opened read-only; Spark only ever writes when publishing)."""
    if config.engine == "spark":
        from idspine.engines.spark_engine import SparkEngine

        return SparkEngine.from_config(config)
    from idspine.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine.from_config(config, read_only=read_only)
