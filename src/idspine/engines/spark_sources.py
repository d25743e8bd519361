"""Reading a configured source on Spark: files (CSV as DuckDB reads it, Parquet), catalog
tables and queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from idspine.config.load import Source
from idspine.engines.spark_graph import Files
from idspine.errors import InputError, Problem
from idspine.sql.dialect import render

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

JAVA_CHARSETS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "latin-1": "ISO-8859-1"}


def source_frame(spark: SparkSession, files: Files, source: Source) -> DataFrame:
    if source.kind == "path":
        if not files.matches(source.location):
            raise InputError(
                [Problem(f"sources.{source.name}.path", f"file not found: {source.location}")]
            )
        if source.file_format == "csv":
            # RFC 4180 quoting, as DuckDB reads it; every column stays a string.
            options: dict[str, str | bool] = {
                "header": source.csv_header,
                "sep": source.csv_delimiter,
                "quote": '"',
                "escape": '"',
                "multiLine": True,
                "inferSchema": False,
                "encoding": JAVA_CHARSETS[source.csv_encoding],
            }
            frame = spark.read.options(**options).csv(source.location)
            if source.csv_header:
                return frame
            # DuckDB's names for headerless files: column0.. (zero-padded past ten).
            width = len(str(len(frame.columns) - 1))
            return frame.toDF(*[f"column{i:0{width}d}" for i in range(len(frame.columns))])
        return spark.read.parquet(source.location)
    if source.kind == "table":
        return spark.table(source.location)
    parsed = sqlglot.parse_one(source.location, read="duckdb")
    if not isinstance(parsed, exp.Query):
        raise InputError([Problem(f"sources.{source.name}.query", "must be a SELECT query")])
    return spark.sql(render(parsed, "spark"))
