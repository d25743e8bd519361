"""Stage 7b — run metrics (spec §8) in long form: one row per metric x dimension.

Dimension is '' for run-level figures, else a source, rule, identifier or size bucket.
Rule contribution counts the pairs that actually united two profiles in the ordered
application, not the pairs a rule found.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config import Config, Rule
from idspine.engines.base import Step
from idspine.sqlbuild import lit, sql

SIZE_BUCKETS = (
    "CASE WHEN size = 1 THEN '1' WHEN size = 2 THEN '2' WHEN size = 3 THEN '3' "
    "WHEN size <= 5 THEN '4-5' WHEN size <= 10 THEN '6-10' WHEN size <= 50 THEN '11-50' "
    "ELSE '51+' END"
)


def _presence_column(identifier: str) -> exp.Identifier:
    return exp.to_identifier(f"has_{identifier}", quoted=True)


def _identifier_presence(config: Config) -> Step:
    """One row per record holding any usable value, one flag per identifier."""
    flags = [
        exp.alias_(
            sql("bool_or(identifier = $name)", name=lit(i.name)),
            _presence_column(i.name),
        )
        for i in config.identifiers
    ]
    return Step(
        "identifier_presence",
        exp.select("record_id", *flags).from_("usable_values").group_by("record_id"),
    )


def _rule_applicable(rule: Rule) -> exp.Expr:
    """Records holding a usable value of every identifier the rule's criteria need."""
    needed = [
        exp.or_(*[exp.column(_presence_column(i)) for i in c.identifiers])
        for c in rule.criteria
        if not c.allow_missing
    ]
    return sql(
        "SELECT 'rule_applicable_rate' AS metric, $rule AS dimension, "
        "count(*) FILTER (WHERE $condition) / (SELECT CAST(count(*) AS DOUBLE) FROM records) "
        "AS value FROM identifier_presence",
        rule=lit(rule.name),
        condition=exp.and_(*needed) if needed else exp.true(),
    )


def plan_metrics(config: Config) -> list[Step]:
    parts: list[exp.Expr] = [
        sql(
            "SELECT 'records' AS metric, '' AS dimension, CAST(sum(n) AS DOUBLE) AS value "
            "FROM membership_counts"
        ),
        sql("SELECT 'records_' || status, '', sum(n) FROM membership_counts GROUP BY status"),
        sql("SELECT 'profiles', '', count(*) FROM golden"),
        sql("SELECT 'unique_profiles', '', count(*) FROM golden WHERE record_count = 1"),
        sql(
            "SELECT 'resolution_rate', '', sum(n) FILTER (WHERE resolved) / "
            "CAST(sum(n) AS DOUBLE) FROM membership_counts"
        ),
        sql(
            "SELECT 'match_rate', '', sum(n) FILTER (WHERE status = 'matched') / "
            "CAST(sum(n) AS DOUBLE) FROM membership_counts"
        ),
        sql(
            "SELECT 'consolidation', '', 1.0 - (SELECT count(*) FROM golden) / "
            "nullif(CAST(sum(n) AS DOUBLE), 0) FROM membership_counts WHERE resolved"
        ),
        sql("SELECT 'largest_profile', '', coalesce(max(record_count), 0) FROM golden"),
        sql("SELECT 'pairs_total', '', count(*) FROM pair_status"),
        # stable ids: what this run did to the previous run's ids
        sql("SELECT 'ids_kept', '', count(*) FILTER (WHERE NOT is_new) FROM profile_assignment"),
        sql("SELECT 'ids_new', '', count(*) FILTER (WHERE is_new) FROM profile_assignment"),
        sql("SELECT 'ids_' || reason, '', count(*) FROM id_changes GROUP BY reason"),
        sql("SELECT 'pairs_' || status, '', count(*) FROM pair_status GROUP BY status"),
        # per source
        sql("SELECT 'source_records', source, sum(n) FROM membership_counts GROUP BY source"),
        sql(
            "SELECT 'source_' || status, source, sum(n) FROM membership_counts "
            "GROUP BY source, status"
        ),
        sql(
            "SELECT 'source_resolution_rate', source, coalesce(sum(n) FILTER (WHERE resolved), 0)"
            " / CAST(sum(n) AS DOUBLE) FROM membership_counts GROUP BY source"
        ),
        # per rule
        sql(
            "SELECT 'rule_pairs_found', n.rule, count(p.priority) FROM $rules "
            "LEFT JOIN rule_pairs_all AS p ON p.priority = n.priority GROUP BY n.rule",
            rules=_rules(config),
        ),
        sql(
            "SELECT 'rule_' || s.status, n.rule, count(*) FROM ranked_pairs AS p "
            "JOIN pair_status AS s ON s.rank = p.rank JOIN $rules ON n.priority = p.priority "
            "GROUP BY n.rule, s.status",
            rules=_rules(config),
        ),
        # per identifier
        sql(
            "SELECT 'identifier_blocked_values', identifier, blocked FROM lookup_counts "
            "WHERE blocked > 0"
        ),
        sql(
            "SELECT 'identifier_invalid_values', identifier, invalid FROM lookup_counts "
            "WHERE invalid > 0"
        ),
        sql(
            "SELECT 'identifier_hub_values', identifier, count(*) FROM hub_values "
            "GROUP BY identifier"
        ),
        sql(
            "SELECT 'identifier_hub_records', identifier, sum(group_size) FROM hub_values "
            "GROUP BY identifier"
        ),
        # cluster sizes
        sql(
            "SELECT 'cluster_size_profiles', " + SIZE_BUCKETS + ", count(*) FROM "
            "(SELECT record_count AS size FROM golden) GROUP BY 2"
        ),
    ]
    for identifier in config.identifiers:
        column = exp.column(identifier.name, quoted=True)
        parts.append(
            sql(
                "SELECT 'identifier_completeness_input', $name, count(*) / "
                "(SELECT CAST(count(*) AS DOUBLE) FROM records) FROM identifier_presence "
                "WHERE $present HAVING count(*) > 0",
                name=lit(identifier.name),
                present=exp.column(_presence_column(identifier.name)),
            )
        )
        parts.append(
            sql(
                "SELECT 'identifier_completeness_golden', $name, avg(CASE WHEN $c IS NOT NULL "
                "THEN 1.0 ELSE 0.0 END) FROM golden",
                name=lit(identifier.name),
                c=column,
            )
        )
        if identifier.limit is not None:
            parts.append(
                sql(
                    # out_matched_ids holds one row per (profile, identifier, value)
                    "SELECT 'identifier_profiles_at_limit', $name, count(*) FROM (SELECT $id "
                    "FROM out_matched_ids WHERE identifier = $name GROUP BY $id "
                    "HAVING count(*) >= $limit)",
                    name=lit(identifier.name),
                    limit=lit(identifier.limit),
                    id=exp.column(config.output.id_column, quoted=True),
                )
            )
    parts += [_rule_applicable(rule) for rule in config.rules]
    union = exp.union(*parts, distinct=False)
    return [
        _identifier_presence(config),
        # Small aggregates that several metrics read, so each large table is scanned once.
        Step(
            "membership_counts",
            sql(
                "SELECT source, status, cluster IS NOT NULL AS resolved, count(*) AS n "
                "FROM membership GROUP BY source, status, cluster IS NOT NULL"
            ),
        ),
        Step(
            "lookup_counts",
            sql(
                "SELECT identifier, count(*) FILTER (WHERE is_blocked) AS blocked, "
                "count(*) FILTER (WHERE value IS NULL) AS invalid FROM lookup GROUP BY identifier"
            ),
        ),
        Step(
            "metric_values",
            sql(
                "SELECT CAST(metric AS VARCHAR) AS metric, "
                "CAST(dimension AS VARCHAR) AS dimension, "
                "CAST(value AS DOUBLE) AS value FROM ($u)",
                u=union,
            ),
        ),
    ]


def _rules(config: Config) -> exp.Expr:
    from idspine.sqlbuild import values_table

    return values_table(["priority", "rule"], [(r.priority, r.name) for r in config.rules], "n")
