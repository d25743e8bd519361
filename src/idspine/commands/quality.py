"""Quality of a clustering against ground truth, from contingency counts only.

Pairwise and B-cubed metrics are derived from n_cp (records of person p in cluster c), the
cluster sizes and the person sizes, so no record pair is ever enumerated:

* TP = Σ C(n_cp, 2), predicted pairs = Σ C(size_c, 2), true pairs = Σ C(size_p, 2)
* B-cubed precision = (1/N) Σ n_cp² / size_c, recall = (1/N) Σ n_cp² / size_p
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from idspine.errors import InputError, Problem

__all__ = ["QualityScores", "score_clusters"]

_KEYS = ("source", "record_key")


@dataclass(frozen=True)
class QualityScores:
    """Scores of a predicted clustering; ratios are 1.0 when their denominator is empty."""

    n_records: int
    n_persons: int
    n_clusters: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    over_merged_clusters: int
    split_persons: int
    largest_cluster: int

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 1.0


def _check_columns(table: pa.Table, name: str, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise InputError(
            [
                Problem(
                    name,
                    f"missing column(s) {', '.join(missing)}",
                    f"expected columns {', '.join(required)}",
                )
            ]
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    if row is None:  # aggregate queries always return one row
        raise RuntimeError(f"query returned no row: {sql}")
    return tuple(row)


def _check_truth(con: duckdb.DuckDBPyConnection, truth: pa.Table) -> None:
    """Null keys or person ids, and duplicate keys (64-bit hashes sorted first; the exact
    string comparison only runs if two hashes are equal)."""
    problems = []
    for column in (*_KEYS, "person_id"):
        nulls = truth.column(column).null_count
        if nulls:
            problems.append(Problem(f"truth.{column}", f"{nulls} null values"))
    hashes = np.sort(con.execute("SELECT hash(source, record_key) AS h FROM t").fetchnumpy()["h"])
    if np.any(hashes[1:] == hashes[:-1]):
        (dups,) = _one(
            con,
            "SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM t "
            "GROUP BY source, record_key HAVING count(*) > 1)",
        )
        if dups:
            problems.append(Problem("truth", f"{dups} duplicate (source, record_key) keys"))
    if problems:
        raise InputError(problems)


# Contingency table: one row per (cluster, person) with its record count. Records whose
# cluster id is null (unresolved, or absent from predicted) share the row (NULL, person)
# but each counts as a singleton cluster.
_STEPS = (
    """CREATE TEMP TABLE j AS
       SELECT p.cluster_id AS cid, t.person_id AS person
       FROM t LEFT JOIN p ON t.source = p.source AND t.record_key = p.record_key""",
    "CREATE TEMP TABLE cells AS SELECT cid, person, count(*)::BIGINT AS n FROM j GROUP BY ALL",
    """CREATE TEMP TABLE clusters AS
       SELECT sum(n) AS size, count(*) AS persons, sum(n * n) AS sq
       FROM cells WHERE cid IS NOT NULL GROUP BY cid""",
    """CREATE TEMP TABLE people AS
       SELECT sum(n) AS size,
              coalesce(sum(n) FILTER (WHERE cid IS NULL), 0) AS singles,
              count(*) FILTER (WHERE cid IS NOT NULL) AS cells,
              coalesce(sum(n * n) FILTER (WHERE cid IS NOT NULL), 0) AS sq
       FROM cells GROUP BY person""",
)
_SCORE_SQL = """
SELECT
    (SELECT coalesce(sum(n), 0)::BIGINT FROM cells),
    (SELECT coalesce(sum(n * (n - 1) // 2) FILTER (WHERE cid IS NOT NULL), 0)::BIGINT FROM cells),
    (SELECT coalesce(sum(size * (size - 1) // 2), 0)::BIGINT FROM clusters),
    (SELECT count(*) FROM clusters),
    (SELECT coalesce(max(size), 0)::BIGINT FROM clusters),
    (SELECT count(*) FILTER (WHERE persons > 1) FROM clusters),
    (SELECT coalesce(sum(singles), 0)::BIGINT FROM people),
    (SELECT coalesce(sum(size * (size - 1) // 2), 0)::BIGINT FROM people),
    (SELECT count(*) FROM people),
    (SELECT count(*) FILTER (WHERE cells + singles > 1) FROM people)
"""
# B-cubed sums as exact integer sums per group size: a float sum over clusters would depend
# on the order DuckDB's threads add them, and so would the last digit of the score.
_BCUBED_PRECISION_SQL = "SELECT size, sum(sq) FROM clusters GROUP BY size"
_BCUBED_RECALL_SQL = "SELECT size, sum(sq + singles) FROM people GROUP BY size"


def _sum_over_sizes(con: duckdb.DuckDBPyConnection, query: str) -> float:
    """Σ numerator / size from (size, integer numerator) rows, correctly rounded."""
    return math.fsum(int(total) / int(size) for size, total in con.execute(query).fetchall())


def score_clusters(predicted: pa.Table, truth: pa.Table) -> QualityScores:
    """Score ``predicted`` (``source``, ``record_key``, ``cluster_id``) against ``truth``
    (``source``, ``record_key``, ``person_id``).

    Every truth record is scored: a null ``cluster_id`` or a record absent from ``predicted``
    counts as its own singleton cluster; predicted records absent from the truth are ignored.
    Keys must be unique on both sides. Runs in seconds on 10M records (duckdb, no pairs).
    """
    _check_columns(predicted, "predicted", (*_KEYS, "cluster_id"))
    _check_columns(truth, "truth", (*_KEYS, "person_id"))
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("p_in", predicted.select([*_KEYS, "cluster_id"]))
        con.register("t_in", truth.select([*_KEYS, "person_id"]))
        con.execute(
            "CREATE TEMP VIEW p AS SELECT CAST(source AS VARCHAR) AS source, "
            "CAST(record_key AS VARCHAR) AS record_key, CAST(cluster_id AS VARCHAR) AS cluster_id "
            "FROM p_in"
        )
        con.execute(
            "CREATE TEMP VIEW t AS SELECT CAST(source AS VARCHAR) AS source, "
            "CAST(record_key AS VARCHAR) AS record_key, person_id FROM t_in"
        )
        _check_truth(con, truth)
        for step in _STEPS:
            con.execute(step)
        row = _one(con, _SCORE_SQL)
        b3_p_sum = _sum_over_sizes(con, _BCUBED_PRECISION_SQL)
        b3_r_sum = _sum_over_sizes(con, _BCUBED_RECALL_SQL)
    finally:
        con.close()

    (n_joined, tp, pred_pairs, n_multi, largest_multi, over_merged, n_null) = row[:7]
    (true_pairs, n_persons, split) = row[7:]
    n_records = truth.num_rows
    if n_joined != n_records:
        raise InputError(
            [Problem("predicted", f"{n_joined - n_records} duplicate (source, record_key) keys")]
        )
    precision = _ratio(tp, pred_pairs)
    recall = _ratio(tp, true_pairs)
    b3_precision = _ratio(b3_p_sum + n_null, n_records)
    b3_recall = _ratio(b3_r_sum, n_records)
    return QualityScores(
        n_records=int(n_records),
        n_persons=int(n_persons),
        n_clusters=int(n_multi + n_null),
        pairwise_precision=float(precision),
        pairwise_recall=float(recall),
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=float(b3_precision),
        bcubed_recall=float(b3_recall),
        bcubed_f1=_f1(b3_precision, b3_recall),
        true_positive_pairs=int(tp),
        predicted_pairs=int(pred_pairs),
        true_pairs=int(true_pairs),
        over_merged_clusters=int(over_merged),
        split_persons=int(split),
        largest_cluster=int(max(largest_multi, 1 if n_null else 0)),
    )
