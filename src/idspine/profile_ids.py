"""Stage 5 — stable profile ids (spec §5), carried over by set-based joins.

A profile keeps the id of the previous profile that gave it most records (ties: the older
id, then the smaller id). One previous id survives in at most one profile: the profile
holding most of its records (ties: the earliest founding record). Every other profile gets
a new id derived from the run's sequence number and its founding record (the smallest
(source, key)), so the same data and history give the same ids on every engine.
Retired ids are redirected to the profile holding most of their records.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.engines.base import Step
from idspine.sqlbuild import lit, sql, subquery

EMPTY_PREVIOUS = (
    "SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS record_key, "
    "CAST(NULL AS VARCHAR) AS profile_id WHERE false"
)
EMPTY_REGISTRY = (
    "SELECT CAST(NULL AS VARCHAR) AS profile_id, CAST(NULL AS BIGINT) AS created_run, "
    "CAST(NULL AS BIGINT) AS retired_run WHERE false"
)
EMPTY_REDIRECTS = (
    "SELECT CAST(NULL AS VARCHAR) AS old_profile_id, CAST(NULL AS VARCHAR) AS profile_id, "
    "CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS VARCHAR) AS reason WHERE false"
)


def plan_profile_ids(
    run_seq: int,
    run_id: str,
    previous_match: str | None,
    previous_registry: str | None,
    previous_redirects: str | None,
    id_column: str,
) -> list[Step]:
    previous = (
        sql(
            "SELECT source, record_key, $id AS profile_id FROM $t",
            id=exp.column(id_column, quoted=True),
            t=exp.to_table(previous_match, quoted=True),
        )
        if previous_match
        else sql(EMPTY_PREVIOUS)
    )
    registry = (
        sql(
            "SELECT profile_id, created_run, retired_run FROM $t",
            t=exp.to_table(previous_registry, quoted=True),
        )
        if previous_registry
        else sql(EMPTY_REGISTRY)
    )
    redirects = (
        sql(
            "SELECT old_profile_id, profile_id, run_id, reason FROM $t",
            t=exp.to_table(previous_redirects, quoted=True),
        )
        if previous_redirects
        else sql(EMPTY_REDIRECTS)
    )
    return [
        Step(
            "previous_membership",
            sql("SELECT * FROM $q WHERE profile_id IS NOT NULL", q=subquery(previous, "p")),
        ),
        Step("previous_registry", registry),
        Step(
            "founders",
            sql(
                "SELECT cluster, source AS founder_source, record_key AS founder_key FROM ("
                "SELECT cluster, source, record_key, row_number() OVER (PARTITION BY cluster "
                "ORDER BY source, record_key) AS position FROM membership "
                "WHERE cluster IS NOT NULL) WHERE position = 1"
            ),
        ),
        Step(
            "id_overlap",
            sql(
                "SELECT m.cluster, p.profile_id AS old_id, count(*) AS shared FROM membership AS m "
                "JOIN previous_membership AS p "
                "ON p.source = m.source AND p.record_key = m.record_key"
                " WHERE m.cluster IS NOT NULL GROUP BY m.cluster, p.profile_id"
            ),
        ),
        Step(
            "id_best_previous",
            sql(
                "SELECT cluster, old_id, shared FROM (SELECT o.cluster, o.old_id, o.shared, "
                "row_number() OVER (PARTITION BY o.cluster ORDER BY o.shared DESC, "
                "coalesce(g.created_run, 0), o.old_id) AS position FROM id_overlap AS o "
                "LEFT JOIN previous_registry AS g ON g.profile_id = o.old_id) WHERE position = 1"
            ),
        ),
        Step(
            "id_kept",
            sql(
                "SELECT cluster, old_id FROM (SELECT b.cluster, b.old_id, row_number() OVER ("
                "PARTITION BY b.old_id ORDER BY b.shared DESC, f.founder_source, f.founder_key) "
                "AS position FROM id_best_previous AS b "
                "JOIN founders AS f ON f.cluster = b.cluster)"
                " WHERE position = 1"
            ),
        ),
        Step(
            "profile_assignment",
            sql(
                "SELECT f.cluster, coalesce(k.old_id, 'p' || left(md5(CAST($seq AS VARCHAR) || "
                "chr(31) || f.founder_source || chr(31) || f.founder_key), 15)) AS profile_id, "
                "k.old_id IS NULL AS is_new FROM founders AS f LEFT JOIN id_kept AS k "
                "ON k.cluster = f.cluster",
                seq=lit(run_seq),
            ),
        ),
        Step(
            "new_redirects",
            sql(
                # Retired: a previous id no profile kept -> where most of its records went.
                "SELECT old_id AS old_profile_id, profile_id, $run AS run_id, reason FROM ("
                "SELECT p.old_id, a.profile_id, CASE WHEN a.profile_id IS NULL THEN 'removed' "
                "ELSE 'merged' END AS reason, row_number() OVER (PARTITION BY p.old_id ORDER BY "
                "o.shared DESC NULLS LAST, f.founder_source, f.founder_key) AS position FROM "
                "(SELECT DISTINCT profile_id AS old_id FROM previous_membership) AS p "
                "LEFT JOIN id_overlap AS o ON o.old_id = p.old_id "
                "LEFT JOIN profile_assignment AS a ON a.cluster = o.cluster "
                "LEFT JOIN founders AS f ON f.cluster = o.cluster "
                "WHERE p.old_id NOT IN (SELECT profile_id FROM profile_assignment)"
                ") WHERE position = 1 "
                # Split: a new profile whose records mostly came from an id kept elsewhere.
                "UNION ALL SELECT b.old_id, a.profile_id, $run, 'split' FROM id_best_previous AS b "
                "JOIN profile_assignment AS a ON a.cluster = b.cluster WHERE a.is_new",
                run=lit(run_id),
            ),
        ),
        Step(
            "profile_redirects",
            sql(
                # Earlier redirects that pointed at an id retired now follow it to its new home.
                "SELECT r.old_profile_id, coalesce(n.profile_id, r.profile_id) AS profile_id, "
                "r.run_id, r.reason FROM $old LEFT JOIN new_redirects AS n "
                "ON n.old_profile_id = r.profile_id AND n.reason <> 'split' "
                "UNION ALL SELECT old_profile_id, profile_id, run_id, reason FROM new_redirects",
                old=subquery(redirects, "r"),
            ),
        ),
        Step(
            "profile_registry",
            sql(
                "SELECT g.profile_id, g.created_run, coalesce(g.retired_run, CASE WHEN "
                "a.profile_id IS NULL AND g.profile_id IN (SELECT profile_id FROM "
                "previous_membership) THEN $seq END) AS retired_run FROM previous_registry AS g "
                "LEFT JOIN profile_assignment AS a ON a.profile_id = g.profile_id "
                "UNION ALL SELECT profile_id, $seq, CAST(NULL AS BIGINT) FROM profile_assignment "
                "WHERE is_new",
                seq=lit(run_seq),
            ),
        ),
    ]
