"""What each rule decides for two given records, by the run's own planned SQL.

`explain` must say why two records were or were not paired, including for pairs the run
never recorded (no shared anchor, or a fuzzy criterion that failed). Rather than a second
implementation of the rules, it runs the candidate steps of `candidates.py` again, on the
published lookup restricted to the part of the data those steps can read for this pair:

* the pair's own values, for anchors and similarities;
* the run's recorded hub values (`identity_hub_values`), never recomputed;
* for the contested-anchor guard: the records sharing an anchor value with either record
  (they may disagree with someone) and the records sharing an anchor value with those
  (who they may disagree with). No other record can change this pair's verdict.

Record ids are renumbered in the run's order (source position, then key), so each pair is
oriented as in the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from idspine.config.load import Config, Rule
from idspine.engines.base import Engine
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table
from idspine.stages.candidates import evaluated_table, plan_rule_pairs
from idspine.stages.hubs import anchor_identifiers, plan_anchor_values
from idspine.stages.nicknames import (
    plan_nickname_pairs,
)


@dataclass(frozen=True)
class CriterionVerdict:
    label: str
    exact: bool
    state: str  # passed / failed / missing / missing_allowed / contested / not_shared / hub
    score: float | None


@dataclass(frozen=True)
class RuleVerdict:
    rule: str
    priority: int
    passed: bool
    score: float | None
    criteria: tuple[CriterionVerdict, ...]


def _published(config: Config, name: str) -> exp.Table:
    return exp.table_(f"identity_{name}", db=config.output.schema, quoted=True)


def _neighbourhood_steps(config: Config, pair: tuple[tuple[str, str], ...]) -> list[Step]:
    seed = values_table(["source", "record_key"], list(pair), "s")
    positions = values_table(
        ["source", "position"], [(s.name, i) for i, s in enumerate(config.sources)], "o"
    )
    anchors = exp.In(
        this=exp.column("identifier", "u"),
        expressions=[lit(i) for i in anchor_identifiers(config)],
    )

    def hop(previous: str) -> exp.Expr:
        # Records sharing a non-hub anchor value with a record of `previous`.
        return sql(
            "SELECT source, record_key FROM $prev UNION SELECT b.source, b.record_key "
            "FROM $prev_p JOIN explain_anchor_values AS a "
            "ON a.source = p.source AND a.record_key = p.record_key "
            "JOIN explain_anchor_values AS b ON b.identifier = a.identifier AND b.value = a.value",
            prev=exp.to_table(previous, quoted=True),
            prev_p=exp.to_table(previous, quoted=True).as_("p"),
        )

    return [
        Step(
            "explain_usable",
            sql(
                "SELECT DISTINCT source, record_key, identifier, value FROM $lookup "
                "WHERE value IS NOT NULL AND NOT is_blocked",
                lookup=_published(config, "lookup"),
            ),
        ),
        Step(
            "hub_values",
            sql(
                "SELECT identifier, value, records, rule FROM $hubs",
                hubs=_published(config, "hub_values"),
            ),
        ),
        Step(
            "explain_anchor_values",
            sql(
                "SELECT u.source, u.record_key, u.identifier, u.value FROM explain_usable AS u "
                "LEFT JOIN hub_values AS h ON h.identifier = u.identifier AND h.value = u.value "
                "AND h.rule IS NULL "
                "WHERE h.value IS NULL AND $anchors",
                anchors=anchors,
            ),
        ),
        Step("explain_seed", sql("SELECT source, record_key FROM $seed", seed=seed)),
        Step("explain_hop_1", hop("explain_seed")),
        Step("explain_hop_2", hop("explain_hop_1")),
        Step(
            "records",
            sql(
                "SELECT row_number() OVER (ORDER BY o.position, h.record_key) AS record_id, "
                "h.source, h.record_key FROM explain_hop_2 AS h JOIN $positions "
                "ON o.source = h.source",
                positions=positions,
            ),
        ),
        Step(
            "usable_values",
            sql(
                "SELECT r.record_id, u.identifier, u.value FROM records AS r "
                "JOIN explain_usable AS u ON u.source = r.source AND u.record_key = r.record_key"
            ),
        ),
    ]


def _criterion_verdicts(
    engine: Engine, rule: Rule, row: dict[str, Any] | None, left: int, right: int
) -> tuple[CriterionVerdict, ...]:
    verdicts = []
    for i, anchor in enumerate(rule.anchors):
        shared = engine.fetch_arrow(
            sql(
                "SELECT count(*) AS n FROM $t WHERE left_id = $l AND right_id = $r",
                t=exp.to_table(f"rule_{rule.priority}_anchor_{i}", quoted=True),
                l=lit(left),
                r=lit(right),
            )
        ).to_pylist()[0]["n"]
        state = (
            "passed"
            if shared
            else _unshared_state(engine, rule.name, anchor.identifiers, left, right)
        )
        verdicts.append(CriterionVerdict(anchor.label, True, state, 1.0 if shared else None))
    for i, criterion in enumerate(rule.fuzzy):
        if row is None:
            verdicts.append(CriterionVerdict(criterion.label, False, "not_compared", None))
            continue
        score = row[f"score_{i}"]
        verdicts.append(
            CriterionVerdict(
                criterion.label,
                False,
                row[f"state_{i}"],
                None if score is None else float(score),
            )
        )
    return tuple(verdicts)


def _unshared_state(
    engine: Engine, rule: str, identifiers: tuple[str, ...], left: int, right: int
) -> str:
    """Why an anchor does not pair the records: no common value, or only hub values (the
    identifier's, or those the rule's own `max_group_size` skips)."""

    def in_group(table: str) -> exp.Expr:
        return exp.In(
            this=exp.column("identifier", table), expressions=[lit(i) for i in identifiers]
        )

    common = engine.fetch_arrow(
        sql(
            "SELECT count(h.value) AS hubs, count(*) AS n FROM usable_values AS a "
            "JOIN usable_values AS b ON b.value = a.value AND $in_b "
            "LEFT JOIN (SELECT DISTINCT identifier, value FROM hub_values WHERE rule IS NULL "
            "OR rule = $rule) AS h ON h.identifier = a.identifier AND h.value = a.value "
            "WHERE a.record_id = $l AND b.record_id = $r AND $in_a",
            rule=lit(rule),
            l=lit(left),
            r=lit(right),
            in_a=in_group("a"),
            in_b=in_group("b"),
        )
    ).to_pylist()[0]
    return "hub" if common["n"] and common["hubs"] == common["n"] else "not_shared"


def rule_verdicts(
    config: Config, engine: Engine, first: tuple[str, str], second: tuple[str, str]
) -> list[RuleVerdict]:
    """Each rule's decision on two records (source, key), as the run's SQL makes it."""
    engine.run_all(_neighbourhood_steps(config, (first, second)))
    ids = {
        (r["source"], r["record_key"]): int(r["record_id"])
        for r in engine.fetch_arrow(
            sql(
                "SELECT record_id, source, record_key FROM records WHERE "
                "(source = $s1 AND record_key = $k1) OR (source = $s2 AND record_key = $k2)",
                s1=lit(first[0]),
                k1=lit(first[1]),
                s2=lit(second[0]),
                k2=lit(second[1]),
            )
        ).to_pylist()
    }
    left, right = sorted((ids[first], ids[second]))
    engine.run(plan_anchor_values(config))
    engine.run_all(plan_nickname_pairs(config, engine.name))
    verdicts = []
    for rule in config.rules:
        engine.run_all(plan_rule_pairs(rule, engine.name))
        rows = engine.fetch_arrow(
            sql(
                "SELECT * FROM $t WHERE left_id = $l AND right_id = $r",
                t=exp.to_table(evaluated_table(rule), quoted=True),
                l=lit(left),
                r=lit(right),
            )
        ).to_pylist()
        row = rows[0] if rows else None
        verdicts.append(
            RuleVerdict(
                rule.name,
                rule.priority,
                bool(row and row["passed"]),
                None if row is None else float(row["score"]),
                _criterion_verdicts(engine, rule, row, left, right),
            )
        )
    return verdicts
