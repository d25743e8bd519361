"""The one reader of published tables that the commands share, through any engine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from idspine.config.load import Config
from idspine.engines import open_engine
from idspine.engines.base import Engine
from idspine.errors import RunError

# Published tables read here; a query names `identity_golden` as `$golden`.
TABLES = (
    "golden",
    "match",
    "match_pairs",
    "lookup",
    "unresolved_records",
    "hub_values",
    "runs",
    "run_metrics",
)
# Published tables older outputs may lack (the override ledger and what a run did with it):
# queries on them run only once the table is known to exist.
OPTIONAL_TABLES = ("overrides", "override_status")


@lru_cache(maxsize=64)
def _parse(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read="duckdb")


class Reader:
    """Runs the report's queries on the published tables of one output schema, through any
    engine (the one reader that the report, the summary and the warnings share).

    Templates are constants of the calling module. `$name` placeholders become the published
    tables (`$golden` is `identity_golden`) or the quoted id column (`$id`); values are given
    for `?` placeholders, in order, and enter the tree as literals.
    """

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.schema = config.output.schema
        self.nodes: dict[str, exp.Expr] = {
            name: exp.table_(f"identity_{name}", db=config.output.schema, quoted=True)
            for name in (*TABLES, *OPTIONAL_TABLES)
        }
        self.nodes["id"] = exp.column(config.output.id_column, quoted=True)

    def rows(self, template: str, *params: object) -> list[dict[str, Any]]:
        tree = exp.replace_placeholders(_parse(template).copy(), *params, **self.nodes)
        found: list[dict[str, Any]] = self.engine.fetch_arrow(tree).to_pylist()
        return found

    def published(self) -> set[str]:
        """The names of the published tables this reader knows that exist."""
        return {
            f"identity_{name}"
            for name in (*TABLES, *OPTIONAL_TABLES)
            if self.engine.exists(f"identity_{name}", self.schema)
        }


def open_published(config: Config, table: str = "identity_match") -> Engine:
    """The configured engine on the published outputs, read-only; a clear error before the
    first run."""
    if config.engine == "duckdb" and not Path(config.output.database).is_file():
        raise RunError(f"no output database at {config.output.database}: run `idspine run` first")
    engine = open_engine(config, read_only=True)
    if not engine.exists(table, config.output.schema):
        engine.close()
        raise RunError("no published run yet: run `idspine run` first")
    return engine
