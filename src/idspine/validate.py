"""`idspine validate`: every check a run makes before matching, without writing anything."""

from __future__ import annotations

from dataclasses import replace

from idspine.config import Config, Output
from idspine.engines import open_engine
from idspine.read import stage_sources


def validate_sources(config: Config) -> dict[str, int]:
    """Read every source and run the input checks; returns the record count per source."""
    scratch = config
    if config.engine == "duckdb":
        # An in-memory database: validating never touches the output file.
        scratch = replace(
            config, output=Output(":memory:", config.output.schema, config.output.id_column, None)
        )
    engine = open_engine(scratch)
    try:
        return {item.source.name: item.row_count for item in stage_sources(scratch, engine)}
    finally:
        engine.close()
