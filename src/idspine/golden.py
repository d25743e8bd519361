"""Stage 6 — golden record: one row per profile, each value chosen by its strategy (§6).

Candidates are the usable identifier values and the non-empty field values of the
profile's resolved records. Identifiers are compared on their standardized value; names
and free text are shown as written (trimmed) on the winning record. Every ordering ends on
the record id, so ties are always broken the same way.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config import Config, GoldenField
from idspine.engines.base import Step
from idspine.sqlbuild import lit, sql

DISPLAY_AS_WRITTEN = {"name", "text"}

ORDERINGS: dict[str, str] = {
    "last_non_null": "order_ts DESC NULLS LAST, record_id DESC",
    "first_non_null": "order_ts ASC NULLS LAST, record_id ASC",
    "most_frequent": "frequency DESC, value_last_seen DESC NULLS LAST, value, record_id DESC",
    "source_priority": "source_rank, order_ts DESC NULLS LAST, record_id DESC",
    "longest": "length(value) DESC, order_ts DESC NULLS LAST, value, record_id DESC",
    "min": "value ASC, record_id",
    "max": "value DESC, record_id",
}


def _source_rank(golden_field: GoldenField) -> exp.Expr:
    if not golden_field.source_order:
        return lit(0)
    case = exp.Case()
    for position, source in enumerate(golden_field.source_order):
        case = case.when(sql("source = $s", s=lit(source)), lit(position))
    return case.else_(lit(len(golden_field.source_order)))


def plan_golden(config: Config, id_column: str) -> list[Step]:
    display_raw = [lit(i.name) for i in config.identifiers if i.type in DISPLAY_AS_WRITTEN]
    identifier_values = sql(
        "SELECT m.cluster, l.identifier AS name, l.value, "
        "CASE WHEN $as_written THEN trim(l.raw_value) ELSE l.value END AS display, "
        "m.record_id, m.source, m.order_ts FROM lookup AS l "
        "JOIN membership AS m ON m.record_id = l.record_id "
        "WHERE l.value IS NOT NULL AND NOT l.is_blocked AND m.cluster IS NOT NULL",
        as_written=exp.In(this=exp.column("identifier", "l"), expressions=display_raw)
        if display_raw
        else exp.false(),
    )
    field_parts = [
        sql(
            "SELECT m.cluster, $name AS name, trim(r.$column) AS value, "
            "trim(r.$column) AS display, m.record_id, m.source, m.order_ts FROM records AS r "
            "JOIN membership AS m ON m.record_id = r.record_id "
            "WHERE nullif(trim(r.$column), '') IS NOT NULL AND m.cluster IS NOT NULL",
            name=lit(name),
            column=exp.to_identifier(f"f_{name}", quoted=True),
        )
        for name in config.field_names
    ]
    steps = [
        Step(
            "golden_candidates",
            exp.union(identifier_values, *field_parts, distinct=False)
            if field_parts
            else identifier_values,
        )
    ]
    winners = []
    for golden_field in config.golden:
        ordering = ORDERINGS[golden_field.strategy]
        # Only most_frequent needs per-value counts; the other strategies rank rows directly.
        extra = (
            "count(*) OVER (PARTITION BY cluster, value) AS frequency, "
            "max(order_ts) OVER (PARTITION BY cluster, value) AS value_last_seen"
            if golden_field.strategy == "most_frequent"
            else "0 AS frequency, NULL AS value_last_seen"
        )
        winners.append(
            sql(
                "SELECT cluster, name, display FROM (SELECT *, row_number() OVER ("
                "PARTITION BY cluster ORDER BY " + ordering + ") AS position FROM ("
                "SELECT *, $rank AS source_rank, " + extra + " "
                "FROM golden_candidates WHERE name = $name)) WHERE position = 1",
                rank=_source_rank(golden_field),
                name=lit(golden_field.name),
            )
        )
    steps.append(
        Step(
            "golden_winners",
            exp.union(*winners, distinct=False) if len(winners) > 1 else winners[0],
        )
    )
    pivot = [
        exp.alias_(
            sql("max(CASE WHEN name = $n THEN display END)", n=lit(f.name)), f.name, quoted=True
        )
        for f in config.golden
    ]
    steps.append(
        Step(
            "golden_pivot",
            exp.select("cluster", *pivot).from_("golden_winners").group_by("cluster"),
        )
    )
    steps.append(
        Step(
            "profile_summary",
            sql(
                "SELECT m.cluster, count(*) AS record_count, "
                "array_to_string(list_sort(list_distinct(list(m.source))), ',') AS sources, "
                "min(m.order_ts) AS first_seen, max(m.order_ts) AS last_seen, "
                "arg_max(m.source, m.rep_order) AS representative_source, "
                "arg_max(m.record_key, m.rep_order) AS representative_key "
                "FROM (SELECT *, row_number() OVER (PARTITION BY cluster "
                "ORDER BY order_ts NULLS FIRST,"
                " record_id) AS rep_order FROM membership WHERE cluster IS NOT NULL) AS m "
                "GROUP BY m.cluster"
            ),
        )
    )
    steps.append(
        Step(
            "golden",
            exp.select(
                exp.alias_(exp.column("profile_id", "a"), id_column, quoted=True),
                *[exp.column(f.name, "g", quoted=True) for f in config.golden],
                "s.representative_source",
                "s.representative_key",
                "s.record_count",
                "s.sources",
                "s.first_seen",
                "s.last_seen",
            )
            .from_("profile_summary AS s")
            .join("profile_assignment AS a", on="a.cluster = s.cluster")
            .join("golden_pivot AS g", on="g.cluster = s.cluster", join_type="left"),
        )
    )
    return steps
