"""DuckDB engine: embedded, zero set-up. Work tables are TEMP tables; outputs live in a file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from sqlglot import exp

from idspine.config.load import Config, Source
from idspine.engines.base import Engine
from idspine.errors import EngineError, InputError, Problem, engine_detail
from idspine.plan import Step
from idspine.sql import names, udfs
from idspine.sql.build import lit, sql
from idspine.sql.dialect import render

# Set only by the crash-safety tests: seconds to wait between the statements of a publish.
PUBLISH_DELAY_VARIABLE = "IDSPINE_TEST_PUBLISH_DELAY"
STAGING_PREFIX = "_staging_"


def open_failure(database: str, error: duckdb.Error) -> str:
    """Why a database file cannot be opened, in words: a lock means a run is writing it."""
    if "lock" in str(error).lower():
        return (
            f"a run is in progress (the database {database} is locked); try again when it finishes"
        )
    return f"cannot open the DuckDB database {database}: {engine_detail(str(error))}"


# Share of the machine's memory DuckDB may use when `duckdb.memory_limit` is not set.
DEFAULT_MEMORY_SHARE = 0.4


def default_memory_limit() -> str:
    """40% of the machine's physical memory (the smaller of the host's and the container's
    limit), in MiB for DuckDB: room for the rest of the process under half the RAM."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "80%"
    limit = _cgroup_memory_limit()
    if limit is not None:
        total = min(total, limit)
    return f"{max(int(total * DEFAULT_MEMORY_SHARE) >> 20, 256)}MiB"


def _cgroup_memory_limit() -> int | None:
    """A container's memory limit (cgroup v2), which sysconf does not see."""
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(
        self,
        database: str,
        threads: int | None = None,
        memory_limit: str | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        """`read_only` opens an existing database that nothing may write to (work tables
        stay TEMP, in memory): what commands that only read it use."""
        if database != ":memory:" and not read_only:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        self.database = database
        try:
            self.connection = duckdb.connect(database, read_only=read_only)
        except duckdb.Error as exc:
            raise EngineError(open_failure(database, exc)) from None
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        # DuckDB's own default takes 80% of RAM for its buffer pool, so a large run fills the
        # machine; idspine caps it and spills to a folder next to the output instead.
        self.connection.execute("SET memory_limit = ?", [memory_limit or default_memory_limit()])
        if database != ":memory:" and not read_only:
            spill = Path(database).with_name(Path(database).name + ".tmp")
            self.connection.execute("SET temp_directory = ?", [str(spill)])
        self.connection.execute("SET preserve_insertion_order = false")
        self.output_schema: str | None = None
        self._staged: set[str] = set()
        self._register_udfs()

    @classmethod
    def from_config(cls, config: Config, *, read_only: bool = False) -> DuckDBEngine:
        options: dict[str, Any] = config.engine_options
        return cls(
            config.output.database,
            options.get("threads"),
            options.get("memory_limit"),
            read_only=read_only,
        )

    def _register_udfs(self) -> None:
        varchar = duckdb.sqltype("VARCHAR")
        self.connection.create_function(  # type: ignore[call-overload]
            "idspine_phone_e164",
            udfs.phone_e164_arrow,
            [varchar, varchar],
            varchar,
            # "special": an impossible number is a NULL result, which DuckDB otherwise refuses.
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
        self.connection.create_function(  # type: ignore[call-overload]
            "idspine_name_part",
            names.name_part_arrow,
            [varchar, varchar],
            varchar,
            type="arrow",
            null_handling="special",  # a name without that part is a NULL result
            side_effects=False,
        )
        self.connection.create_function(  # type: ignore[call-overload]
            "idspine_nfkc", udfs.nfkc_arrow, [varchar], varchar, type="arrow", side_effects=False
        )

    def _execute(self, statement: exp.Expr | str) -> duckdb.DuckDBPyConnection:
        text = statement if isinstance(statement, str) else render(statement, "duckdb")
        try:
            return self.connection.execute(text)
        except duckdb.Error as exc:
            detail = engine_detail(str(exc))
            raise EngineError(
                f"DuckDB failed: {detail}\n  while running: {text[:500]}", detail
            ) from exc

    def _run(self, step: Step) -> None:
        kind = "TABLE" if step.materialize else "VIEW"
        target = exp.to_identifier(step.name, quoted=True).sql("duckdb")
        body = render(step.query, "duckdb")
        if step.output and self.output_schema is not None:
            # Written once, in the database file; publishing only renames it.
            staged = self.qualified(STAGING_PREFIX + step.name, self.output_schema)
            self._execute(f"CREATE OR REPLACE TABLE {staged.sql('duckdb')} AS {body}")
            self._execute(
                f"CREATE OR REPLACE TEMP VIEW {target} AS SELECT * FROM {staged.sql('duckdb')}"
            )
            self._staged.add(step.name)
            return
        self._execute(f"CREATE OR REPLACE TEMP {kind} {target} AS {body}")

    def begin_run(self, schema: str) -> None:
        self.output_schema = schema
        self._staged = set()
        quoted_schema = exp.to_identifier(schema, quoted=True).sql("duckdb")
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {quoted_schema}")
        leftovers = (
            self.fetch_arrow(
                sql(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = $schema "
                    "AND database_name = current_database() AND starts_with(table_name, $prefix)",
                    schema=lit(schema),
                    prefix=lit(STAGING_PREFIX),
                )
            )
            .column("table_name")
            .to_pylist()
        )
        for name in leftovers:
            self.drop(name, schema)

    def fetch_arrow(self, query: exp.Expr) -> pa.Table:
        text = render(query, "duckdb")
        try:
            result = self.connection.sql(text).to_arrow_table()
        except duckdb.Error as exc:
            detail = engine_detail(str(exc))
            raise EngineError(
                f"DuckDB failed: {detail}\n  while running: {text[:500]}", detail
            ) from exc
        assert isinstance(result, pa.Table)
        return result

    def register_arrow(self, name: str, data: pa.Table) -> None:
        view = f"__arrow_{name}"
        self.connection.register(view, data)
        try:
            target = exp.to_identifier(name, quoted=True).sql("duckdb")
            self._execute(f'CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM "{view}"')
        finally:
            self.connection.unregister(view)

    def exists(self, name: str, schema: str | None = None) -> bool:
        query = sql(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name "
            "AND (CASE WHEN $schema IS NULL THEN temporary ELSE schema_name = $schema "
            "AND database_name = current_database() END)",
            name=lit(name),
            schema=lit(schema),
        )
        views = sql(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $name AND temporary",
            name=lit(name),
        )
        # fetchall: a result left half-read blocks the connection's next registration.
        count = self._execute(query).fetchall()
        view_count = self._execute(views).fetchall() if schema is None else [(0,)]
        return bool(count[0][0]) or bool(view_count[0][0])

    def drop(self, name: str, schema: str | None = None) -> None:
        target = self.qualified(name, schema).sql("duckdb")
        if schema is None and self.exists(name) and not self._is_table(name):
            self._execute(f"DROP VIEW IF EXISTS {target}")
        else:
            self._execute(f"DROP TABLE IF EXISTS {target}")

    def _is_table(self, name: str) -> bool:
        found = self.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [name]
        ).fetchall()
        return bool(found[0][0])

    def columns(self, name: str) -> list[str]:
        target = exp.to_identifier(name, quoted=True).sql("duckdb")
        return [c[0] for c in self._execute(f"SELECT * FROM {target} LIMIT 0").description]

    def register_source(self, source: Source, name: str) -> None:
        relation = self._source_relation(source)
        target = exp.to_identifier(name, quoted=True).sql("duckdb")
        try:
            self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {target} AS {relation}")
            self.connection.execute(f"SELECT * FROM {target} LIMIT 0")
        except duckdb.Error as exc:
            message = engine_detail(str(exc))
            raise InputError(
                [
                    Problem(
                        f"sources.{source.name}.{source.kind}",
                        f"cannot read {source.location!r}: {message}",
                    )
                ]
            ) from None

    def _source_relation(self, source: Source) -> str:
        if source.kind == "path":
            if not any(ch in source.location for ch in "*?[") and not os.path.exists(
                source.location
            ):
                raise InputError(
                    [Problem(f"sources.{source.name}.path", f"file not found: {source.location}")]
                )
            if source.file_format == "csv":
                query = sql(
                    "SELECT * FROM read_csv($path, header = $header, delim = $delim, "
                    "encoding = $encoding, all_varchar = true)",
                    path=lit(source.location),
                    header=lit(source.csv_header),
                    delim=lit(source.csv_delimiter),
                    encoding=lit(source.csv_encoding),
                )
            else:
                query = sql("SELECT * FROM read_parquet($path)", path=lit(source.location))
            return render(query, "duckdb")
        if source.kind == "table":
            table = exp.to_table(source.location, dialect="duckdb")
            return render(exp.select("*").from_(table), "duckdb")
        parsed = sqlglot.parse_one(source.location, read="duckdb")
        if not isinstance(parsed, exp.Query):
            raise InputError([Problem(f"sources.{source.name}.query", "must be a SELECT query")])
        return render(parsed, "duckdb")

    def connected_components(self, edges: str, output: str) -> None:
        data = self.fetch_arrow(sql("SELECT node_a, node_b FROM $t", t=exp.to_table(edges)))
        left = data.column("node_a").to_numpy().astype(np.int64)
        right = data.column("node_b").to_numpy().astype(np.int64)
        nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
        count = len(nodes)
        graph = coo_matrix(
            (np.ones(len(left), dtype=np.int8), (inverse[: len(left)], inverse[len(left) :])),
            shape=(count, count),
        ).tocsr()
        _, labels = connected_components(graph, directed=False)
        smallest = np.full(labels.max() + 1 if count else 0, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(smallest, labels, nodes)
        result = pa.table({"node": pa.array(nodes), "component": pa.array(smallest[labels])})
        self.register_arrow(output, result)

    def spanning_forest(self, edges: str, output: str) -> None:
        data = self.fetch_arrow(sql("SELECT node_a, node_b, rank FROM $t", t=exp.to_table(edges)))
        left = data.column("node_a").to_numpy().astype(np.int64)
        right = data.column("node_b").to_numpy().astype(np.int64)
        ranks = data.column("rank").to_numpy().astype(np.int64)
        nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
        count = len(nodes)
        # Weights are rank + 1 (a zero weight would mean "no edge"); ranks are unique, so
        # the minimum spanning forest is unique and equals Kruskal in rank order.
        graph = coo_matrix(
            (ranks.astype(np.float64) + 1.0, (inverse[: len(left)], inverse[len(left) :])),
            shape=(count, count),
        ).tocsr()
        forest = minimum_spanning_tree(graph).tocoo()
        kept = np.rint(forest.data).astype(np.int64) - 1
        self.register_arrow(output, pa.table({"rank": pa.array(np.sort(kept))}))

    def publish(self, schema: str, tables: dict[str, str], appends: dict[str, str]) -> None:
        delay = float(os.environ.get(PUBLISH_DELAY_VARIABLE, "0") or 0)
        target_schema = exp.to_identifier(schema, quoted=True).sql("duckdb")
        self._execute("BEGIN TRANSACTION")
        try:
            self._execute(f"CREATE SCHEMA IF NOT EXISTS {target_schema}")
            for target, work in tables.items():
                final = self.qualified(target, schema).sql("duckdb")
                if work in self._staged and schema == self.output_schema:
                    self._execute(f"DROP TABLE IF EXISTS {final}")
                    staged = self.qualified(STAGING_PREFIX + work, schema).sql("duckdb")
                    renamed = exp.to_identifier(target, quoted=True).sql("duckdb")
                    self._execute(f"ALTER TABLE {staged} RENAME TO {renamed}")
                else:
                    source = exp.to_identifier(work, quoted=True).sql("duckdb")
                    self._execute(f"CREATE OR REPLACE TABLE {final} AS SELECT * FROM {source}")
                if delay:
                    time.sleep(delay)
            for target, work in appends.items():
                final = self.qualified(target, schema).sql("duckdb")
                source = exp.to_identifier(work, quoted=True).sql("duckdb")
                self._execute(
                    f"CREATE TABLE IF NOT EXISTS {final} AS SELECT * FROM {source} LIMIT 0"
                )
                self._execute(f"INSERT INTO {final} BY NAME SELECT * FROM {source}")
            self._execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self._staged = set()
        self._execute("CHECKPOINT")

    def read_published(self, schema: str, name: str) -> str | None:
        if not self.exists(name, schema):
            return None
        view = f"prev_{name}"
        final = self.qualified(name, schema).sql("duckdb")
        self._execute(f'CREATE OR REPLACE TEMP VIEW "{view}" AS SELECT * FROM {final}')
        return view

    def relation(self, schema: str, name: str) -> duckdb.DuckDBPyRelation:
        return self.connection.table(self.qualified(name, schema).sql("duckdb"))

    def _drop_staged(self) -> None:
        """Remove the staging tables of a run that did not publish.

        Best effort: with the disk full even a drop can fail, and the next run's `begin_run`
        sweeps what is left.
        """
        if self.output_schema is None or not self._staged:
            return
        for name in sorted(self._staged):
            try:
                self.drop(STAGING_PREFIX + name, self.output_schema)
            except EngineError:
                return
        self._staged = set()
        try:
            self._execute("CHECKPOINT")
        except EngineError:
            return

    def close(self) -> None:
        """Close the connection, first dropping what an unfinished run staged."""
        self._drop_staged()
        self.connection.close()
