"""Stage 5 — stable profile ids (spec §5), carried over by set-based joins.

A profile keeps the id of the previous profile that gave it most records (ties: the older
id, then the smaller id). One previous id survives in at most one profile: the profile
holding most of its records (ties: the earliest founding record). Every other profile gets
a new id derived from the run's sequence number and its founding record (the smallest
(source, key)), so the same data and history give the same ids on every engine.

A retired id keeps one redirect row, recomputed on every run from the records it held when
it retired (`identity_retired_members`): it points at the live profile holding most of them
today, or at nothing (`removed`) when none remain. Recomputing, rather than patching the
previous target, keeps a redirect right after a later split moves its records elsewhere;
and since ids are never reused, a live id never appears as a retired one. A profile split
off a surviving id gets a new id and no redirect (the surviving id is still live); it is
counted in the run's `ids_split` metric.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.plan import Step
from idspine.sql.build import lit, sql, subquery

# Tables later stages read (the pipeline keeps these and releases the stage's others).
PROVIDES = ("profile_assignment", "id_changes")

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
EMPTY_RETIRED = (
    "SELECT CAST(NULL AS VARCHAR) AS old_profile_id, CAST(NULL AS VARCHAR) AS source, "
    "CAST(NULL AS VARCHAR) AS record_key, CAST(NULL AS BIGINT) AS retired_run WHERE false"
)


# Columns of identity_match besides the id column (see outputs.py).
MATCH_COLUMNS = ("source", "record_key", "status", "refused_merge", "over_limit")


def previous_id_column(columns: list[str], id_column: str) -> str:
    """The id column of the previous identity_match, read by what is there.

    After `output.id_column` is renamed, the previous run's ids sit under the old name: the
    one column that is not a fixed one. Reading it there keeps every id across the rename.
    """
    if id_column in columns:
        return id_column
    others = [c for c in columns if c not in MATCH_COLUMNS]
    return others[0] if len(others) == 1 else id_column


def _published(table: str | None, template: str, empty: str) -> exp.Expr:
    """A previous run's published table (`template` reads it as `$t`), or an empty one."""
    if table is None:
        return sql(empty)
    return sql(template, t=exp.to_table(table, quoted=True))


def plan_profile_ids(
    run_seq: int,
    run_id: str,
    previous_match: str | None,
    previous_registry: str | None,
    previous_redirects: str | None,
    previous_retired: str | None,
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
    return [
        Step(
            "previous_membership",
            sql("SELECT * FROM $q WHERE profile_id IS NOT NULL", q=subquery(previous, "p")),
        ),
        Step(
            "previous_registry",
            _published(
                previous_registry,
                "SELECT profile_id, created_run, retired_run FROM $t",
                EMPTY_REGISTRY,
            ),
        ),
        Step(
            "previous_redirects",
            _published(
                previous_redirects,
                "SELECT old_profile_id, profile_id, run_id, reason FROM $t",
                EMPTY_REDIRECTS,
            ),
        ),
        Step(
            "previous_retired_members",
            _published(
                previous_retired,
                "SELECT old_profile_id, source, record_key, retired_run FROM $t",
                EMPTY_RETIRED,
            ),
        ),
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
            "retired_members",
            sql(
                # State kept between runs: the records each retired id held when it retired,
                # so that its redirect can be recomputed against every later membership.
                "SELECT old_profile_id, source, record_key, retired_run "
                "FROM previous_retired_members "
                "UNION ALL SELECT p.profile_id, p.source, p.record_key, $seq "
                "FROM previous_membership AS p LEFT JOIN profile_assignment AS a "
                "ON a.profile_id = p.profile_id WHERE a.profile_id IS NULL",
                seq=lit(run_seq),
            ),
        ),
        Step(
            "retired_target",
            sql(
                # Where most of a retired id's records are today (ties: the older live id,
                # then the earliest founding record).
                "SELECT old_profile_id, profile_id FROM (SELECT o.old_profile_id, a.profile_id, "
                "row_number() OVER (PARTITION BY o.old_profile_id ORDER BY o.shared DESC, "
                "coalesce(g.created_run, $seq), f.founder_source, f.founder_key) AS position "
                "FROM (SELECT r.old_profile_id, m.cluster, count(*) AS shared "
                "FROM retired_members AS r JOIN membership AS m "
                "ON m.source = r.source AND m.record_key = r.record_key "
                "WHERE m.cluster IS NOT NULL GROUP BY r.old_profile_id, m.cluster) AS o "
                "JOIN profile_assignment AS a ON a.cluster = o.cluster "
                "JOIN founders AS f ON f.cluster = o.cluster "
                "LEFT JOIN previous_registry AS g ON g.profile_id = a.profile_id"
                ") WHERE position = 1",
                seq=lit(run_seq),
            ),
        ),
        Step(
            "profile_redirects",
            sql(
                "SELECT n.old_profile_id, n.profile_id, coalesce(r.run_id, $run) AS run_id, "
                "CASE WHEN n.profile_id IS NULL THEN 'removed' ELSE 'merged' END AS reason "
                "FROM (SELECT d.old_profile_id, t.profile_id FROM (SELECT DISTINCT "
                "old_profile_id FROM retired_members) AS d LEFT JOIN retired_target AS t "
                "ON t.old_profile_id = d.old_profile_id "
                # Redirects written before retired members were kept have no records to
                # recompute from: their target, live at the previous run, is followed one hop.
                "UNION ALL SELECT l.old_profile_id, coalesce(a.profile_id, t.profile_id) "
                "FROM previous_redirects AS l "
                "LEFT JOIN profile_assignment AS a ON a.profile_id = l.profile_id "
                "LEFT JOIN retired_target AS t ON t.old_profile_id = l.profile_id "
                "LEFT JOIN (SELECT DISTINCT old_profile_id FROM retired_members) AS k "
                "ON k.old_profile_id = l.old_profile_id "
                "LEFT JOIN profile_assignment AS live ON live.profile_id = l.old_profile_id "
                "WHERE l.reason <> 'split' AND k.old_profile_id IS NULL "
                "AND live.profile_id IS NULL) AS n "
                # A redirect keeps the run that retired its id.
                "LEFT JOIN (SELECT old_profile_id, run_id FROM previous_redirects "
                "WHERE reason <> 'split') AS r ON r.old_profile_id = n.old_profile_id",
                run=lit(run_id),
            ),
        ),
        Step(
            "id_changes",
            sql(
                # What this run did to the previous run's ids, for the ids_* metrics: ids
                # retired now (merged or removed), and new profiles split off an id kept
                # elsewhere (their records mostly came from it).
                "SELECT d.old_profile_id, t.profile_id, CASE WHEN t.profile_id IS NULL THEN "
                "'removed' ELSE 'merged' END AS reason FROM (SELECT DISTINCT old_profile_id "
                "FROM retired_members WHERE retired_run = $seq) AS d "
                "LEFT JOIN retired_target AS t ON t.old_profile_id = d.old_profile_id "
                "UNION ALL SELECT b.old_id, a.profile_id, 'split' FROM id_best_previous AS b "
                "JOIN profile_assignment AS a ON a.cluster = b.cluster WHERE a.is_new",
                seq=lit(run_seq),
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
