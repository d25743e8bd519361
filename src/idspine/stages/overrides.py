"""Stewards' decisions that every run honours: must-link, cannot-link and detach.

Decisions live in the append-only ledger `identity_overrides` in the output schema (one
`add` row per decision, one `remove` row when it is withdrawn), written by `idspine link /
unlink / detach / overrides remove`. The run turns the active ones into the clustering's
own currency, so they follow the same order-independent semantics as everything else:

* **must-link**: a candidate pair at priority 0, stronger than every rule. It is applied
  first and, like any pair, refused when the union would break a conflict limit (the run
  reports the override as refused, with the identifier).
* **cannot-link**: a limit of one value of a private identifier `override:<id>`, held as
  `a` by one record and `b` by the other. No chain of pairs can put both in one profile:
  the union that would is refused exactly like a conflict limit, and recorded in
  `identity_match_pairs` with `override:<id>` as the conflict identifier.
* **detach**: a limit of zero values of `override:<id>`, held by the record: every union
  with it is refused, so it stays a profile of its own (or unresolved `missing` when it
  has no usable identifier).

Refusals caused by overrides never quarantine anyone: a decision is not a data conflict.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from idspine.config.override_file import read_overrides_file
from idspine.config.types import Config
from idspine.engines.base import Engine
from idspine.plan import Step
from idspine.sql.build import lit, sql

LEDGER = "identity_overrides"
IDENTIFIER_PREFIX = "override:"
MUST_LINK_PRIORITY = 0
MUST_LINK_RULE = "override:must_link"

LEDGER_SCHEMA = pa.schema(
    [
        ("override_id", pa.string()),
        ("action", pa.string()),  # add / remove
        ("kind", pa.string()),
        ("left_source", pa.string()),
        ("left_key", pa.string()),
        ("right_source", pa.string()),
        ("right_key", pa.string()),
        ("reason", pa.string()),
        ("created_by", pa.string()),
        ("created_at", pa.timestamp("us")),
    ]
)


def empty_ledger() -> pa.Table:
    return LEDGER_SCHEMA.empty_table()


def current_ledger(schema: str, engine: Engine) -> pa.Table:
    """The published ledger (empty before the first decision)."""
    published = engine.read_published(schema, LEDGER)
    if published is None:
        return empty_ledger()
    return engine.fetch_arrow(
        sql("SELECT * FROM $t", t=exp.to_table(published, quoted=True))
    ).select(LEDGER_SCHEMA.names)


def all_decisions(config: Config, engine: Engine, ledger: pa.Table | None = None) -> pa.Table:
    """The ledger (the published one unless given) plus the rows of `overrides_file`."""
    if ledger is None:
        ledger = current_ledger(config.output.schema, engine)
    if not config.overrides_file:
        return ledger
    rows = read_overrides_file(Path(config.overrides_file), {s.name for s in config.sources})
    return pa.concat_tables([ledger, pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)])


def plan_overrides(ledger: str) -> list[Step]:
    """From the ledger work table to the tables candidates and cluster read.

    `override_records` (every active decision with its records' ids, NULL when a record is
    gone), `override_pairs` (must-link pairs), `override_values` and `override_limits` (the
    private limited identifiers of cannot-link and detach).
    """
    return [
        Step(
            "active_overrides",
            sql(
                "SELECT override_id, kind, left_source, left_key, right_source, right_key, "
                "reason, created_at FROM $ledger WHERE action = 'add' AND override_id NOT IN ("
                "SELECT override_id FROM $removals WHERE action = 'remove')",
                ledger=exp.to_table(ledger, quoted=True),
                removals=exp.to_table(ledger, quoted=True),
            ),
        ),
        Step(
            "override_records",
            sql(
                "SELECT o.override_id, o.kind, o.left_source, o.left_key, o.right_source, "
                "o.right_key, a.record_id AS left_id, b.record_id AS right_id "
                "FROM active_overrides AS o "
                "LEFT JOIN records AS a ON a.source = o.left_source AND a.record_key = o.left_key "
                "LEFT JOIN records AS b ON b.source = o.right_source "
                "AND b.record_key = o.right_key"
            ),
        ),
        Step(
            "override_pairs",
            sql(
                "SELECT DISTINCT least(left_id, right_id) AS left_id, "
                "greatest(left_id, right_id) AS right_id, $priority AS priority, "
                "CAST(1.0 AS DOUBLE) AS score FROM override_records "
                "WHERE kind = 'must_link' AND left_id IS NOT NULL AND right_id IS NOT NULL "
                "AND left_id <> right_id",
                priority=lit(MUST_LINK_PRIORITY),
            ),
        ),
        Step(
            "override_values",
            sql(
                "SELECT left_id AS record_id, $prefix || override_id AS identifier, 'a' AS value "
                "FROM override_records WHERE kind IN ('cannot_link', 'detach') "
                "AND left_id IS NOT NULL AND (kind = 'detach' OR right_id IS NOT NULL) "
                "UNION ALL SELECT right_id, $prefix || override_id, 'b' FROM override_records "
                "WHERE kind = 'cannot_link' AND left_id IS NOT NULL AND right_id IS NOT NULL",
                prefix=lit(IDENTIFIER_PREFIX),
            ),
        ),
        Step(
            "override_limits",
            sql(
                "SELECT $prefix || override_id AS identifier, CASE kind WHEN 'detach' THEN 0 "
                "ELSE 1 END AS max_values FROM override_records WHERE kind IN ('cannot_link', "
                "'detach') AND left_id IS NOT NULL AND (kind = 'detach' OR right_id IS NOT NULL)",
                prefix=lit(IDENTIFIER_PREFIX),
            ),
        ),
    ]


def plan_override_status(run_seq: int, previous_status: str | None) -> Step:
    """`override_status`, published as `identity_override_status`: what each active
    decision did in this run (applied / refused / missing_record), with the run it was
    first applied in."""
    previous = (
        sql(
            "SELECT override_id, first_applied_run FROM $t",
            t=exp.to_table(previous_status, quoted=True),
        )
        if previous_status
        else sql(
            "SELECT CAST(NULL AS VARCHAR) AS override_id, "
            "CAST(NULL AS BIGINT) AS first_applied_run WHERE false"
        )
    )
    return Step(
        "override_status",
        sql(
            "SELECT o.override_id, o.kind, o.left_source, o.left_key, o.right_source, "
            "o.right_key, s.status, s.detail, CASE WHEN s.status = 'missing_record' "
            "THEN p.first_applied_run ELSE coalesce(p.first_applied_run, $seq) END "
            "AS first_applied_run FROM override_records AS o JOIN (SELECT r.override_id, "
            "CASE WHEN r.left_id IS NULL OR (r.kind <> 'detach' AND r.right_id IS NULL) "
            "THEN 'missing_record' WHEN r.kind = 'must_link' AND max(t.status) = 'refused' "
            "THEN 'refused' ELSE 'applied' END AS status, "
            "CASE WHEN r.left_id IS NULL OR (r.kind <> 'detach' AND r.right_id IS NULL) "
            "THEN 'a record of this override is not in the input any more' "
            "WHEN r.kind = 'must_link' AND max(t.status) = 'refused' THEN 'refused: the union "
            "would hold too many values of ' || max(t.conflict_identifier) "
            "WHEN r.kind <> 'must_link' THEN 'refused ' || CAST(count(c.rank) AS VARCHAR) || "
            "' pairs' END AS detail FROM override_records AS r "
            "LEFT JOIN ranked_pairs AS m ON r.kind = 'must_link' AND m.priority = $priority "
            "AND m.left_id = least(r.left_id, r.right_id) "
            "AND m.right_id = greatest(r.left_id, r.right_id) "
            "LEFT JOIN pair_status AS t ON t.rank = m.rank "
            "LEFT JOIN pair_status AS c ON c.conflict_identifier = $prefix || r.override_id "
            "GROUP BY r.override_id, r.kind, r.left_id, r.right_id) AS s "
            "ON s.override_id = o.override_id "
            "LEFT JOIN $previous_p ON p.override_id = o.override_id",
            seq=lit(run_seq),
            priority=lit(MUST_LINK_PRIORITY),
            prefix=lit(IDENTIFIER_PREFIX),
            previous_p=exp.Subquery(
                this=previous, alias=exp.TableAlias(this=exp.to_identifier("p"))
            ),
        ),
    )
