"""`idspine validate`: every check a run makes before matching, without writing anything."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from idspine.config.checks import check_output_folder
from idspine.config.load import Config, Output
from idspine.engines import Engine, open_engine
from idspine.errors import InputError
from idspine.stages.read import StagedSource, stage_sources


def validate_sources(config: Config) -> dict[str, int]:
    """Read every source and run the input checks; returns the record count per source."""
    return {item.source.name: item.row_count for item in stage_for_validation(config)}


def stage_for_validation(config: Config) -> list[StagedSource]:
    """Read every source and run the input checks, as `run` would.

    The sources are read where `run` reads them, and nothing is ever written: on DuckDB,
    `table` and `query` sources read the output database, so it is opened read-only; on
    Spark they read the session catalog, and staging only makes temporary views.
    """
    check_output_folder(config)
    if config.engine != "duckdb":
        return _count(config, open_engine(config))
    from idspine.engines.duckdb_engine import DuckDBEngine

    database = Path(config.output.database)
    in_database = [s for s in config.sources if s.kind != "path"]
    if in_database and config.output.database != ":memory:" and database.is_file():
        return _count(config, DuckDBEngine.from_config(config, read_only=True))
    # Nothing to read in the output database (or no database yet): an in-memory one, so that
    # validating never creates the output file.
    scratch = replace(
        config, output=Output(":memory:", config.output.schema, config.output.id_column, None)
    )
    try:
        return _count(scratch, DuckDBEngine.from_config(scratch))
    except InputError as exc:
        if not in_database or config.output.database == ":memory:":
            raise
        # A table or query source that failed may only lack the database `run` would read it
        # from (a query over files alone needs none): say so next to its error.
        hint = f"the output database {database} does not exist yet, and this source reads it"
        failed = {f"sources.{s.name}.{s.kind}" for s in in_database}
        raise InputError(
            [
                replace(problem, hint=hint) if problem.path in failed else problem
                for problem in exc.problems
            ]
        ) from None


def _count(config: Config, engine: Engine) -> list[StagedSource]:
    try:
        return stage_sources(config, engine)
    finally:
        engine.close()


def source_warnings(staged: list[StagedSource]) -> list[str]:
    """What a run would get wrong without failing: empty sources, unreadable order values."""
    warnings = []
    for item in staged:
        name = item.source.name
        if item.row_count == 0:
            warnings.append(f"source {name} has no rows: a run would remove its profiles")
        if item.unparsed_order_values:
            warnings.append(
                f"sources.{name}.order_by: {item.unparsed_order_values:,} values of "
                f"'{item.source.order_column}' cannot be read as a time (check its format); "
                "those records would count as oldest"
            )
    return warnings
