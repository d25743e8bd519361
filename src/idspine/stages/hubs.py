"""Stage 3a — hub values: values of linking identifiers held by too many records.

A value of an identifier some rule links on (an anchor), held by more records than the
identifier's `max_group_size`, is a hub: almost always junk (`test@test.com`), it pairs
nobody. A rule with its own `max_group_size` (a weak anchor such as a postcode) also skips
its larger groups. Both are published in `identity_hub_values`, so explain, the report and
the checks read what the run decided.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table


def anchor_identifiers(config: Config) -> list[str]:
    """Identifiers some rule links on. Only their values can be hubs: a value that is only
    compared (a common first name) links nothing, so it cannot be a hub."""
    return sorted({i for rule in config.rules for a in rule.anchors for i in a.identifiers})


def plan_hub_values(config: Config) -> list[Step]:
    """`hub_values(identifier, value, records, rule)` — published as `identity_hub_values` —
    and `anchor_values`, the values candidates may pair on.

    `rule` is NULL for an identifier's hub values (no rule pairs on them); a rule with its
    own `max_group_size` (a weak anchor such as a postcode) adds the values it skips, under
    its name, so the bound is as visible as a hub.
    """
    limits = values_table(
        ["identifier", "max_group_size"],
        [(name, config.identifier(name).max_group_size) for name in anchor_identifiers(config)],
        "g",
    )
    return [
        Step(
            "value_groups",
            sql(
                "SELECT u.identifier, u.value, count(*) AS records FROM usable_values AS u "
                "JOIN $limits ON u.identifier = g.identifier GROUP BY u.identifier, u.value",
                limits=limits,
            ),
        ),
        Step(
            "hub_values",
            sql(
                "SELECT v.identifier, v.value, v.records, CAST(NULL AS VARCHAR) AS rule "
                "FROM value_groups AS v JOIN $limits ON v.identifier = g.identifier "
                "WHERE v.records > g.max_group_size UNION ALL "
                "SELECT v.identifier, v.value, v.records, b.rule FROM value_groups AS v "
                "JOIN $limits_g ON v.identifier = g.identifier JOIN $bounds "
                "ON b.identifier = v.identifier WHERE v.records > b.max_group_size "
                "AND v.records <= g.max_group_size",
                limits=limits.copy(),
                limits_g=limits.copy(),
                bounds=_rule_bounds(config),
            ),
        ),
        plan_anchor_values(config),
    ]


def _rule_bounds(config: Config) -> exp.Expr:
    """(rule, anchor identifier, max_group_size) of every rule with its own bound."""
    rows = [
        (rule.name, identifier, rule.max_group_size)
        for rule in config.rules
        if rule.max_group_size is not None
        for anchor in rule.anchors
        for identifier in anchor.identifiers
    ]
    if not rows:
        return sql(
            "(SELECT CAST(NULL AS VARCHAR) AS rule, CAST(NULL AS VARCHAR) AS identifier, "
            "CAST(NULL AS BIGINT) AS max_group_size WHERE false) AS b"
        )
    return values_table(["rule", "identifier", "max_group_size"], rows, "b")


def plan_anchor_values(config: Config) -> Step:
    """Usable values of anchor identifiers that are not hubs (reads `hub_values`)."""
    return Step(
        "anchor_values",
        sql(
            "SELECT u.record_id, u.identifier, u.value FROM usable_values AS u "
            "LEFT JOIN hub_values AS h ON u.identifier = h.identifier AND u.value = h.value "
            "AND h.rule IS NULL WHERE h.value IS NULL AND $anchor",
            anchor=exp.In(
                this=exp.column("identifier", "u"),
                expressions=[lit(i) for i in anchor_identifiers(config)],
            ),
        ),
    )
