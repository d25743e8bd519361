"""Splink jobs on the generator's data: deterministic (like for like) and probabilistic.

Both start from the four source files, concatenate them into one table with unique ids and
clean the columns with plain SQL (lower/trim emails; phones reduced to ``+`` and digits, a
leading ``00`` dropped and a national ``0`` read as ``33``; names lower-cased without
accents). The same junk guard as idspine's like-for-like config is applied beforehand: values
on idspine's default block lists, and values shared by more than ``MAX_GROUP_SIZE`` records,
become NULL.
Everything from reading the files to writing the clusters counts in the job's time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from idspine.stages.standardize import (
    COMMON_PATTERNS,
    COMMON_PLACEHOLDERS,
    EMAIL_PATTERNS,
    EMAIL_PLACEHOLDERS,
    PHONE_PATTERNS,
)

MAX_GROUP_SIZE = 50  # the like-for-like config's max_group_size
MATCH_PROBABILITY = 0.95  # probabilistic job: predict and cluster at this probability
EM_BLOCKING_COLUMNS = ("email", "phone")  # one EM session blocked on each
RANDOM_SAMPLING_PAIRS = 1e7
SEED = 42
CLUSTERS_FILE = "clusters.parquet"

# source -> (primary key, email column, phone column, first-name SQL, last-name SQL)
_SOURCES: dict[str, tuple[str, str, str | None, str, str | None]] = {
    "crm_contacts": ("contact_id", "Email", "Phone", "First", "Last"),
    "shop_customers": (
        "customer_id",
        "email_address",
        "mobile",
        "split_part(full_name, ' ', 1)",
        "split_part(full_name, ' ', -1)",
    ),
    "app_users": ("user_id", "email", "phone_number", "first_name", "last_name"),
    "newsletter_subscribers": ("subscriber_id", "email", None, "first_name", None),
}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _junk(column: str, values: tuple[str, ...], patterns: tuple[str, ...]) -> str:
    listed = ", ".join(_quote(v) for v in sorted(set(values)))
    matches = " OR ".join(f"regexp_matches({column}, {_quote(p)})" for p in patterns)
    return f"({column} IN ({listed}) OR {matches})"


def _records_sql(data_dir: Path) -> str:
    """One row per record of the four sources, with raw email, phone and names."""
    parts = []
    for source, (key, email, phone, first, last) in _SOURCES.items():
        path = _quote(str(data_dir / f"{source}.parquet"))
        parts.append(
            f"SELECT {_quote(source)} AS source, CAST({key} AS VARCHAR) AS record_key, "
            f"{email} AS email, {phone or 'NULL'} AS phone, "
            f"{first} AS first_name, {last or 'NULL'} AS last_name "
            f"FROM read_parquet({path})"
        )
    return " UNION ALL ".join(parts)


def _cleaned_sql(data_dir: Path) -> str:
    """Simple SQL cleaning, then the junk guard (block lists, values held by too many)."""
    email_junk = _junk(
        "email",
        (*COMMON_PLACEHOLDERS, *EMAIL_PLACEHOLDERS),
        (*COMMON_PATTERNS, *EMAIL_PATTERNS),
    )
    phone_junk = _junk("phone", COMMON_PLACEHOLDERS, (*COMMON_PATTERNS, *PHONE_PATTERNS))
    return f"""
    WITH raw AS ({_records_sql(data_dir)}),
    cleaned AS (
        SELECT source, record_key,
               nullif(lower(trim(email)), '') AS email,
               nullif(regexp_replace(replace(phone, '(0)', ''), '[^0-9]', '', 'g'), '') AS digits,
               nullif(lower(strip_accents(trim(first_name))), '') AS first_name,
               nullif(lower(strip_accents(trim(last_name))), '') AS last_name
        FROM raw
    ),
    national AS (
        SELECT * EXCLUDE (digits),
               '+' || CASE WHEN digits LIKE '00%' THEN substr(digits, 3)
                           WHEN digits LIKE '0%' THEN '33' || substr(digits, 2)
                           ELSE digits END AS phone
        FROM cleaned
    ),
    guarded AS (
        SELECT * REPLACE (
                   CASE WHEN {email_junk} THEN NULL ELSE email END AS email,
                   CASE WHEN {phone_junk} THEN NULL ELSE phone END AS phone)
        FROM national
    )
    SELECT row_number() OVER (ORDER BY source, record_key) AS unique_id, source, record_key,
           CASE WHEN count(*) OVER (PARTITION BY email) <= {MAX_GROUP_SIZE}
                THEN email END AS email,
           CASE WHEN count(*) OVER (PARTITION BY phone) <= {MAX_GROUP_SIZE}
                THEN phone END AS phone,
           first_name, last_name
    FROM guarded
    """


def _prepare(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    con.execute(f"CREATE TABLE records AS {_cleaned_sql(data_dir)}")


def _write_clusters(con: duckdb.DuckDBPyConnection, clusters: Any, path: Path) -> None:
    con.execute(
        f"COPY (SELECT source, record_key, cluster_id FROM {clusters.physical_name}) "
        f"TO {_quote(str(path))} (FORMAT parquet)"
    )


class _StageTimer:
    """Seconds per named stage of a job, and its wall time since the timer was made."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stages: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        mark = time.perf_counter()
        yield
        self.stages[name] = time.perf_counter() - mark

    def finish(self, con: duckdb.DuckDBPyConnection, pairs_table: str) -> dict[str, Any]:
        wall = time.perf_counter() - self.start
        n_pairs = con.execute(f"SELECT count(*) FROM {pairs_table}").fetchone()
        con.close()
        return {
            "wall_seconds": wall,
            "stages": self.stages,
            "pairs": n_pairs[0] if n_pairs else None,
        }


def _prepared(data_dir: Path) -> tuple[duckdb.DuckDBPyConnection, _StageTimer]:
    """An in-memory connection (like idspine's work tables) holding the prepared records."""
    con = duckdb.connect()
    timer = _StageTimer()
    with timer("prepare"):
        _prepare(con, data_dir)
    return con, timer


def _linker(con: duckdb.DuckDBPyConnection, settings: Any) -> Any:
    from splink import DuckDBAPI, Linker

    return Linker("records", settings, db_api=DuckDBAPI(connection=con))


def run_deterministic(data_dir: Path, work_dir: Path) -> dict[str, Any]:
    """``l.email = r.email`` OR ``l.phone = r.phone``, then connected components."""
    from splink import SettingsCreator, block_on

    con, timer = _prepared(data_dir)
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("email"), block_on("phone")],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = _linker(con, settings)
    with timer("deterministic_link"):
        pairs = linker.inference.deterministic_link()
    with timer("cluster"):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs)
    with timer("write"):
        _write_clusters(con, clusters, work_dir / CLUSTERS_FILE)
    return timer.finish(con, pairs.physical_name)


def _probabilistic_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("last_name", "first_name"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def run_probabilistic(data_dir: Path, work_dir: Path) -> dict[str, Any]:
    """A trained Fellegi-Sunter model: u by random sampling, m by EM, predict, cluster."""
    from splink import block_on

    con, timer = _prepared(data_dir)
    linker = _linker(con, _probabilistic_settings())
    with timer("train"):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("email"), block_on("phone")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=RANDOM_SAMPLING_PAIRS, seed=SEED)
        for column in EM_BLOCKING_COLUMNS:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(column))
    with timer("predict"):
        predictions = linker.inference.predict(threshold_match_probability=MATCH_PROBABILITY)
    with timer("cluster"):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=MATCH_PROBABILITY
        )
    with timer("write"):
        _write_clusters(con, clusters, work_dir / CLUSTERS_FILE)
    return timer.finish(con, predictions.physical_name)
