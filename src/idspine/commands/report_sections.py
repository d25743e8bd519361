"""Report sections about the publish gate and the stewards' overrides.

The report shows the last published run. These sections read what sits beside it: a later
run the publish checks held (its tables were never published, only its run row and
metrics), the checks recorded with the shown run, and the override ledger with what the
shown run did with each decision. Outputs written before checks or overrides existed lack
their rows or tables; each section then says so instead of failing.
"""

from __future__ import annotations

from typing import Any

from idspine.commands.published import Reader
from idspine.commands.run_warnings import metrics_of
from idspine.stages.checks import Metrics
from idspine.stages.overrides import IDENTIFIER_PREFIX, MUST_LINK_RULE

# What the shown run did with an active decision; `pending` when it has no status row (the
# decision was recorded after that run, or the output predates override statuses).
OVERRIDE_STATUSES = ("applied", "refused", "missing_record", "pending")

_LEDGER = (
    "SELECT o.override_id, o.kind, o.left_source, o.left_key, o.right_source, o.right_key, "
    "o.reason, o.created_by, o.created_at, r.override_id IS NOT NULL AS removed "
    "FROM $overrides AS o LEFT JOIN (SELECT DISTINCT override_id FROM $overrides "
    "WHERE action = 'remove') AS r ON r.override_id = o.override_id "
    "WHERE o.action = 'add' ORDER BY o.created_at, o.override_id"
)
DASH = "\u2013"  # an absent figure, as elsewhere in the report
_STATUS = "SELECT override_id, status, detail, first_applied_run FROM $override_status"


def checks_of(metrics: Metrics) -> dict[str, Any]:
    """The publish checks recorded in a run's metrics.

    `recorded` is false for runs made before the gate existed: they have no `checks_forced`
    row, which every gated run writes even when no check is configured.
    """
    rows = []
    for (metric, label), value in metrics.items():
        if metric != "check_value":
            continue
        # A per-source check is labelled `name:source`; check names hold no colon.
        name, _, dimension = label.partition(":")
        rows.append(
            {
                "name": name,
                "dimension": dimension,
                "value": _figure(value),
                "limit": _figure(metrics.get(("check_threshold", label))),
                "failed": bool(metrics.get(("check_failed", label))),
            }
        )
    rows.sort(key=lambda r: (r["name"], r["dimension"]))
    return {
        "rows": rows,
        "recorded": ("checks_forced", "") in metrics,
        "forced": bool(metrics.get(("checks_forced", ""))),
    }


def held_run(reader: Reader, shown: dict[str, Any]) -> dict[str, Any] | None:
    """The latest run when the publish checks held it, with its failed checks."""
    latest = reader.rows(
        "SELECT run_id, run_seq, started_at, status FROM $runs ORDER BY run_seq DESC LIMIT 1"
    )
    if not latest or latest[0]["status"] != "held" or latest[0]["run_seq"] <= shown["run_seq"]:
        return None
    held = latest[0]
    count = reader.rows(
        "SELECT count(*) AS runs FROM $runs WHERE status = 'held' AND run_seq > ?",
        shown["run_seq"],
    )
    checks = checks_of(metrics_of(reader, held["run_id"]))
    return {
        **held,
        "failed": [row for row in checks["rows"] if row["failed"]],
        "held_since": int(count[0]["runs"]),
    }


def nothing_published(reader: Reader, found: set[str]) -> str | None:
    """Why there is no report when every run so far was held: the latest and its failures."""
    if "identity_runs" not in found or "identity_run_metrics" not in found:
        return None
    held = held_run(reader, {"run_seq": 0})
    if held is None:
        return None
    failed = "; ".join(
        f"{c['name']}{where}: {c['value']}, limit {c['limit']}"
        for c in held["failed"]
        for where in [f" ({c['dimension']})" if c["dimension"] else ""]
    )
    return (
        f"run #{held['run_seq']} was held by the publish checks ({failed}) and no run has "
        "been published yet: fix the cause and run again, or publish it with "
        "`idspine run --force`"
    )


def overrides_of(reader: Reader, found: set[str]) -> dict[str, Any] | None:
    """The active decisions with their status in the shown run, counts, and every decision
    ever added by id (a pair may name one withdrawn since). None without a ledger."""
    if "identity_overrides" not in found:
        return None
    decisions = reader.rows(_LEDGER)
    statuses = (
        {row["override_id"]: row for row in reader.rows(_STATUS)}
        if "identity_override_status" in found
        else {}
    )
    active = []
    for decision in decisions:
        if decision["removed"]:
            continue
        status = statuses.get(decision["override_id"], {})
        active.append(
            {
                **decision,
                "records": _records(decision),
                "status": status.get("status") or "pending",
                "detail": status.get("detail"),
                "first_applied_run": status.get("first_applied_run"),
            }
        )
    counts = {name: sum(o["status"] == name for o in active) for name in OVERRIDE_STATUSES}
    return {
        "active": active,
        "counts": counts,
        "removed": sum(bool(d["removed"]) for d in decisions),
        "by_id": {d["override_id"]: d for d in decisions},
    }


def annotate_pairs(pairs: list[dict[str, Any]], overrides: dict[str, Any] | None) -> None:
    """Mark the sample pairs an override decided: `override_id` (and `override`, the
    decision, when the ledger has it) on a refusal, `must_link` on a steward's link."""
    known = overrides["by_id"] if overrides else {}
    for pair in pairs:
        conflict = pair.get("conflict_identifier") or ""
        override_id = (
            conflict.removeprefix(IDENTIFIER_PREFIX)
            if conflict.startswith(IDENTIFIER_PREFIX)
            else None
        )
        pair["override_id"] = override_id
        pair["override"] = known.get(override_id) if override_id else None
        pair["must_link"] = pair.get("rule") == MUST_LINK_RULE


def _records(decision: dict[str, Any]) -> str:
    left = f"{decision['left_source']}:{decision['left_key']}"
    if decision["right_source"] is None:
        return left
    return f"{left} and {decision['right_source']}:{decision['right_key']}"


def _figure(value: float | None) -> str:
    # As the command line prints a check (CheckResult.describe).
    return DASH if value is None else f"{value:,.4g}"
