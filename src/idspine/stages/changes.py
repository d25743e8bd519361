"""Stage 1b — what changed since the last run, by a fingerprint of each record's content.

A record's fingerprint is an md5 of everything the run reads from it: its order time, its
golden fields and every raw identifier value it maps (with the phone region and the full
name a part was parsed from). The values enter as a sorted list, so the row order of a
source never changes a fingerprint. Comparing this run's fingerprints with the last run's
state (`identity_record_state`) finds new, updated and deleted records without needing an
updated-at column, and catches updates that keep their timestamp.

The fingerprint only has to agree with itself on one engine and one idspine version: a
change of either forces a full run (see `incremental.py`).
"""

from __future__ import annotations

from sqlglot import exp

from idspine.plan import Step
from idspine.sql.build import sql

# Tables later stages read (the pipeline keeps these and releases the stage's others).
PROVIDES = ("record_state",)

UNIT = "chr(31)"  # separates the parts of one value
ROW = "chr(30)"  # separates values


def _text(column: exp.Expr) -> exp.Expr:
    """A column as text, with NULL kept apart from every string (an empty one included)."""
    return sql("coalesce('=' || CAST($c AS VARCHAR), '~')", c=column)


def plan_record_state(field_names: tuple[str, ...]) -> list[Step]:
    """`record_state(record_id, source, record_key, fingerprint)` for every record read."""
    record_parts = [_text(exp.column("order_ts", "r"))] + [
        _text(exp.column(f"f_{name}", "r", quoted=True)) for name in field_names
    ]
    record_text = record_parts[0]
    for part in record_parts[1:]:
        record_text = exp.DPipe(
            this=exp.DPipe(this=record_text, expression=sql(UNIT)), expression=part
        )
    value_text = sql(
        f"r.identifier || {UNIT} || $raw || {UNIT} || $region || {UNIT} || $origin",
        raw=_text(exp.column("raw_value", "r")),
        region=_text(exp.column("region", "r")),
        origin=_text(exp.column("origin", "r")),
    )
    return [
        Step(
            "record_values_text",
            sql(
                f"SELECT r.record_id, array_to_string(list_sort(list($v)), {ROW}) AS vals "
                "FROM lookup_raw AS r GROUP BY r.record_id",
                v=value_text,
            ),
        ),
        Step(
            "record_state",
            sql(
                f"SELECT r.record_id, r.source, r.record_key, md5($rec || {ROW} || "
                "coalesce(v.vals, '')) AS fingerprint FROM records AS r "
                "LEFT JOIN record_values_text AS v ON v.record_id = r.record_id",
                rec=record_text,
            ),
        ),
    ]


def plan_changes(previous_state: str) -> Step:
    """`changed_records(record_id, source, record_key, change)`: new, updated and deleted
    records against the last run's state (a deleted record has no record_id)."""
    return Step(
        "changed_records",
        sql(
            "SELECT n.record_id, coalesce(n.source, p.source) AS source, "
            "coalesce(n.record_key, p.record_key) AS record_key, "
            "CASE WHEN p.source IS NULL THEN 'new' WHEN n.source IS NULL THEN 'deleted' "
            "ELSE 'updated' END AS change FROM record_state AS n FULL OUTER JOIN $prev "
            "ON p.source = n.source AND p.record_key = n.record_key "
            "WHERE p.source IS NULL OR n.source IS NULL OR p.fingerprint <> n.fingerprint",
            prev=exp.to_table(previous_state, quoted=True).as_("p"),
        ),
    )


def plan_state_output() -> Step:
    """The state the next run compares against, published as `identity_record_state`."""
    return Step("out_record_state", sql("SELECT source, record_key, fingerprint FROM record_state"))
