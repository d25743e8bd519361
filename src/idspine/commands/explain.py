"""`idspine explain`: why two records share a profile or not; how a profile was built.

Reads only the published tables, so it explains exactly what the last run decided. The
answer is a plain dict (printed as JSON with --json) rendered to text by `render_text`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

from sqlglot import exp

from idspine.commands.pair_verdict import RuleVerdict, rule_verdicts
from idspine.config.load import Config, Rule
from idspine.engines import Engine, open_engine
from idspine.errors import InputError, Problem
from idspine.sql.build import lit, sql
from idspine.stages.overrides import IDENTIFIER_PREFIX, current_ledger

Answer = dict[str, Any]


class _Tables:
    """Small reads of the published tables through any engine."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.engine = engine

    def rows(self, template: str, **params: Any) -> list[dict[str, Any]]:
        tables = {
            name: exp.table_(f"identity_{name}", db=self.config.output.schema, quoted=True)
            for name in (
                "match",
                "lookup",
                "match_pairs",
                "golden",
                "profile_redirects",
                "matched_ids",
            )
        }
        values = {k: lit(v) if not isinstance(v, exp.Expr) else v for k, v in params.items()}
        found: list[dict[str, Any]] = self.engine.fetch_arrow(
            sql(template, **tables, **values)
        ).to_pylist()
        return found

    def record(self, reference: str) -> dict[str, Any]:
        source, _, key = reference.partition(":")
        if not key:
            raise InputError([Problem("--record", f"'{reference}' is not source:key")])
        found = self.rows(
            "SELECT source, record_key, $pid AS profile_id, status, refused_merge, over_limit "
            "FROM $match "
            "WHERE source = $source AND record_key = $key",
            pid=exp.column(self.config.output.id_column, quoted=True),
            source=source,
            key=key,
        )
        if not found:
            raise InputError([Problem("--record", f"no record {reference} in the last run")])
        record = found[0]
        record["values"] = self.rows(
            "SELECT identifier, raw_value, value, is_blocked FROM $lookup "
            "WHERE source = $source AND record_key = $key ORDER BY identifier, raw_value",
            source=source,
            key=key,
        )
        return record

    def profile_pairs(self, profile_id: str) -> list[dict[str, Any]]:
        pid = exp.column(self.config.output.id_column, quoted=True)
        return self.rows(
            "SELECT p.* FROM $match_pairs AS p JOIN $match AS m ON m.source = p.left_source "
            "AND m.record_key = p.left_key WHERE m.$pid = $profile ORDER BY p.rule, "
            "p.left_source, p.left_key, p.right_source, p.right_key",
            pid=pid,
            profile=profile_id,
        )


def _key(record: dict[str, Any]) -> str:
    return f"{record['source']}:{record['record_key']}"


def _chain(pairs: list[dict[str, Any]], start: str, end: str) -> list[dict[str, Any]]:
    """The merged pairs linking two records of one profile (breadth-first over few edges)."""
    edges: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for pair in pairs:
        if pair["status"] != "merged":
            continue
        left = f"{pair['left_source']}:{pair['left_key']}"
        right = f"{pair['right_source']}:{pair['right_key']}"
        edges.setdefault(left, []).append((right, pair))
        edges.setdefault(right, []).append((left, pair))
    previous: dict[str, tuple[str, dict[str, Any]] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for neighbour, pair in edges.get(node, []):
            if neighbour not in previous:
                previous[neighbour] = (node, pair)
                queue.append(neighbour)
    path: list[dict[str, Any]] = []
    node = end
    while (step := previous.get(node)) is not None:
        node, pair = step
        path.append(pair)
    return list(reversed(path))


def _usable(record: dict[str, Any], identifiers: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            v["value"]
            for v in record["values"]
            if v["identifier"] in identifiers and v["value"] and not v["is_blocked"]
        }
    )


def _describe_verdict(
    rule: Rule, verdict: RuleVerdict, first: dict[str, Any], second: dict[str, Any]
) -> str:
    """A rule's decision in words; every fact in it comes from the run's SQL."""
    if verdict.passed:
        return f"matches these two records (score {verdict.score:.3f})"
    reasons = []
    for criterion, decided in zip(rule.anchors + rule.fuzzy, verdict.criteria, strict=True):
        label, state = criterion.label, decided.state
        if state == "not_shared":
            reasons.append(
                f"no shared {label}: {_usable(first, criterion.identifiers) or 'none'} "
                f"vs {_usable(second, criterion.identifiers) or 'none'}"
            )
        elif state == "hub":
            reasons.append(f"the shared {label} is a hub value (it links nothing)")
        elif state == "failed":
            reasons.append(
                f"{label} {_usable(first, criterion.identifiers)} vs "
                f"{_usable(second, criterion.identifiers)}: {criterion.function} "
                f"{decided.score:.3f} < {criterion.threshold}"
            )
        elif state == "missing":
            whole = " (a group needs every position on both records)"
            reasons.append(
                f"{label} is missing on a record{whole if len(criterion.identifiers) > 1 else ''}"
            )
        elif state == "contested":
            reasons.append(
                f"{label} is missing on a record and the shared anchor is contested: "
                "records holding it disagree on it"
            )
    return "; ".join(reasons) or "does not match"


def _refusal(identifier: str, decisions: dict[str, dict[str, Any]]) -> str:
    """Why a pair was refused: a conflict limit, or a steward's decision."""
    if not identifier.startswith(IDENTIFIER_PREFIX):
        return f"the union would hold too many values of {identifier}"
    decision = decisions.get(identifier.removeprefix(IDENTIFIER_PREFIX))
    if decision is None:
        return f"override {identifier.removeprefix(IDENTIFIER_PREFIX)}"
    return (
        f"override {decision['override_id']} ({decision['kind']} by {decision['created_by']}: "
        f"{decision['reason']})"
    )


def explain_records(config: Config, first_ref: str, second_ref: str) -> Answer:
    engine = open_engine(config)
    try:
        tables = _Tables(config, engine)
        first, second = tables.record(first_ref), tables.record(second_ref)
        verdicts = rule_verdicts(
            config,
            engine,
            (first["source"], first["record_key"]),
            (second["source"], second["record_key"]),
        )
        answer: Answer = {
            "held": _held_note(config, engine),
            "records": [first, second],
            "rule_verdicts": [asdict(v) for v in verdicts],
            "rules": {
                rule.name: _describe_verdict(rule, verdict, first, second)
                for rule, verdict in zip(config.rules, verdicts, strict=True)
            },
        }
        if first["profile_id"] is not None and first["profile_id"] == second["profile_id"]:
            chain = _chain(tables.profile_pairs(first["profile_id"]), _key(first), _key(second))
            answer.update(same_profile=True, profile_id=first["profile_id"], chain=chain)
            return answer
        answer["same_profile"] = False
        reasons = [
            f"{_key(r)} is unresolved ({r['status']})"
            for r in (first, second)
            if r["profile_id"] is None
        ]
        reasons += [
            f"{_key(r)} alone holds more values of an identifier than its limit allows: "
            "no merge with it can pass that limit"
            for r in (first, second)
            if r["over_limit"]
        ]
        pid = exp.column(config.output.id_column, quoted=True)
        refused = tables.rows(
            "SELECT p.* FROM $match_pairs AS p "
            "JOIN $match AS a ON a.source = p.left_source AND a.record_key = p.left_key "
            "JOIN $match AS b ON b.source = p.right_source AND b.record_key = p.right_key "
            "WHERE p.status = 'refused' AND ((a.$pid = $x AND b.$pid = $y) OR "
            "(a.$pid = $y AND b.$pid = $x) OR (p.left_source = $s1 AND p.left_key = $k1 AND "
            "p.right_source = $s2 AND p.right_key = $k2) OR (p.left_source = $s2 AND "
            "p.left_key = $k2 AND p.right_source = $s1 AND p.right_key = $k1))",
            pid=pid,
            x=first["profile_id"] or "",
            y=second["profile_id"] or "",
            s1=first["source"],
            k1=first["record_key"],
            s2=second["source"],
            k2=second["record_key"],
        )
        decisions = {
            row["override_id"]: row
            for row in current_ledger(config.output.schema, engine).to_pylist()
            if row["action"] == "add"
        }
        for pair in refused:
            reasons.append(
                f"pair {pair['left_source']}:{pair['left_key']} ~ {pair['right_source']}:"
                f"{pair['right_key']} (rule {pair['rule']}) was refused: "
                + _refusal(pair["conflict_identifier"], decisions)
            )
        answer["refused_pairs"] = refused
        answer["reasons"] = reasons
        return answer
    finally:
        engine.close()


def explain_profile(config: Config, profile_id: str) -> Answer:
    engine = open_engine(config)
    try:
        tables = _Tables(config, engine)
        pid = exp.column(config.output.id_column, quoted=True)
        answer: Answer = {"profile_id": profile_id, "held": _held_note(config, engine)}
        golden = tables.rows("SELECT * FROM $golden WHERE $pid = $p", pid=pid, p=profile_id)
        # Only a retired id is followed: a live id is its own answer.
        redirect = (
            []
            if golden
            else tables.rows(
                "SELECT profile_id, reason, run_id FROM $profile_redirects "
                "WHERE old_profile_id = $p",
                p=profile_id,
            )
        )
        if redirect:
            answer["redirected_to"] = redirect[0]
            if redirect[0]["profile_id"] is None:
                raise InputError(
                    [
                        Problem(
                            "--profile",
                            f"profile {profile_id} was retired and none of its records remain "
                            "(reason removed)",
                        )
                    ]
                )
            profile_id = redirect[0]["profile_id"]
            golden = tables.rows("SELECT * FROM $golden WHERE $pid = $p", pid=pid, p=profile_id)
        if not golden:
            raise InputError([Problem("--profile", f"no profile {profile_id} in the last run")])
        members = tables.rows(
            "SELECT source, record_key, status FROM $match WHERE $pid = $p "
            "ORDER BY source, record_key",
            pid=pid,
            p=profile_id,
        )
        answer.update(
            golden=golden[0],
            records=[tables.record(_key(m)) for m in members],
            pairs=tables.profile_pairs(profile_id),
        )
        return answer
    finally:
        engine.close()


def _held_note(config: Config, engine: Engine) -> str | None:
    """When the latest run was held by a publish check, say so: the answer is about the
    last published run."""
    runs = engine.read_published(config.output.schema, "identity_runs")
    if runs is None:
        return None
    latest = engine.fetch_arrow(
        sql(
            "SELECT run_seq, status FROM $t ORDER BY run_seq DESC LIMIT 1",
            t=exp.to_table(runs, quoted=True),
        )
    ).to_pylist()
    if not latest or latest[0]["status"] != "held":
        return None
    return (
        f"the latest run (#{latest[0]['run_seq']}) was held by the publish checks: this "
        "answer is about the last published run"
    )


def render_text(answer: Answer) -> str:
    lines: list[str] = [f"note: {answer['held']}\n"] if answer.get("held") else []
    if "same_profile" in answer:
        first, second = answer["records"]
        lines.append(f"{_key(first)} -> {first['profile_id'] or 'unresolved'} ({first['status']})")
        lines.append(
            f"{_key(second)} -> {second['profile_id'] or 'unresolved'} ({second['status']})"
        )
        if answer["same_profile"]:
            lines.append(f"\nSame profile {answer['profile_id']}, joined by:")
            for pair in answer["chain"]:
                lines.append(
                    f"  {pair['left_source']}:{pair['left_key']} ~ "
                    f"{pair['right_source']}:{pair['right_key']}  rule {pair['rule']}"
                    f"  score {pair['score']:.3f}"
                )
        else:
            lines.append("\nDifferent profiles.")
            lines += [f"  - {reason}" for reason in answer["reasons"]]
        lines.append("Per rule:")
        lines += [f"  {name}: {why}" for name, why in answer["rules"].items()]
        return "\n".join(lines)
    if "redirected_to" in answer:
        target = answer["redirected_to"]
        lines.append(
            f"{answer['profile_id']} was retired ({target['reason']}, run "
            f"{target['run_id']}); it now points to {target['profile_id']}"
        )
    golden = answer["golden"]
    lines.append("Golden record:")
    lines += [f"  {k}: {v}" for k, v in golden.items()]
    lines.append(f"Records ({len(answer['records'])}):")
    for record in answer["records"]:
        values = ", ".join(f"{v['identifier']}={v['raw_value']!r}" for v in record["values"])
        lines.append(f"  {_key(record)} [{record['status']}] {values}")
    lines.append("Pairs:")
    for pair in answer["pairs"]:
        extra = f" on {pair['conflict_identifier']}" if pair["conflict_identifier"] else ""
        lines.append(
            f"  {pair['left_source']}:{pair['left_key']} ~ {pair['right_source']}:"
            f"{pair['right_key']}  {pair['rule']}  {pair['score']:.3f}  "
            f"{pair['status']}{extra}"
        )
    return "\n".join(lines)
