"""Stage 7b (incremental runs) — outputs spliced: the last run's rows outside the region,
this run's rows inside it.

Outside the region nothing a row depends on has changed (see `region.py`), so the last
run's row is the full run's row: a profile kept whole keeps its id, its golden record and
its pairs. Tables per record or per profile that are cheap to rebuild (identity_match,
identity_lookup, identity_matched_ids…) are rebuilt whole from the full membership instead.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.plan import Step
from idspine.sql.build import sql


def _table(name: str, alias: str) -> exp.Expr:
    return exp.to_table(name, quoted=True).as_(alias)


def plan_kept_membership(previous_match: str, previous_unresolved: str, id_column: str) -> Step:
    """`kept_membership`: the records outside the region, as the last run placed them. A
    kept profile is labelled by its smallest record id, as clustering labels a profile."""
    return Step(
        "kept_membership",
        sql(
            "SELECT r.record_id, r.source, r.record_key, r.order_ts, CASE WHEN $mid IS NULL "
            "THEN NULL ELSE min(r.record_id) OVER (PARTITION BY $mid2) END AS cluster, "
            "m.status, m.refused_merge, m.over_limit, u.detail FROM all_records AS r "
            "JOIN $pm ON m.source = r.source AND m.record_key = r.record_key "
            "LEFT JOIN $pu ON u.source = r.source AND u.record_key = r.record_key "
            "LEFT JOIN region_ids AS i ON i.record_id = r.record_id WHERE i.record_id IS NULL",
            mid=exp.column(id_column, "m", quoted=True),
            mid2=exp.column(id_column, "m", quoted=True),
            pm=_table(previous_match, "m"),
            pu=_table(previous_unresolved, "u"),
        ),
    )


def plan_whole_membership() -> Step:
    return Step(
        "membership",
        sql(
            "SELECT record_id, source, record_key, order_ts, cluster, status, refused_merge, "
            "over_limit, detail FROM region_membership UNION ALL "
            "SELECT record_id, source, record_key, order_ts, cluster, status, refused_merge, "
            "over_limit, detail FROM kept_membership"
        ),
    )


def plan_region_old_ids(previous_match: str, id_column: str) -> Step:
    """The last run's profile ids of the region's records: their rows are replaced."""
    return Step(
        "region_old_ids",
        sql(
            "SELECT DISTINCT $mid AS profile_id FROM $pm JOIN region_keys AS k "
            "ON k.source = m.source AND k.record_key = m.record_key WHERE $mid2 IS NOT NULL",
            mid=exp.column(id_column, "m", quoted=True),
            mid2=exp.column(id_column, "m", quoted=True),
            pm=_table(previous_match, "m"),
        ),
    )


def plan_splice_golden(previous_golden: str, id_column: str) -> Step:
    return Step(
        "golden",
        sql(
            "SELECT g.* FROM $pg LEFT JOIN region_old_ids AS o ON o.profile_id = $gid "
            "WHERE o.profile_id IS NULL UNION ALL SELECT * FROM region_golden",
            pg=_table(previous_golden, "g"),
            gid=exp.column(id_column, "g", quoted=True),
        ),
    )


def plan_splice_pairs(name: str, previous: str) -> Step:
    """A pair table (`out_match_pairs`, `out_rule_pairs`): the last run's pairs between
    records outside the region (the region is closed over them, so one end decides) and
    this run's pairs, computed under `region_<name>`."""
    return Step(
        name,
        sql(
            "SELECT p.* FROM $pp LEFT JOIN region_keys AS k ON k.source = p.left_source "
            "AND k.record_key = p.left_key WHERE k.source IS NULL UNION ALL SELECT * FROM $r",
            pp=_table(previous, "p"),
            r=exp.to_table(f"region_{name}", quoted=True),
        ),
    )


def plan_splice_override_status(previous_status: str) -> Step:
    """Each decision's status: recomputed where one of its records is in the region (or
    is gone, or the decision is new), else the last run's."""
    return Step(
        "override_status",
        sql(
            "SELECT n.* FROM region_override_status AS n LEFT JOIN $ps "
            "ON p.override_id = n.override_id "
            "LEFT JOIN region_keys AS a ON a.source = n.left_source AND a.record_key = n.left_key "
            "LEFT JOIN region_keys AS b ON b.source = n.right_source "
            "AND b.record_key = n.right_key WHERE p.override_id IS NULL "
            "OR a.source IS NOT NULL OR b.source IS NOT NULL OR n.status = 'missing_record' "
            "UNION ALL SELECT p.* FROM $ps2 JOIN region_override_status AS n "
            "ON n.override_id = p.override_id "
            "LEFT JOIN region_keys AS a ON a.source = n.left_source AND a.record_key = n.left_key "
            "LEFT JOIN region_keys AS b ON b.source = n.right_source "
            "AND b.record_key = n.right_key WHERE a.source IS NULL AND b.source IS NULL "
            "AND n.status <> 'missing_record'",
            ps=_table(previous_status, "p"),
            ps2=_table(previous_status, "p"),
        ),
    )
