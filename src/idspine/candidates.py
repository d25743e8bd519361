"""Stage 3 — candidate pairs: per rule, an equi-join on its anchors, then fuzzy criteria.

Never a cross join: records are paired only when they share a value of every exact
criterion of the rule. Values held by more records than their identifier's
`max_group_size` are hub values: reported, and never used to pair records. Each pair keeps
its strongest rule (lowest priority number) and a score: 1.0 for all-exact rules, else the
mean similarity of its fuzzy criteria. Pairs are then ranked in the total order of spec §4:
priority, score (higher first), record ids (which follow the record keys).
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config import Config, Criterion, Rule
from idspine.dialect import similarity
from idspine.engines.base import Step
from idspine.sqlbuild import lit, sql, subquery, values_table

SCORE_DECIMALS = 6  # scores are rounded so every engine orders pairs the same way


def plan_hub_values(config: Config) -> list[Step]:
    limits = values_table(
        ["identifier", "max_group_size"],
        [(i.name, i.max_group_size) for i in config.identifiers],
        "g",
    )
    return [
        Step(
            "value_groups",
            sql(
                "SELECT identifier, value, count(*) AS group_size FROM usable_values "
                "GROUP BY identifier, value"
            ),
        ),
        Step(
            "hub_values",
            sql(
                "SELECT v.identifier, v.value, v.group_size FROM value_groups AS v "
                "JOIN $limits ON v.identifier = g.identifier WHERE v.group_size > g.max_group_size",
                limits=limits,
            ),
        ),
        Step(
            "anchor_values",
            sql(
                "SELECT u.record_id, u.identifier, u.value FROM usable_values AS u "
                "LEFT JOIN hub_values AS h ON u.identifier = h.identifier AND u.value = h.value "
                "WHERE h.value IS NULL"
            ),
        ),
    ]


def _in_group(column: str, criterion: Criterion) -> exp.Expr:
    return exp.In(
        this=exp.column("identifier", table=column),
        expressions=[lit(i) for i in criterion.identifiers],
    )


def _anchor_pairs(criterion: Criterion) -> exp.Expr:
    condition = exp.and_(_in_group("a", criterion), _in_group("b", criterion))
    if len(criterion.identifiers) == 1:
        condition = exp.and_(condition, sql("a.identifier = b.identifier"))
    return sql(
        "SELECT DISTINCT a.record_id AS left_id, b.record_id AS right_id "
        "FROM anchor_values AS a JOIN anchor_values AS b "
        "ON a.value = b.value AND a.record_id < b.record_id WHERE $condition",
        condition=condition,
    )


def _value_similarity(engine: str, criterion: Criterion) -> exp.Expr:
    assert criterion.function is not None
    assert criterion.threshold is not None
    base = similarity(
        engine, criterion.function, exp.column("value", "a"), exp.column("value", "b")
    )
    if not criterion.is_name:
        return base
    return sql(
        "CASE WHEN (length(a.value) = 1 OR length(b.value) = 1) "
        "AND left(a.value, 1) = left(b.value, 1) THEN $threshold ELSE $base END",
        threshold=lit(criterion.threshold),
        base=base,
    )


def _criterion_score(candidates: str, criterion: Criterion, engine: str) -> exp.Expr:
    """Per pair, the best similarity of the criterion (straight or, for groups, reversed).

    A group's similarity in one orientation is that of its weakest position, so that
    "same last name, different first name" never passes a names criterion.
    """
    members = criterion.identifiers

    def cell(left: str, right: str) -> exp.Expr:
        return sql(
            "max(CASE WHEN left_identifier = $l AND right_identifier = $r THEN s END)",
            l=lit(left),
            r=lit(right),
        )

    def weakest(cells: list[exp.Expr]) -> exp.Expr:
        # A group is as similar as its least similar comparable position (NULLs skipped).
        if len(cells) == 1:
            return cells[0]
        names = [f"c{i}" for i in range(len(cells))]
        template = "least(" + ", ".join(f"${n}" for n in names) + ")"
        return sql(template, **dict(zip(names, cells, strict=True)))

    straight = weakest([cell(m, m) for m in members])
    reversed_ = weakest([cell(m, members[-1 - i]) for i, m in enumerate(members)])
    score = straight if len(members) == 1 else sql("greatest($a, $b)", a=straight, b=reversed_)
    per_position = sql(
        "SELECT p.left_id, p.right_id, a.identifier AS left_identifier, "
        "b.identifier AS right_identifier, max($sim) AS s FROM $pairs AS p "
        "JOIN usable_values AS a ON a.record_id = p.left_id "
        "JOIN usable_values AS b ON b.record_id = p.right_id "
        "WHERE $in_a AND $in_b GROUP BY p.left_id, p.right_id, a.identifier, b.identifier",
        sim=_value_similarity(engine, criterion),
        pairs=exp.to_table(candidates, quoted=True),
        in_a=_in_group("a", criterion),
        in_b=_in_group("b", criterion),
    )
    return (
        exp.select("left_id", "right_id", exp.alias_(score, "score"))
        .from_(subquery(per_position, "positions"))
        .group_by("left_id", "right_id")
    )


def plan_rule_pairs(rule: Rule, engine: str) -> list[Step]:
    """Steps that produce `rule_pairs_<priority>(left_id, right_id, priority, score)`."""
    prefix = f"rule_{rule.priority}"
    steps = [Step(f"{prefix}_anchor_{i}", _anchor_pairs(c)) for i, c in enumerate(rule.anchors)]
    candidates = exp.select("a0.left_id", "a0.right_id").from_(
        exp.to_table(f"{prefix}_anchor_0", quoted=True).as_("a0")
    )
    for i in range(1, len(rule.anchors)):
        candidates = candidates.join(
            exp.to_table(f"{prefix}_anchor_{i}", quoted=True).as_(f"a{i}"),
            using=["left_id", "right_id"],
        )
    steps.append(Step(f"{prefix}_candidates", candidates))
    scored = exp.select("c.left_id", "c.right_id").from_(
        exp.to_table(f"{prefix}_candidates", quoted=True).as_("c")
    )
    passes: list[exp.Expr] = []
    scores: list[exp.Expr] = []
    for i, criterion in enumerate(rule.fuzzy):
        table = f"{prefix}_fuzzy_{i}"
        steps.append(Step(table, _criterion_score(f"{prefix}_candidates", criterion, engine)))
        scored = scored.join(
            exp.to_table(table, quoted=True).as_(f"f{i}"),
            on=sql(f"c.left_id = f{i}.left_id AND c.right_id = f{i}.right_id"),
            join_type="left",
        )
        value = exp.column("score", f"f{i}")
        if criterion.allow_missing:
            # A missing value passes, unless the record that has one disagrees on it with
            # another record sharing the anchor: the anchor is then contested (a household
            # email, say) and a nameless record could belong to either person.
            # Every record holding an anchor value of a disagreeing record is contested too,
            # so two nameless records of a shared email do not merge with each other either.
            contested = f"{prefix}_contested_{i}"
            anchor_identifiers = [lit(m) for a in rule.anchors for m in a.identifiers]
            steps.append(
                Step(
                    contested,
                    sql(
                        "SELECT DISTINCT b.record_id FROM (SELECT left_id AS record_id FROM $f "
                        "WHERE score < $t UNION SELECT right_id FROM $f WHERE score < $t) AS d "
                        "JOIN anchor_values AS a ON a.record_id = d.record_id AND $in_a "
                        "JOIN anchor_values AS b ON b.identifier = a.identifier "
                        "AND b.value = a.value",
                        f=exp.to_table(table, quoted=True),
                        t=lit(criterion.threshold),
                        in_a=exp.In(
                            this=exp.column("identifier", "a"), expressions=anchor_identifiers
                        ),
                    ),
                )
            )
            scored = scored.join(
                exp.to_table(contested, quoted=True).as_(f"xl{i}"),
                on=sql(f"xl{i}.record_id = c.left_id"),
                join_type="left",
            ).join(
                exp.to_table(contested, quoted=True).as_(f"xr{i}"),
                on=sql(f"xr{i}.record_id = c.right_id"),
                join_type="left",
            )
            missing_passes = sql(f"xl{i}.record_id IS NULL AND xr{i}.record_id IS NULL")
        else:
            missing_passes = exp.false()
        passes.append(
            sql(
                "coalesce($v >= $t, $allow)",
                v=value,
                t=lit(criterion.threshold),
                allow=missing_passes,
            )
        )
        scores.append(sql("coalesce($v, $t)", v=value.copy(), t=lit(criterion.threshold)))
    if scores:
        total: exp.Expr = scores[0]
        for item in scores[1:]:
            total = exp.Add(this=total, expression=item)
        score: exp.Expr = sql(
            "round($total / $n, $d)",
            total=exp.paren(total),
            n=lit(float(len(scores))),
            d=lit(SCORE_DECIMALS),
        )
    else:
        score = sql("CAST(1.0 AS DOUBLE)")
    scored = scored.select(exp.alias_(lit(rule.priority), "priority"), exp.alias_(score, "score"))
    if passes:
        scored = scored.where(exp.and_(*passes))
    steps.append(Step(f"rule_pairs_{rule.priority}", scored))
    return steps


def plan_candidate_pairs(config: Config, engine: str) -> list[Step]:
    """All steps from `usable_values` to `ranked_pairs` and `rule_pairs_all`."""
    steps = plan_hub_values(config)
    for rule in config.rules:
        steps += plan_rule_pairs(rule, engine)
    parts = [
        sql(
            "SELECT left_id, right_id, priority, score FROM $t",
            t=exp.to_table(f"rule_pairs_{r.priority}", quoted=True),
        )
        for r in config.rules
    ]
    steps.append(
        Step("rule_pairs_all", exp.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    )
    steps.append(
        Step(
            "ranked_pairs",
            sql(
                "SELECT left_id, right_id, priority, score, "
                "row_number() OVER (ORDER BY priority, score DESC, left_id, right_id) - 1 AS rank "
                "FROM (SELECT left_id, right_id, priority, score, row_number() OVER ("
                "PARTITION BY left_id, right_id ORDER BY priority, score DESC) AS strongest "
                "FROM rule_pairs_all) WHERE strongest = 1"
            ),
        )
    )
    return steps
