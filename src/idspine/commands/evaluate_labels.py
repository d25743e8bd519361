"""Label files for `idspine evaluate`: read a CSV or Parquet file, recognise its shape, check it.

Two shapes are accepted, told apart by their columns:

* clusters: ``source, record_key, entity`` — every labelled record with its true entity id;
* pairs: ``left_source, left_key, right_source, right_key, is_match`` — judged record pairs,
  ``is_match`` a boolean, ``0``/``1`` or ``true``/``false``.

Keys and entity ids are compared as text, so a key read as a number from a CSV still meets
the published ``record_key``. Every problem names the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from idspine.errors import InputError, Problem

__all__ = ["CLUSTER_COLUMNS", "PAIR_COLUMNS", "Labels", "read_labels"]

CLUSTER_COLUMNS = ("source", "record_key", "entity")
PAIR_COLUMNS = ("left_source", "left_key", "right_source", "right_key", "is_match")
_TEXT_COLUMNS = (*CLUSTER_COLUMNS, *PAIR_COLUMNS[:4])
PARQUET_SUFFIXES = (".parquet", ".pq")
_TRUE, _FALSE = ("true", "1", "t", "yes"), ("false", "0", "f", "no")


@dataclass(frozen=True)
class Labels:
    """A checked label file: ``table`` holds the shape's columns, keys as text and
    ``is_match`` as a boolean."""

    path: Path
    kind: Literal["clusters", "pairs"]
    table: pa.Table


def _problem(path: Path, message: str, hint: str | None = None) -> InputError:
    return InputError([Problem(str(path), message, hint)])


def _read(path: Path) -> pa.Table:
    if not path.is_file():
        raise _problem(path, "no such file")
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return pq.read_table(path)
        # Keys stay text: "007" must not become 7 before it meets the published record_key.
        options = pacsv.ConvertOptions(column_types=dict.fromkeys(_TEXT_COLUMNS, pa.string()))
        return pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowException, OSError) as exc:
        raise _problem(path, f"cannot be read: {exc}", "a CSV with a header, or Parquet") from None


def _kind(path: Path, columns: list[str]) -> Literal["clusters", "pairs"]:
    if "entity" in columns or not any(c in columns for c in PAIR_COLUMNS):
        kind: Literal["clusters", "pairs"] = "clusters"
        required: tuple[str, ...] = CLUSTER_COLUMNS
    else:
        kind, required = "pairs", PAIR_COLUMNS
    missing = [c for c in required if c not in columns]
    if missing:
        raise _problem(
            path,
            f"missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'})",
            f"clusters: {', '.join(CLUSTER_COLUMNS)}; or pairs: {', '.join(PAIR_COLUMNS)}",
        )
    return kind


def _as_text(path: Path, table: pa.Table, column: str) -> pa.ChunkedArray:
    values = table.column(column)
    if values.null_count:
        raise _problem(path, f"column {column}: {values.null_count} empty value(s)")
    try:
        text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    except pa.ArrowException:
        raise _problem(
            path, f"column {column}: values of type {values.type} are not keys"
        ) from None
    empty = pc.sum(pc.equal(text, "")).as_py() or 0
    if empty:
        raise _problem(path, f"column {column}: {empty} empty value(s)")
    return text


def _as_bool(path: Path, values: pa.ChunkedArray) -> pa.ChunkedArray:
    if values.null_count:
        raise _problem(path, f"column is_match: {values.null_count} empty value(s)")
    if pa.types.is_boolean(values.type):
        return values
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    known = pc.is_in(text, pa.array(_TRUE + _FALSE))
    if not pc.all(known).as_py():
        bad = text.filter(pc.invert(known))[0].as_py()
        raise _problem(path, f"column is_match: {bad!r} is not a boolean", "use true/false or 1/0")
    return pc.is_in(text, pa.array(_TRUE))


def _duplicates(table: pa.Table, keys: list[str]) -> tuple[int, str]:
    """How many rows repeat an earlier key, and one repeated key as text."""
    counts = table.group_by(keys).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts.column("count_all"), 1))
    if repeated.num_rows == 0:
        return 0, ""
    extra = pc.sum(pc.subtract(repeated.column("count_all"), 1)).as_py()
    first = repeated.slice(0, 1).to_pylist()[0]
    return int(extra), ":".join(str(first[k]) for k in keys)


def _check_clusters(path: Path, table: pa.Table) -> pa.Table:
    checked = pa.table({c: _as_text(path, table, c) for c in CLUSTER_COLUMNS})
    count, example = _duplicates(checked, ["source", "record_key"])
    if count:
        raise _problem(
            path,
            f"columns source, record_key: {count} duplicate record(s), e.g. {example}",
            "each record belongs to one entity: list it once",
        )
    return checked


def _check_pairs(path: Path, table: pa.Table) -> pa.Table:
    text = {c: _as_text(path, table, c) for c in PAIR_COLUMNS[:4]}
    # One orientation per pair (the smaller record first) so that a~b and b~a are one pair.
    swap = pc.or_(
        pc.greater(text["left_source"], text["right_source"]),
        pc.and_(
            pc.equal(text["left_source"], text["right_source"]),
            pc.greater(text["left_key"], text["right_key"]),
        ),
    )
    same = pc.and_(
        pc.equal(text["left_source"], text["right_source"]),
        pc.equal(text["left_key"], text["right_key"]),
    )
    if pc.any(same).as_py():
        raise _problem(path, "columns left_*, right_*: a record is paired with itself")
    checked = pa.table(
        {
            "left_source": pc.if_else(swap, text["right_source"], text["left_source"]),
            "left_key": pc.if_else(swap, text["right_key"], text["left_key"]),
            "right_source": pc.if_else(swap, text["left_source"], text["right_source"]),
            "right_key": pc.if_else(swap, text["left_key"], text["right_key"]),
            "is_match": _as_bool(path, table.column("is_match")),
        }
    )
    count, example = _duplicates(checked, list(PAIR_COLUMNS[:4]))
    if count:
        raise _problem(
            path,
            f"columns left_*, right_*: {count} duplicate pair(s), e.g. {example}",
            "judge each pair once (a~b and b~a are the same pair)",
        )
    return checked


def read_labels(path: Path) -> Labels:
    """Read and check a label file; raises InputError naming the file and column."""
    table = _read(path)
    kind = _kind(path, table.column_names)
    if table.num_rows == 0:
        raise _problem(path, "no labels (the file has a header only)")
    checked = _check_clusters(path, table) if kind == "clusters" else _check_pairs(path, table)
    return Labels(path=path, kind=kind, table=checked)
