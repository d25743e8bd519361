"""Spark engine: the same plan on PySpark, from a laptop (local mode) to a cluster.

Work tables are temporary views. A materialized step is cut from its lineage: by default a
local checkpoint (executor storage, spilling to disk); with `checkpoint_dir` set, Parquet
files under it, which survive the loss of an executor. Outputs are Parquet directories under
`output.location`, published all at once (see `publish`). Only this module and
`spark_graph` import pyspark; `idspine.engines.open_engine` loads them on demand.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, functions
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.pandas.types import from_arrow_schema
from sqlglot import exp

from idspine.config.load import Config, Source
from idspine.engines import spark_graph
from idspine.engines.base import Engine
from idspine.engines.spark_sources import source_frame
from idspine.errors import EngineError, InputError, Problem, engine_detail
from idspine.plan import Step
from idspine.sql import names, udfs
from idspine.sql.dialect import render

# Settings of a session idspine creates; the `spark.conf` of the config overrides them.
SESSION_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
}
# PySpark 4 warns on pandas 3; idspine's UDFs only pass lists of str and float through it.
# Set on every session idspine runs on, shared or not: Spark 4's constraint propagation
# fails ("key not found") on a union over a checkpoint, which incremental runs splice with.
RUNTIME_SETTINGS = {"spark.sql.constraintPropagation.enabled": "false"}
PANDAS_WARNING = "PySpark does not yet fully support pandas"
COMMIT_MARKER = "_COMMITTED"
# Java's names of the CSV encodings the config accepts (config_checks.CSV_ENCODINGS).

ROUND_VIEW, FOREST_VIEW = "__idspine_round", "__idspine_forest_components"
# Set only by the crash-safety tests (as for DuckDB): seconds to wait between table writes.
PUBLISH_DELAY_VARIABLE = "IDSPINE_TEST_PUBLISH_DELAY"

# name -> (batch function over lists, Spark return type, number of arguments)
UDFS: dict[str, tuple[Callable[..., list[Any]], str, int]] = {
    "idspine_phone_e164": (udfs.phone_e164_many, "string", 2),
    "idspine_nfkc": (udfs.nfkc_many, "string", 1),
    "idspine_name_part": (names.name_part_many, "string", 2),
    "idspine_strip_accents": (udfs.strip_accents_many, "string", 1),
    "idspine_jaro_winkler": (udfs.jaro_winkler_many, "double", 2),
    "idspine_damerau_levenshtein": (udfs.damerau_levenshtein_many, "double", 2),
}


def _series_udf(function: Callable[..., list[Any]], return_type: str, arity: int) -> Any:
    dtype = "float64" if return_type == "double" else object

    def one(values: pd.Series) -> pd.Series:
        return pd.Series(function(values.tolist()), index=values.index, dtype=dtype)

    def two(left: pd.Series, right: pd.Series) -> pd.Series:
        return pd.Series(function(left.tolist(), right.tolist()), index=left.index, dtype=dtype)

    return pandas_udf(one if arity == 1 else two, return_type)  # type: ignore[call-overload]


@contextmanager
def _quiet_pandas() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
        yield


def _message(error: Exception) -> str:
    java = getattr(error, "java_exception", None)  # a Java error PySpark did not convert
    return engine_detail(str(error if java is None else java.toString())) or type(error).__name__


def _failed(error: Exception, text: str) -> EngineError:
    detail = _message(error)
    return EngineError(f"Spark failed: {detail}\n  while running: {text[:500]}", detail)


def build_session(
    master: str = "local[*]", app_name: str = "idspine", conf: dict[str, str] | None = None
) -> SparkSession:
    """A new SparkSession for idspine, or the active one (which may be shared: only the SQL
    settings of `conf` that can change at run time are applied to it)."""
    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in {**RUNTIME_SETTINGS, **(conf or {})}.items():
            if active.conf.isModifiable(key):
                active.conf.set(key, value)
        return active
    if master.startswith("local"):
        # Local Python workers must run this interpreter, where idspine is installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**SESSION_DEFAULTS, **RUNTIME_SETTINGS, **(conf or {})}.items():
        builder = builder.config(key, value)
    with _quiet_pandas():
        return builder.getOrCreate()


class SparkEngine(Engine):
    """Runs the plan on a SparkSession (the Python API may pass its own session)."""

    name = "spark"

    def __init__(
        self,
        spark: SparkSession | None = None,
        *,
        location: str = "idspine.spark",
        checkpoint_dir: str | None = None,
    ) -> None:
        self.spark = spark or build_session()
        self.location = location.rstrip("/")
        self.work_dir = (
            f"{checkpoint_dir.rstrip('/')}/idspine-{uuid.uuid4().hex[:12]}"
            if checkpoint_dir
            else None
        )
        self.last_cc_iterations = 0  # rounds of the last connected-components call
        self._frames: dict[str, tuple[DataFrame, str | None]] = {}  # view -> rows, work path
        self._views: set[str] = set()  # every temporary view this engine made
        self._writes = 0
        self._components: tuple[str, DataFrame] | None = None
        self._files: spark_graph.Files | None = None
        with _quiet_pandas():
            for name, (function, return_type, arity) in UDFS.items():
                self.spark.udf.register(name, _series_udf(function, return_type, arity))

    @classmethod
    def from_config(cls, config: Config) -> SparkEngine:
        options: dict[str, Any] = config.engine_options
        session = build_session(
            options.get("master") or "local[*]",
            options.get("app_name") or "idspine",
            options.get("conf"),
        )
        location = config.output.location or f"{config.output.database}.spark"
        return cls(session, location=location, checkpoint_dir=options.get("checkpoint_dir"))

    @property
    def files(self) -> spark_graph.Files:
        if self._files is None:
            self._files = spark_graph.Files(self.spark)
        return self._files

    # -- running SQL ------------------------------------------------------------------------

    def _sql(self, text: str) -> DataFrame:
        try:
            return self.spark.sql(text)
        except Exception as exc:
            raise _failed(exc, text) from exc

    def _materialize(self, frame: DataFrame, label: str) -> tuple[DataFrame, str | None]:
        """The frame's rows, computed once and cut from their lineage (and their work path)."""
        try:
            with _quiet_pandas():
                return self._compute(frame, label)
        except Exception as exc:
            raise EngineError(f"Spark failed while computing {label}: {_message(exc)}") from exc

    def _compute(self, frame: DataFrame, label: str) -> tuple[DataFrame, str | None]:
        if self.work_dir is None:
            # Fresh column ids over the checkpoint: Spark 4 cannot re-instantiate a checkpoint
            # whose kept partitioning names a column shared with another checkpoint (a union
            # of two of them fails with "key not found").
            checkpoint = frame.localCheckpoint(eager=True)
            columns = [functions.col(f"`{c}`").alias(c) for c in checkpoint.columns]
            return checkpoint.select(*columns), None
        self._writes += 1
        path = f"{self.work_dir}/{label}-{self._writes}"
        frame.write.parquet(path)
        return self.spark.read.parquet(path), path

    def _checkpoint(self, frame: DataFrame) -> DataFrame:
        """One round of an iterative algorithm; keeping it releases the round before."""
        return self._keep(ROUND_VIEW, *self._materialize(frame, "round"))

    def _keep(self, name: str, frame: DataFrame, path: str | None) -> DataFrame:
        self._forget(name)
        self._frames[name] = (frame, path)
        self._views.add(name)
        frame.createOrReplaceTempView(name)
        return frame

    def _forget(self, name: str) -> None:
        _, path = self._frames.pop(name, (None, None))
        if path is not None:
            self.files.delete(path)

    def _bind(self, tree: exp.Expr) -> exp.Expr:
        """Point `schema.table` references at views over the published Parquet tables."""
        if not any(t.db and not t.catalog for t in tree.find_all(exp.Table)):
            return tree
        tree = tree.copy()
        for table in list(tree.find_all(exp.Table)):
            if table.db and not table.catalog:
                view = self._published_view(
                    table.db, table.name, f"__published_{table.db}_{table.name}"
                )
                if view is not None:
                    table.set("db", None)
                    table.set("this", exp.to_identifier(view, quoted=True))
        return tree

    def _run(self, step: Step) -> None:
        text = render(self._bind(step.query), "spark")
        if step.materialize:
            self._keep(step.name, *self._materialize(self._sql(text), step.name))
            return
        self._forget(step.name)
        target = exp.to_identifier(step.name, quoted=True).sql("spark")
        self._sql(f"CREATE OR REPLACE TEMPORARY VIEW {target} AS {text}")
        self._views.add(step.name)

    def fetch_arrow(self, query: exp.Expr) -> pa.Table:
        text = render(self._bind(query), "spark")
        try:
            with _quiet_pandas():
                return self.spark.sql(text).toArrow()
        except Exception as exc:
            raise _failed(exc, text) from exc

    def register_arrow(self, name: str, data: pa.Table) -> None:
        # An explicit schema keeps naive timestamps naive (TIMESTAMP_NTZ), as in DuckDB.
        with _quiet_pandas():
            frame = self.spark.createDataFrame(data, schema=from_arrow_schema(data.schema))
        self._keep(name, frame, None)

    def exists(self, name: str, schema: str | None = None) -> bool:
        if schema is None:
            return bool(self.spark.catalog.tableExists(name))
        self._recover(schema)
        return self.files.exists(f"{self._current(schema)}/{name}")

    def drop(self, name: str, schema: str | None = None) -> None:
        if schema is not None:
            self._recover(schema)
            self.files.delete(f"{self._current(schema)}/{name}")
            return
        self._forget(name)
        self._views.discard(name)
        self.spark.catalog.dropTempView(name)

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(exp.to_identifier(name, quoted=True).sql("spark")).columns)

    # -- sources ------------------------------------------------------------------------------

    def register_source(self, source: Source, name: str) -> None:
        path = f"sources.{source.name}.{source.kind}"
        try:
            frame = source_frame(self.spark, self.files, source)
            frame.schema  # noqa: B018 - resolves the source now, so errors surface here
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                [Problem(path, f"cannot read {source.location!r}: {_message(exc)}")]
            ) from None
        self._keep(name, frame, None)

    # -- graph primitives ---------------------------------------------------------------------

    def connected_components(self, edges: str, output: str) -> None:
        frame = self.spark.table(edges)
        labels, rounds = spark_graph.connected_components(frame, self._checkpoint)
        self.last_cc_iterations = rounds
        result = self._keep(output, *self._materialize(labels, output))
        self._components = (output, result)
        self.drop(ROUND_VIEW)

    def spanning_forest(self, edges: str, output: str) -> None:
        frame = self.spark.table(edges)
        components = None
        if self._components is not None:
            name, labels = self._components
            if self._frames.get(name, (None, None))[0] is labels and spark_graph.labels_cover(
                frame, labels
            ):
                components = labels
        if components is None:
            labels, self.last_cc_iterations = spark_graph.connected_components(
                frame, self._checkpoint
            )
            components = self._keep(FOREST_VIEW, *self._materialize(labels, "components"))
        with _quiet_pandas():
            forest = spark_graph.spanning_forest(frame, components)
            self._keep(output, *self._materialize(forest, output))
        self.drop(ROUND_VIEW)
        self.drop(FOREST_VIEW)

    # -- published tables ---------------------------------------------------------------------

    def _current(self, schema: str) -> str:
        return f"{self.location}/{schema}/current"

    def _recover(self, schema: str) -> None:
        """Finish a committed publish, or discard an uncommitted one (after a crash)."""
        root = f"{self.location}/{schema}"
        current, staging, previous = f"{root}/current", f"{root}/_staging", f"{root}/_previous"
        if self.files.exists(f"{staging}/{COMMIT_MARKER}"):
            self._swap(schema)
        elif self.files.exists(staging):
            self.files.delete(staging)
        if self.files.exists(previous):
            if self.files.exists(current):
                self.files.delete(previous)
            else:
                self.files.rename(previous, current)

    def _swap(self, schema: str) -> None:
        """Make the committed staging directory current; each step can be redone."""
        root = f"{self.location}/{schema}"
        current, staging, previous = f"{root}/current", f"{root}/_staging", f"{root}/_previous"
        if self.files.exists(current):
            for name in self.files.children(current):
                if name[:1] not in "_." and not self.files.exists(f"{staging}/{name}"):
                    self.files.rename(f"{current}/{name}", f"{staging}/{name}")
            self.files.delete(previous)
            self.files.rename(current, previous)
        self.files.rename(staging, current)
        self.files.delete(previous)
        self.files.delete(f"{current}/{COMMIT_MARKER}")

    def publish(self, schema: str, tables: dict[str, str], appends: dict[str, str]) -> None:
        """Write every table to a staging directory, commit, then swap it in.

        The commit point is one marker file written after every table: a publish interrupted
        before it leaves the current tables untouched (the staging directory is discarded
        on the next access); one interrupted after it is finished on the next access.
        """
        delay = float(os.environ.get(PUBLISH_DELAY_VARIABLE, "0") or 0)
        self._recover(schema)
        staging = f"{self.location}/{schema}/_staging"
        current = self._current(schema)
        try:
            for target, work in tables.items():
                self._write(self.spark.table(work), f"{staging}/{target}")
                if delay:
                    time.sleep(delay)
            for target, work in appends.items():
                frame = self.spark.table(work)
                if self.files.exists(f"{current}/{target}"):
                    frame = self.spark.read.parquet(f"{current}/{target}").unionByName(
                        frame, allowMissingColumns=True
                    )
                self._write(frame, f"{staging}/{target}")
            self.files.touch(f"{staging}/{COMMIT_MARKER}")
        except BaseException:
            self.files.delete(staging)
            raise
        self._swap(schema)

    def _write(self, frame: DataFrame, path: str) -> None:
        try:
            frame.write.mode("overwrite").parquet(path)
        except Exception as exc:
            raise EngineError(f"Spark failed writing {path}: {_message(exc)}") from exc

    def _published_view(self, schema: str, name: str, view: str) -> str | None:
        self._recover(schema)
        path = f"{self._current(schema)}/{name}"
        if not self.files.exists(path):
            return None
        self._keep(view, self.spark.read.parquet(path), None)
        return view

    def read_published(self, schema: str, name: str) -> str | None:
        return self._published_view(schema, name, f"prev_{name}")

    def relation(self, schema: str, name: str) -> DataFrame:
        self._recover(schema)
        return self.spark.read.parquet(f"{self._current(schema)}/{name}")

    def close(self) -> None:
        """Drop this engine's views and work files; the session stays for its other users."""
        for name in sorted(self._views):
            self._forget(name)
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        self._components = None
        if self.work_dir is not None:
            self.files.delete(self.work_dir)
