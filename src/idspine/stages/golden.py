"""Stage 6 — golden record: one row per profile, each value chosen by its strategy (§6).

Candidates are the usable identifier values and the non-empty field values of the
profile's resolved records. Identifiers are compared on their standardized value; names
and free text are shown as written (trimmed) on the winning record. Every ordering ends on
the record id, so ties are always broken the same way.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config, GoldenField
from idspine.plan import Step
from idspine.sql.build import lit, sql, subquery

DISPLAY_AS_WRITTEN = {"name", "text"}

# Newest first; an absent order field counts as the oldest. Where the order field is absent
# on both sides it is a tie, so the placeholder timestamp only fills the struct.
NEWEST = "order_ts IS NOT NULL, coalesce(order_ts, CAST('1970-01-01' AS TIMESTAMP))"
# Strategies whose winner is one aggregate: arg_max or arg_min of the display over a struct
# key ending on the record id and the value, so that every tie is broken the same way.
AGGREGATE_KEYS: dict[str, tuple[str, str]] = {
    "last_non_null": ("max", f"{NEWEST}, record_id, value"),
    "first_non_null": (
        "min",
        "order_ts IS NULL, coalesce(order_ts, CAST('1970-01-01' AS TIMESTAMP)), record_id, value",
    ),
    "source_priority": ("max", f"-source_rank, {NEWEST}, record_id, value"),
    "min": ("min", "value, record_id"),
    "max": ("max", "value, -record_id"),
}
# Strategies ranked with a window: the ordering of the candidates, best first.
WINDOW_ORDERINGS: dict[str, str] = {
    "most_frequent": "frequency DESC, value_last_seen DESC NULLS LAST, value",
    "longest": "length(value) DESC, order_ts DESC NULLS LAST, value, record_id DESC",
}


def _struct(fields: str) -> exp.Expr:
    """A struct of the comma-separated expressions, compared field by field."""
    values = sql(f"SELECT {fields}").expressions
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=value)
            for i, value in enumerate(values)
        ]
    )


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
    aggregated = [f for f in config.golden if f.strategy in AGGREGATE_KEYS]
    ranked = [f for f in config.golden if f.strategy not in AGGREGATE_KEYS]
    pivots: dict[str, str] = {}  # field -> the pivot table holding it
    if aggregated:
        # One pass over the candidates picks every field whose winner is an aggregate.
        # One pass over the candidates picks every field whose winner is an aggregate. Each
        # distinct ordering key is built once per row, as a column, not once per field.
        orderings = {f.name: _ordering(f).sql() for f in aggregated}
        keys = {text: f"key_{i}" for i, text in enumerate(dict.fromkeys(orderings.values()))}
        key_columns = [
            exp.alias_(
                exp.Case().when(
                    exp.In(
                        this=exp.column("name"),
                        expressions=[lit(n) for n, t in orderings.items() if t == text],
                    ),
                    sql(f"SELECT {text}").expressions[0],
                ),
                column,
            )
            for text, column in keys.items()
        ]
        keyed = exp.select("*", *key_columns).from_("golden_candidates")
        picks = [
            exp.alias_(_pick(f, keys[orderings[f.name]]), f.name, quoted=True) for f in aggregated
        ]
        steps.append(
            Step(
                "golden_pivot",
                exp.select("cluster", *picks).from_(subquery(keyed, "c")).group_by("cluster"),
            )
        )
        pivots.update((f.name, "golden_pivot") for f in aggregated)
    if ranked:
        winners = [_ranked_winners(f) for f in ranked]
        steps.append(
            Step(
                "golden_winners",
                exp.union(*winners, distinct=False) if len(winners) > 1 else winners[0],
            )
        )
        pivot = [
            exp.alias_(
                sql("max(CASE WHEN name = $n THEN display END)", n=lit(f.name)),
                f.name,
                quoted=True,
            )
            for f in ranked
        ]
        steps.append(
            Step(
                "golden_ranked_pivot",
                exp.select("cluster", *pivot).from_("golden_winners").group_by("cluster"),
            )
        )
        pivots.update((f.name, "golden_ranked_pivot") for f in ranked)
    steps.append(
        Step(
            "profile_summary",
            sql(
                "SELECT cluster, record_count, sources, first_seen, last_seen, "
                "representative.source AS representative_source, "
                "representative.record_key AS representative_key FROM ("
                "SELECT m.cluster, count(*) AS record_count, "
                "array_to_string(list_sort(list_distinct(list(m.source))), ',') AS sources, "
                "min(m.order_ts) AS first_seen, max(m.order_ts) AS last_seen, "
                "arg_max(struct_pack(source := m.source, record_key := m.record_key), $newest) "
                "AS representative "
                "FROM membership AS m WHERE m.cluster IS NOT NULL GROUP BY m.cluster) AS p",
                newest=_struct(f"{NEWEST}, record_id"),
            ),
        )
    )
    golden = (
        exp.select(
            exp.alias_(exp.column("profile_id", "a"), id_column, quoted=True),
            *[exp.column(f.name, pivots[f.name], quoted=True) for f in config.golden],
            "s.representative_source",
            "s.representative_key",
            "s.record_count",
            "s.sources",
            "s.first_seen",
            "s.last_seen",
        )
        .from_("profile_summary AS s")
        .join("profile_assignment AS a", on="a.cluster = s.cluster")
    )
    for table in sorted(set(pivots.values())):
        golden = golden.join(table, on=f"{table}.cluster = s.cluster", join_type="left")
    steps.append(Step("golden", golden))
    return steps


def _ordering(golden_field: GoldenField) -> exp.Expr:
    """The struct whose arg_max (or arg_min) over the candidates is the field's winner."""
    rank = _source_rank(golden_field)
    return _struct(AGGREGATE_KEYS[golden_field.strategy][1]).transform(
        lambda node: (
            rank.copy() if isinstance(node, exp.Column) and node.name == "source_rank" else node
        )
    )


def _pick(golden_field: GoldenField, key: str) -> exp.Expr:
    """The aggregate that picks the field's winning display by the ordering in column `key`."""
    pick = exp.ArgMax if AGGREGATE_KEYS[golden_field.strategy][0] == "max" else exp.ArgMin
    return exp.Filter(
        this=pick(this=exp.column("display"), expression=exp.column(key)),
        expression=exp.Where(this=sql("name = $n", n=lit(golden_field.name))),
    )


def _ranked_winners(golden_field: GoldenField) -> exp.Expr:
    """(cluster, name, display) of the winning value of one golden field per profile."""
    name = lit(golden_field.name)
    if golden_field.strategy == "most_frequent":
        # One row per distinct value first: its record count, when it was last seen, and its
        # display on the record with the highest id.
        candidates = sql(
            "SELECT cluster, name, value, count(*) AS frequency, "
            "max(order_ts) AS value_last_seen, arg_max(display, $key) AS display "
            "FROM golden_candidates WHERE name = $name GROUP BY cluster, name, value",
            key=_struct("record_id, display"),
            name=name,
        )
    else:
        candidates = sql("SELECT * FROM golden_candidates WHERE name = $name", name=name)
    ordering = WINDOW_ORDERINGS[golden_field.strategy]
    return sql(
        "SELECT cluster, name, display FROM (SELECT *, row_number() OVER ("
        "PARTITION BY cluster ORDER BY " + ordering + ") AS position FROM $candidates) "
        "WHERE position = 1",
        candidates=subquery(candidates, "c"),
    )
