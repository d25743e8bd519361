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

from idspine.config.load import Config, Criterion, Rule
from idspine.plan import Step
from idspine.sql.build import lit, sql, subquery
from idspine.sql.dialect import similarity, words_within
from idspine.stages.hubs import plan_hub_values
from idspine.stages.nicknames import nickname_relation, plan_nickname_pairs

# Tables later stages read (the pipeline keeps these and releases the stage's others).
PROVIDES = ("ranked_pairs", "rule_pairs_all", "hub_values")

SCORE_DECIMALS = 6  # scores are rounded so every engine orders pairs the same way


def _in_group(column: str, criterion: Criterion) -> exp.Expr:
    return exp.In(
        this=exp.column("identifier", table=column),
        expressions=[lit(i) for i in criterion.identifiers],
    )


def _anchor_pairs(criterion: Criterion, values: str) -> exp.Expr:
    condition = exp.and_(_in_group("a", criterion), _in_group("b", criterion))
    if len(criterion.identifiers) == 1:
        condition = exp.and_(condition, sql("a.identifier = b.identifier"))
    return sql(
        "SELECT DISTINCT a.record_id AS left_id, b.record_id AS right_id "
        "FROM $values_a JOIN $values_b "
        "ON a.value = b.value AND a.record_id < b.record_id WHERE $condition",
        condition=condition,
        values_a=exp.to_table(values, quoted=True).as_("a"),
        values_b=exp.to_table(values, quoted=True).as_("b"),
    )


def _rule_anchor_values(rule: Rule) -> Step:
    """The anchor values a rule with its own `max_group_size` may pair on."""
    return Step(
        f"rule_{rule.priority}_anchor_values",
        sql(
            "SELECT u.record_id, u.identifier, u.value FROM anchor_values AS u "
            "LEFT JOIN hub_values AS h ON h.identifier = u.identifier AND h.value = u.value "
            "AND h.rule = $rule WHERE h.value IS NULL",
            rule=lit(rule.name),
        ),
    )


def _value_similarity(engine: str, criterion: Criterion) -> exp.Expr:
    assert criterion.function is not None
    assert criterion.threshold is not None
    base = similarity(
        engine, criterion.function, exp.column("value", "a"), exp.column("value", "b")
    )
    if criterion.compound:
        within = words_within(engine, exp.column("value", "a"), exp.column("value", "b"))
        base = sql("CASE WHEN $within THEN 1.0 ELSE $base END", within=within, base=base)
    if not criterion.is_name:
        return base
    initials = sql(
        "CASE WHEN (length(a.value) = 1 OR length(b.value) = 1) "
        "AND left(a.value, 1) = left(b.value, 1) THEN $threshold ELSE $base END",
        threshold=lit(criterion.threshold),
        base=base,
    )
    if not criterion.nicknames:
        return initials
    # `k` is the criterion's nickname pairs, joined on the two values (see nicknames.py).
    return sql("CASE WHEN k.name_a IS NOT NULL THEN 1.0 ELSE $s END", s=initials)


def _criterion_score(candidates: str, criterion: Criterion, engine: str) -> exp.Expr:
    """Per pair, the best similarity of the criterion (straight or, for groups, reversed).

    A group's similarity in one orientation is that of its weakest position, so that
    "same last name, different first name" never passes a names criterion. `score` is NULL
    unless both records hold every position. `partial`, the weakest of the positions both
    records hold (same position only, never swapped), lets a partly named record be judged
    under `allow_missing`: it may pass as missing only if nothing it has disagrees.
    """
    members = criterion.identifiers

    def cell(left: str, right: str) -> exp.Expr:
        return sql(
            "max(CASE WHEN left_identifier = $l AND right_identifier = $r THEN s END)",
            l=lit(left),
            r=lit(right),
        )

    def weakest(cells: list[exp.Expr]) -> exp.Expr:
        # A group is as similar as its least similar position, and only comparable when
        # both records hold every position: `least` skips NULLs, so a missing position must
        # make the whole orientation NULL (missing), never let the others decide alone.
        if len(cells) == 1:
            return cells[0]
        any_missing = exp.or_(*[exp.Is(this=c.copy(), expression=exp.null()) for c in cells])
        return exp.Case(
            ifs=[exp.If(this=any_missing, true=exp.null())],
            default=exp.func("least", *[c.copy() for c in cells]),
        )

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
    if criterion.nicknames:
        assert isinstance(per_position, exp.Select)
        per_position = per_position.join(
            nickname_relation(criterion),
            on=sql("k.name_a = a.value AND k.name_b = b.value"),
            join_type="left",
        )
    # `least` skips NULLs: the positions both records hold; NULL when they share none.
    partial: exp.Expr = exp.cast(exp.null(), "double")
    if len(members) > 1:
        partial = exp.func("least", *[cell(m, m) for m in members])
    return (
        exp.select(
            "left_id", "right_id", exp.alias_(score, "score"), exp.alias_(partial, "partial")
        )
        .from_(subquery(per_position, "positions"))
        .group_by("left_id", "right_id")
    )


# What a fuzzy criterion decided for a candidate pair (published per pair by `explain`).
CRITERION_STATES = ("passed", "failed", "missing", "missing_allowed", "contested")


def _contested_records(rule: Rule, scores: str, threshold: float, values: str) -> exp.Expr:
    """Records whose anchor is contested for one criterion that allows missing values.

    A missing value passes, unless a record that has one disagrees on it with another record
    sharing the anchor: the anchor is then contested (a household email, say) and a record
    missing the value could belong to either person. Every record holding an anchor value of
    a disagreeing record is contested too, so two records missing the value do not merge
    with each other either. A disagreement on the positions two partly named records share
    counts too.
    """
    anchor_identifiers = [lit(m) for a in rule.anchors for m in a.identifiers]
    return sql(
        "SELECT DISTINCT b.record_id FROM (SELECT left_id AS record_id FROM $f "
        "WHERE coalesce(score, partial) < $t UNION SELECT right_id FROM $f "
        "WHERE coalesce(score, partial) < $t) AS d "
        "JOIN $values_a ON a.record_id = d.record_id AND $in_a "
        "JOIN $values_b ON b.identifier = a.identifier AND b.value = a.value",
        values_a=exp.to_table(values, quoted=True).as_("a"),
        values_b=exp.to_table(values, quoted=True).as_("b"),
        f=exp.to_table(scores, quoted=True),
        t=lit(threshold),
        in_a=exp.In(this=exp.column("identifier", "a"), expressions=anchor_identifiers),
    )


def _criterion_state(
    criterion: Criterion, value: exp.Expr, partial: exp.Expr, contested: exp.Expr
) -> exp.Expr:
    """passed / failed (scored below the threshold, or a partly named record disagreeing
    on a position both hold) / missing (fails) / missing_allowed (passes) / contested
    (missing, allowed, but the anchor is contested: fails)."""
    return sql(
        "CASE WHEN $v >= $t THEN 'passed' WHEN $v2 IS NOT NULL THEN 'failed' "
        "WHEN NOT $allow THEN 'missing' WHEN $partial < $t2 THEN 'failed' "
        "WHEN $contested THEN 'contested' ELSE 'missing_allowed' END",
        v=value,
        v2=value.copy(),
        t=lit(criterion.threshold),
        t2=lit(criterion.threshold),
        allow=lit(criterion.allow_missing),
        partial=partial,
        contested=contested,
    )


def evaluated_table(rule: Rule) -> str:
    """The view of every candidate pair of a rule with each criterion's score and state."""
    return f"rule_{rule.priority}_evaluated"


def plan_rule_pairs(rule: Rule, engine: str) -> list[Step]:
    """Steps that produce `rule_pairs_<priority>(left_id, right_id, priority, score)`.

    On the way, the view `rule_<priority>_evaluated` holds every candidate pair (records
    sharing all anchors) with `score_<i>` and `state_<i>` per fuzzy criterion and `passed`:
    the run's decision, which `explain` reads by running these same steps.
    """
    prefix = f"rule_{rule.priority}"
    steps: list[Step] = []
    values = "anchor_values"
    if rule.max_group_size is not None:
        steps.append(_rule_anchor_values(rule))
        values = steps[-1].name
    steps += [
        Step(f"{prefix}_anchor_{i}", _anchor_pairs(c, values)) for i, c in enumerate(rule.anchors)
    ]
    candidates = exp.select("a0.left_id", "a0.right_id").from_(
        exp.to_table(f"{prefix}_anchor_0", quoted=True).as_("a0")
    )
    for i in range(1, len(rule.anchors)):
        candidates = candidates.join(
            exp.to_table(f"{prefix}_anchor_{i}", quoted=True).as_(f"a{i}"),
            using=["left_id", "right_id"],
        )
    steps.append(Step(f"{prefix}_candidates", candidates))
    evaluated = exp.select("c.left_id", "c.right_id").from_(
        exp.to_table(f"{prefix}_candidates", quoted=True).as_("c")
    )
    states: list[exp.Expr] = []
    scores: list[exp.Expr] = []
    for i, criterion in enumerate(rule.fuzzy):
        assert criterion.threshold is not None
        table = f"{prefix}_fuzzy_{i}"
        steps.append(Step(table, _criterion_score(f"{prefix}_candidates", criterion, engine)))
        evaluated = evaluated.join(
            exp.to_table(table, quoted=True).as_(f"f{i}"),
            on=sql(f"c.left_id = f{i}.left_id AND c.right_id = f{i}.right_id"),
            join_type="left",
        )
        value = exp.column("score", f"f{i}")
        contested: exp.Expr = exp.false()
        if criterion.allow_missing:
            table_contested = f"{prefix}_contested_{i}"
            steps.append(
                Step(
                    table_contested,
                    _contested_records(rule, table, criterion.threshold, values),
                )
            )
            for side, column in (("l", "left_id"), ("r", "right_id")):
                evaluated = evaluated.join(
                    exp.to_table(table_contested, quoted=True).as_(f"x{side}{i}"),
                    on=sql(f"x{side}{i}.record_id = c.{column}"),
                    join_type="left",
                )
            contested = sql(f"xl{i}.record_id IS NOT NULL OR xr{i}.record_id IS NOT NULL")
        partial = exp.column("partial", f"f{i}")
        state = _criterion_state(criterion, value, partial, contested)
        states.append(state)
        # The similarity that decided: the whole group's, else the shared positions'.
        decided = exp.func("coalesce", value.copy(), partial.copy())
        evaluated = evaluated.select(
            exp.alias_(decided, f"score_{i}"), exp.alias_(state.copy(), f"state_{i}")
        )
        scores.append(sql("coalesce($v, $t)", v=decided.copy(), t=lit(criterion.threshold)))
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
    passed = (
        exp.and_(
            *[
                exp.In(this=s.copy(), expressions=[lit("passed"), lit("missing_allowed")])
                for s in states
            ]
        )
        if states
        else exp.true()
    )
    evaluated = evaluated.select(
        exp.alias_(lit(rule.priority), "priority"),
        exp.alias_(score, "score"),
        exp.alias_(passed, "passed"),
    )
    # A view: the run pays for it once, inside `rule_pairs_<priority>`.
    steps.append(Step(evaluated_table(rule), evaluated, materialize=False))
    steps.append(
        Step(
            f"rule_pairs_{rule.priority}",
            sql(
                "SELECT left_id, right_id, priority, score FROM $t WHERE passed",
                t=exp.to_table(evaluated_table(rule), quoted=True),
            ),
        )
    )
    return steps


def plan_candidate_pairs(config: Config, engine: str, judge_hubs: bool = True) -> list[Step]:
    """All steps from `usable_values` to `ranked_pairs` and `rule_pairs_all`.

    Without `judge_hubs`, `hub_values` and `anchor_values` are already there (an
    incremental run judges hubs on every record, then finds candidates in its region).
    """
    steps = (plan_hub_values(config) if judge_hubs else []) + plan_nickname_pairs(config, engine)
    for rule in config.rules:
        steps += plan_rule_pairs(rule, engine)
    # Must-link overrides (`override_pairs`, priority 0) go first, ahead of every rule.
    parts = [
        sql(
            "SELECT left_id, right_id, priority, score FROM $t",
            t=exp.to_table(name, quoted=True),
        )
        for name in ["override_pairs"] + [f"rule_pairs_{r.priority}" for r in config.rules]
    ]
    steps.append(Step("rule_pairs_all", exp.union(*parts, distinct=False)))
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
