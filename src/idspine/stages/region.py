"""Stage 3b (incremental runs) — the region of the graph a change can reach.

A pair's verdict depends only on its two records' values, on the records sharing its
anchor value (hub counts, per-rule bounds, contested anchors) and on the nickname table.
So after a change, only pairs between records holding a *seed* value (an anchor value of
a new, updated or deleted record, now or at the last run) can decide differently; with
`allow_missing`, a disagreement contests every anchor value of the records in it, which
reaches one hop further. Values that were identifier hubs at the last run and still are
link nothing either way, so they seed nothing.

The region is those records, closed over the last run's profiles and published pairs (a
profile is recomputed whole, and a refused pair ties two profiles' conflict together).
Candidates are found on the region plus the hops their verdicts read (the *context*);
a passing pair that leaves the region grows it, and candidates are found again, so the
region ends closed under this run's pairs too. Everything outside it keeps the last run's
answer, which is the full run's answer there.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.plan import Step
from idspine.sql.build import lit, sql


def _table(name: str, alias: str) -> exp.Expr:
    return exp.to_table(name, quoted=True).as_(alias)


def _anchor_filter(column: exp.Expr, anchors: list[str]) -> exp.Expr:
    return exp.In(this=column, expressions=[lit(a) for a in anchors] or [exp.null()])


def plan_seeds(
    anchors: list[str], previous_lookup: str, previous_hubs: str | None, allow_missing: bool
) -> list[Step]:
    """`touched(record_id)`: records whose pairs may decide differently from the last run."""
    hubs_both = (
        sql(
            "SELECT h.identifier, h.value FROM hub_values AS h JOIN $ph "
            "ON p.identifier = h.identifier AND p.value = h.value "
            "WHERE h.rule IS NULL AND p.rule IS NULL",
            ph=_table(previous_hubs, "p"),
        )
        if previous_hubs
        else sql(
            "SELECT CAST(NULL AS VARCHAR) AS identifier, CAST(NULL AS VARCHAR) AS value WHERE false"
        )
    )
    steps = [
        Step(
            "seed_values",
            sql(
                "SELECT s.identifier, s.value FROM (SELECT u.identifier, u.value "
                "FROM all_usable_values AS u JOIN changed_records AS c "
                "ON c.record_id = u.record_id WHERE $in_now UNION "
                "SELECT l.identifier, l.value FROM $pl JOIN changed_records AS c "
                "ON c.source = l.source AND c.record_key = l.record_key "
                "WHERE l.value IS NOT NULL AND NOT coalesce(l.is_blocked, false) AND $in_then"
                ") AS s LEFT JOIN ($hubs) AS h ON h.identifier = s.identifier "
                "AND h.value = s.value WHERE h.value IS NULL",
                in_now=_anchor_filter(exp.column("identifier", "u"), anchors),
                in_then=_anchor_filter(exp.column("identifier", "l"), anchors),
                pl=_table(previous_lookup, "l"),
                hubs=hubs_both,
            ),
        ),
        Step(
            "seed_holders",
            sql(
                "SELECT DISTINCT u.record_id FROM all_usable_values AS u JOIN seed_values AS s "
                "ON s.identifier = u.identifier AND s.value = u.value "
                "UNION SELECT record_id FROM changed_records WHERE record_id IS NOT NULL"
            ),
        ),
    ]
    if allow_missing:
        steps.append(Step("touched", hop("seed_holders")))
    else:
        steps.append(Step("touched", sql("SELECT record_id FROM seed_holders")))
    return steps


def hop(ids: str) -> exp.Expr:
    """The records in `ids` and every record sharing a (non-hub) anchor value with one."""
    return sql(
        "SELECT b.record_id FROM $ids JOIN all_anchor_values AS a ON a.record_id = i.record_id "
        "JOIN all_anchor_values AS b ON b.identifier = a.identifier AND b.value = a.value "
        "UNION SELECT record_id FROM $ids2",
        ids=_table(ids, "i"),
        ids2=exp.to_table(ids, quoted=True),
    )


def plan_region_start() -> Step:
    """The first region: the keys of touched records and of deleted ones."""
    return Step(
        "region_keys_0",
        sql(
            "SELECT r.source, r.record_key FROM all_records AS r "
            "JOIN touched AS t ON t.record_id = r.record_id "
            "UNION SELECT source, record_key FROM changed_records WHERE change = 'deleted'"
        ),
    )


def plan_region_closure(
    keys: str, output: str, previous_match: str, previous_pairs: str, id_column: str
) -> Step:
    """`keys` grown by one step: whole previous profiles and both ends of previous pairs."""
    return Step(
        output,
        sql(
            "SELECT source, record_key FROM $k UNION "
            "SELECT m.source, m.record_key FROM $pm JOIN (SELECT DISTINCT $pid AS pid "
            "FROM $pm2 JOIN $k2 ON k.source = p.source AND k.record_key = p.record_key "
            "WHERE $pid2 IS NOT NULL) AS x ON x.pid = $mid UNION "
            "SELECT q.right_source, q.right_key FROM $pp JOIN $k3 "
            "ON k.source = q.left_source AND k.record_key = q.left_key UNION "
            "SELECT q.left_source, q.left_key FROM $pp2 JOIN $k4 "
            "ON k.source = q.right_source AND k.record_key = q.right_key",
            k=exp.to_table(keys, quoted=True),
            k2=_table(keys, "k"),
            k3=_table(keys, "k"),
            k4=_table(keys, "k"),
            pm=_table(previous_match, "m"),
            pm2=_table(previous_match, "p"),
            pp=_table(previous_pairs, "q"),
            pp2=_table(previous_pairs, "q"),
            pid=exp.column(id_column, "p", quoted=True),
            pid2=exp.column(id_column, "p", quoted=True),
            mid=exp.column(id_column, "m", quoted=True),
        ),
    )


def plan_region_ids(keys: str, allow_missing: bool) -> list[Step]:
    """`region_ids` (this run's records in the region) and `context_ids` (the region and
    the records its pairs' verdicts read)."""
    steps = [
        Step(
            "region_ids",
            sql(
                "SELECT r.record_id FROM all_records AS r JOIN $k "
                "ON k.source = r.source AND k.record_key = r.record_key",
                k=_table(keys, "k"),
            ),
        ),
        Step("context_1", hop("region_ids")),
    ]
    if allow_missing:
        steps.append(Step("context_ids", hop("context_1")))
    else:
        steps.append(Step("context_ids", sql("SELECT record_id FROM context_1")))
    return steps


def plan_restrict_candidates() -> list[Step]:
    """The inputs of candidate search cut down to the context."""
    return [
        Step(
            "usable_values",
            sql(
                "SELECT u.* FROM all_usable_values AS u "
                "JOIN context_ids AS c ON c.record_id = u.record_id"
            ),
        ),
        Step(
            "anchor_values",
            sql(
                "SELECT a.* FROM all_anchor_values AS a "
                "JOIN context_ids AS c ON c.record_id = a.record_id"
            ),
        ),
        Step(
            "override_pairs",
            sql(
                "SELECT o.* FROM all_override_pairs AS o "
                "JOIN region_ids AS a ON a.record_id = o.left_id "
                "JOIN region_ids AS b ON b.record_id = o.right_id"
            ),
        ),
    ]


def plan_crossing() -> Step:
    """Passing pairs with exactly one record in the region: the keys the region must add."""
    return Step(
        "crossing_keys",
        sql(
            "SELECT DISTINCT r.source, r.record_key FROM (SELECT p.left_id AS record_id "
            "FROM rule_pairs_all AS p LEFT JOIN region_ids AS a ON a.record_id = p.left_id "
            "LEFT JOIN region_ids AS b ON b.record_id = p.right_id "
            "WHERE (a.record_id IS NULL) <> (b.record_id IS NULL) UNION "
            "SELECT p.right_id FROM rule_pairs_all AS p "
            "LEFT JOIN region_ids AS a ON a.record_id = p.left_id "
            "LEFT JOIN region_ids AS b ON b.record_id = p.right_id "
            "WHERE (a.record_id IS NULL) <> (b.record_id IS NULL)) AS x "
            "JOIN all_records AS r ON r.record_id = x.record_id"
        ),
    )


def plan_region_tables() -> list[Step]:
    """The tables clustering, membership and golden read, cut down to the region; pairs
    found in the context but outside the region are dropped (their verdicts may lack the
    context they need, and they are the last run's anyway)."""
    in_region = (
        "JOIN region_ids AS a ON a.record_id = p.left_id "
        "JOIN region_ids AS b ON b.record_id = p.right_id"
    )
    return [
        Step("context_rule_pairs", sql("SELECT * FROM rule_pairs_all")),
        Step("context_ranked_pairs", sql("SELECT * FROM ranked_pairs")),
        Step("rule_pairs_all", sql("SELECT p.* FROM context_rule_pairs AS p " + in_region)),
        Step("ranked_pairs", sql("SELECT p.* FROM context_ranked_pairs AS p " + in_region)),
        Step(
            "records",
            sql(
                "SELECT r.* FROM all_records AS r JOIN region_ids AS i ON i.record_id = r.record_id"
            ),
        ),
        Step(
            "usable_values",
            sql(
                "SELECT u.* FROM all_usable_values AS u "
                "JOIN region_ids AS i ON i.record_id = u.record_id"
            ),
        ),
        Step(
            "lookup",
            sql(
                "SELECT l.* FROM all_lookup AS l JOIN region_ids AS i ON i.record_id = l.record_id"
            ),
        ),
    ]
