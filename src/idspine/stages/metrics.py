"""Stage 7b — run metrics (spec §8) in long form: one row per metric x dimension.

Dimension is '' for run-level figures, else a source, rule, identifier or size bucket.
Rule contribution counts the pairs that actually united two profiles in the ordered
application, not the pairs a rule found.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config, Rule
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table

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
    """Records holding a usable value of every identifier the rule's criteria need (a group
    needs every position)."""
    needed = [
        exp.and_(*[exp.column(_presence_column(i)) for i in c.identifiers])
        for c in rule.criteria
        if not c.allow_missing
    ]
    return sql(
        "SELECT 'rule_applicable_rate' AS metric, $rule AS dimension, "
        "count(*) FILTER (WHERE $condition) / "
        "nullif((SELECT CAST(count(*) AS DOUBLE) FROM records), 0) "
        "AS value FROM identifier_presence",
        rule=lit(rule.name),
        condition=exp.and_(*needed) if needed else exp.true(),
    )


# The catalogue's dimensions: every (metric, dimension) below gets a row every run, zero
# when nothing happened, so trend queries need no outer joins.
RECORD_STATUSES = ("unique", "matched", "conflict", "missing")
RECORD_FLAGS = ("refused_merge", "over_limit")
PAIR_STATUSES = ("merged", "redundant", "refused")
SIZE_BUCKET_LABELS = ("1", "2", "3", "4-5", "6-10", "11-50", "51+")


def _names(column: str, values: list[str], alias: str) -> exp.Expr:
    return values_table([column], [(v,) for v in values], alias)


def _per_status(config: Config) -> list[exp.Expr]:
    statuses = list(RECORD_STATUSES)
    sources = [s.name for s in config.sources]
    rules = _rules(config)
    return [
        sql(
            "SELECT 'records_' || s.status, '', coalesce(sum(m.n), 0) FROM $statuses "
            "LEFT JOIN membership_counts AS m ON m.status = s.status GROUP BY s.status",
            statuses=_names("status", statuses, "s"),
        ),
        sql(
            "SELECT 'records_' || f.flag, '', coalesce(sum(m.n) FILTER (WHERE (f.flag = "
            "'refused_merge' AND m.refused_merge) OR (f.flag = 'over_limit' AND m.over_limit)"
            "), 0) FROM $flags CROSS JOIN membership_counts AS m GROUP BY f.flag",
            flags=_names("flag", list(RECORD_FLAGS), "f"),
        ),
        sql(
            "SELECT 'pairs_' || s.status, '', count(p.status) FROM $statuses "
            "LEFT JOIN out_match_pairs AS p ON p.status = s.status GROUP BY s.status",
            statuses=_names("status", list(PAIR_STATUSES), "s"),
        ),
        sql(
            "SELECT 'source_records', o.source, coalesce(sum(m.n), 0) FROM $sources "
            "LEFT JOIN membership_counts AS m ON m.source = o.source GROUP BY o.source",
            sources=_names("source", sources, "o"),
        ),
        sql(
            "SELECT 'source_' || s.status, o.source, coalesce(sum(m.n), 0) FROM $sources "
            "CROSS JOIN $statuses LEFT JOIN membership_counts AS m "
            "ON m.source = o.source AND m.status = s.status GROUP BY o.source, s.status",
            sources=_names("source", sources, "o"),
            statuses=_names("status", statuses, "s"),
        ),
        # No records in a source: the rate has no denominator and is NULL.
        sql(
            "SELECT 'source_resolution_rate', o.source, sum(m.n) FILTER (WHERE m.resolved) "
            "/ nullif(CAST(coalesce(sum(m.n), 0) AS DOUBLE), 0) FROM $sources "
            "LEFT JOIN membership_counts AS m ON m.source = o.source GROUP BY o.source",
            sources=_names("source", sources, "o"),
        ),
        # A rule's own bound on anchor groups (rule max_group_size): what it skipped.
        sql(
            "SELECT 'rule_bounded_values', n.rule, count(h.value) FROM $rules "
            "LEFT JOIN hub_values AS h ON h.rule = n.rule GROUP BY n.rule",
            rules=rules.copy(),
        ),
        sql(
            "SELECT 'rule_bounded_records', n.rule, coalesce(sum(h.records), 0) FROM $rules "
            "LEFT JOIN hub_values AS h ON h.rule = n.rule GROUP BY n.rule",
            rules=rules.copy(),
        ),
        sql(
            "SELECT 'rule_pairs_found', n.rule, count(p.rule) FROM $rules "
            "LEFT JOIN out_rule_pairs AS p ON p.rule = n.rule GROUP BY n.rule",
            rules=rules,
        ),
        sql(
            "SELECT 'rule_' || s.status, n.rule, count(x.rule) FROM $rules CROSS JOIN $statuses "
            "LEFT JOIN out_match_pairs AS x "
            "ON x.rule = n.rule AND x.status = s.status GROUP BY n.rule, s.status",
            rules=rules.copy(),
            statuses=_names("status", list(PAIR_STATUSES), "s"),
        ),
        sql(
            "SELECT 'cluster_size_profiles', b.bucket, count(g.size) FROM $buckets "
            "LEFT JOIN (SELECT " + SIZE_BUCKETS + " AS bucket, size FROM "
            "(SELECT record_count AS size FROM golden)) AS g ON g.bucket = b.bucket "
            "GROUP BY b.bucket",
            buckets=_names("bucket", list(SIZE_BUCKET_LABELS), "b"),
        ),
    ]


def _per_identifier(config: Config) -> list[exp.Expr]:
    identifiers = _names("identifier", [i.name for i in config.identifiers], "i")
    return [
        # lookup_counts holds a row per identifier already.
        sql("SELECT 'identifier_blocked_values', identifier, blocked FROM lookup_counts"),
        sql("SELECT 'identifier_invalid_values', identifier, invalid FROM lookup_counts"),
        sql(
            "SELECT 'identifier_hub_values', i.identifier, count(h.value) FROM $ids "
            "LEFT JOIN hub_values AS h ON h.identifier = i.identifier AND h.rule IS NULL "
            "GROUP BY i.identifier",
            ids=identifiers,
        ),
        sql(
            "SELECT 'identifier_hub_records', i.identifier, coalesce(sum(h.records), 0) "
            "FROM $ids LEFT JOIN hub_values AS h ON h.identifier = i.identifier "
            "AND h.rule IS NULL "
            "GROUP BY i.identifier",
            ids=identifiers.copy(),
        ),
    ]


def plan_metrics(config: Config) -> list[Step]:
    parts: list[exp.Expr] = [
        sql(
            "SELECT 'records' AS metric, '' AS dimension, "
            "CAST(coalesce(sum(n), 0) AS DOUBLE) AS value FROM membership_counts"
        ),
        sql("SELECT 'profiles', '', count(*) FROM golden"),
        sql("SELECT 'unique_profiles', '', count(*) FROM golden WHERE record_count = 1"),
        # Rates over no records have no denominator: NULL, never a misleading 0.
        sql(
            "SELECT 'resolution_rate', '', sum(n) FILTER (WHERE resolved) / "
            "nullif(CAST(coalesce(sum(n), 0) AS DOUBLE), 0) FROM membership_counts"
        ),
        sql(
            "SELECT 'match_rate', '', coalesce(sum(n) FILTER (WHERE status = 'matched'), 0) / "
            "nullif(CAST(coalesce(sum(n), 0) AS DOUBLE), 0) FROM membership_counts"
        ),
        sql(
            "SELECT 'consolidation', '', 1.0 - (SELECT count(*) FROM golden) / "
            "nullif(CAST(coalesce(sum(n), 0) AS DOUBLE), 0) FROM membership_counts "
            "WHERE resolved"
        ),
        sql("SELECT 'largest_profile', '', coalesce(max(record_count), 0) FROM golden"),
        sql("SELECT 'pairs_total', '', count(*) FROM out_match_pairs"),
        # stable ids: what this run did to the previous run's ids
        sql("SELECT 'ids_kept', '', count(*) FILTER (WHERE NOT is_new) FROM profile_assignment"),
        sql("SELECT 'ids_new', '', count(*) FILTER (WHERE is_new) FROM profile_assignment"),
        sql(
            "SELECT 'ids_' || r.reason, '', count(n.reason) FROM $reasons "
            "LEFT JOIN id_changes AS n ON n.reason = r.reason GROUP BY r.reason",
            reasons=_names("reason", ["merged", "removed", "split"], "r"),
        ),
        *_per_status(config),
        *_per_identifier(config),
        *[
            sql(
                "SELECT $metric, source || '.' || identifier, $count FROM mapping_counts",
                metric=lit(f"mapping_{name}"),
                count=exp.column(name, quoted=True),
            )
            for name in MAPPING_COUNTS
        ],
    ]
    for identifier in config.identifiers:
        column = exp.column(identifier.name, quoted=True)
        parts.append(
            sql(
                "SELECT 'identifier_completeness_input', $name, count(*) / "
                "nullif((SELECT CAST(count(*) AS DOUBLE) FROM records), 0) "
                "FROM identifier_presence WHERE $present",
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
                "SELECT source, status, cluster IS NOT NULL AS resolved, refused_merge, "
                "over_limit, count(*) AS n FROM membership "
                "GROUP BY source, status, cluster IS NOT NULL, refused_merge, over_limit"
            ),
        ),
        Step(
            "lookup_counts",
            sql(
                # Every identifier gets a row, zero when none of its values were absent.
                # Blocked and invalid are disjoint; values empty after cleaning are neither.
                "SELECT i.identifier, coalesce(c.blocked, 0) AS blocked, "
                "coalesce(c.invalid, 0) AS invalid FROM $identifiers LEFT JOIN ("
                "SELECT identifier, count(*) FILTER (WHERE is_blocked) AS blocked, "
                "count(*) FILTER (WHERE value IS NULL AND NOT is_blocked AND NOT is_empty) "
                "AS invalid FROM lookup GROUP BY identifier) AS c ON c.identifier = i.identifier",
                identifiers=values_table(
                    ["identifier"], [(i.name,) for i in config.identifiers], "i"
                ),
            ),
        ),
        _mapping_counts(config),
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


# Per source x mapped identifier: values present after cleaning, and how many of them were
# invalid or blocked. A mapping where all are (a struct column, the wrong column) is warned.
MAPPING_COUNTS = ("values", "invalid_values", "blocked_values")


def _mapping_counts(config: Config) -> Step:
    pairs = sorted({(s.name, identifier) for s in config.sources for identifier, _ in s.mappings})
    return Step(
        "mapping_counts",
        sql(
            'SELECT p.source, p.identifier, coalesce(c.n, 0) AS "values", '
            "coalesce(c.invalid, 0) AS invalid_values, coalesce(c.blocked, 0) AS blocked_values "
            "FROM $pairs LEFT JOIN (SELECT source, identifier, count(*) AS n, "
            "count(*) FILTER (WHERE value IS NULL AND NOT is_blocked) AS invalid, "
            "count(*) FILTER (WHERE is_blocked) AS blocked FROM lookup WHERE NOT is_empty "
            "GROUP BY source, identifier) AS c "
            "ON c.source = p.source AND c.identifier = p.identifier",
            pairs=values_table(["source", "identifier"], pairs, "p"),
        ),
    )


def _rules(config: Config) -> exp.Expr:
    return values_table(["priority", "rule"], [(r.priority, r.name) for r in config.rules], "n")
