"""The publish gate: checks on the staged outputs before the atomic publish.

Each check compares one figure of this run (from its metrics, already computed) with a
threshold, or with the last published run. A failing check holds the run: nothing but the
run history is published (status `held`, with every check's value and verdict in the
metrics), the previous outputs stay, and `idspine run` exits 3. `--force` publishes anyway
and records that it did.

Checks against the last run only apply once it was big enough (`min_population` profiles,
or records for a source): on small data a few records moving is no warning sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from idspine.config.load import Config
from idspine.config.types import Checks
from idspine.engines.base import Engine
from idspine.sql.build import lit, sql


@dataclass(frozen=True)
class CheckResult:
    name: str
    dimension: str  # '' or the source a per-source check is about
    value: float
    threshold: float
    failed: bool

    def describe(self) -> str:
        where = f" ({self.dimension})" if self.dimension else ""
        verdict = "FAILED" if self.failed else "ok"
        return f"{self.name}{where}: {self.value:,.4g} vs limit {self.threshold:,.4g} — {verdict}"


def _figures(engine: Engine, table: str, run_id: str | None) -> dict[tuple[str, str], float]:
    where = sql("run_id = $r", r=lit(run_id)) if run_id is not None else exp.true()
    rows = engine.fetch_arrow(
        sql(
            "SELECT metric, dimension, value FROM $t WHERE $where AND value IS NOT NULL "
            "AND (metric IN ('profiles', 'largest_profile', 'match_rate', 'resolution_rate', "
            "'ids_merged', 'ids_removed', 'identifier_hub_records', 'source_records'))",
            t=exp.to_table(table, quoted=True),
            where=where,
        )
    ).to_pylist()
    return {(r["metric"], r["dimension"]): float(r["value"]) for r in rows}


def _previous_run(engine: Engine, runs: str | None) -> str | None:
    if runs is None:
        return None
    found = engine.fetch_arrow(
        sql(
            "SELECT run_id FROM $t WHERE status = 'succeeded' ORDER BY run_seq DESC LIMIT 1",
            t=exp.to_table(runs, quoted=True),
        )
    ).to_pylist()
    return str(found[0]["run_id"]) if found else None


def evaluate_checks(engine: Engine, checks: Checks, schema: str) -> list[CheckResult]:
    """Every configured check on this run's `metric_values`, against the last run."""
    now = _figures(engine, "metric_values", None)
    previous_id = _previous_run(engine, engine.read_published(schema, "identity_runs"))
    metrics = engine.read_published(schema, "identity_run_metrics")
    before = _figures(engine, metrics, previous_id) if previous_id and metrics else {}
    results: list[CheckResult] = []

    def check(name: str, value: float, threshold: float | None, dimension: str = "") -> None:
        if threshold is not None:
            results.append(CheckResult(name, dimension, value, threshold, value > threshold))

    def change(metric: str) -> float | None:
        old = before.get((metric, ""))
        return None if not old else abs(now.get((metric, ""), 0.0) - old) / old

    check("max_profile_records", now.get(("largest_profile", ""), 0.0), checks.max_profile_records)
    if checks.min_resolution_rate is not None:
        rate = now.get(("resolution_rate", ""), 0.0)
        results.append(
            CheckResult(
                "min_resolution_rate",
                "",
                rate,
                checks.min_resolution_rate,
                rate < checks.min_resolution_rate,
            )
        )
    if before.get(("profiles", ""), 0.0) >= checks.min_population:
        old_profiles = before[("profiles", "")]
        retired = now.get(("ids_merged", ""), 0.0) + now.get(("ids_removed", ""), 0.0)
        check("max_id_churn", retired / old_profiles, checks.max_id_churn)
        if (profiles := change("profiles")) is not None:
            check("max_profile_count_change", profiles, checks.max_profile_count_change)
        if (match_rate := change("match_rate")) is not None:
            check("max_match_rate_change", match_rate, checks.max_match_rate_change)
        hubs_now = sum(v for (m, _), v in now.items() if m == "identifier_hub_records")
        hubs_before = sum(v for (m, _), v in before.items() if m == "identifier_hub_records")
        check("max_new_hub_records", hubs_now - hubs_before, checks.max_new_hub_records)
    for (metric, source), old in sorted(before.items()):
        if metric == "source_records" and old >= checks.min_population:
            lost = (old - now.get(("source_records", source), 0.0)) / old
            check("max_source_shrink", lost, checks.max_source_shrink, source)
    return results


def check_metrics(results: list[CheckResult], forced: bool) -> pa.Table:
    """The checks as run metrics: `check_value`, `check_threshold`, `check_failed` per check
    (dimension `name` or `name:source`), and `checks_forced` when `--force` published."""
    metric, dimension, value = [], [], []
    for result in results:
        label = f"{result.name}:{result.dimension}" if result.dimension else result.name
        for name, figure in (
            ("check_value", result.value),
            ("check_threshold", result.threshold),
            ("check_failed", float(result.failed)),
        ):
            metric.append(name)
            dimension.append(label)
            value.append(figure)
    metric.append("checks_forced")
    dimension.append("")
    value.append(float(forced and any(r.failed for r in results)))
    return pa.table(
        {
            "metric": pa.array(metric, pa.string()),
            "dimension": pa.array(dimension, pa.string()),
            "value": pa.array(value, pa.float64()),
        }
    )


Metrics = dict[tuple[str, str], float | None]
# A source that lost more than this share of its rows since the previous run is warned about:
# its records' profiles are retired, which is rarely what a truncated export meant.
SOURCE_SHRINK_WARNING = 0.5


def data_warnings(config: Config, metrics: Metrics, previous: Metrics | None) -> list[str]:
    """Sources that came empty or shrank sharply, and mappings none of whose values is usable.

    `previous` holds the metrics of the previous successful run, if any.
    """
    warnings: list[str] = []
    for name in sorted(s.name for s in config.sources):
        now = int(metrics.get(("source_records", name)) or 0)
        before = int((previous or {}).get(("source_records", name)) or 0)
        retired = f" The profiles of its {before:,} previous records are removed." if before else ""
        if now == 0:
            warnings.append(
                f"Source '{name}' has no rows: check that the export is complete.{retired}"
            )
        elif before and (before - now) / before > SOURCE_SHRINK_WARNING:
            warnings.append(
                f"Source '{name}' has {now:,} rows, {(before - now) / before:.0%} fewer than "
                f"in the previous run ({before:,}): check that the export is complete. Records "
                "no longer present leave their profiles."
            )
    for source in sorted(config.sources, key=lambda s: s.name):
        for identifier, columns in source.mappings:
            dimension = f"{source.name}.{identifier}"
            values = int(metrics.get(("mapping_values", dimension)) or 0)
            invalid = int(metrics.get(("mapping_invalid_values", dimension)) or 0)
            blocked = int(metrics.get(("mapping_blocked_values", dimension)) or 0)
            if not values or invalid + blocked < values:
                continue
            what = (
                "invalid"
                if not blocked
                else "blocked"
                if not invalid
                else f"invalid ({invalid:,}) or blocked ({blocked:,})"
            )
            warnings.append(
                f"sources.{source.name}.map.{identifier} ({', '.join(columns)}): all "
                f"{values:,} values are {what}, so this mapping gives nothing to match on. "
                "Check that it names the right column."
            )
    return warnings


def check_run(engine: Engine, config: Config) -> list[str]:
    """`data_warnings` for the run in progress: its `metric_values` work table against the
    metrics of the previous successful run, read from the published tables."""
    current = _as_metrics(
        engine.fetch_arrow(sql("SELECT metric, dimension, value FROM metric_values"))
    )
    runs = engine.read_published(config.output.schema, "identity_runs")
    run_metrics = engine.read_published(config.output.schema, "identity_run_metrics")
    previous = None
    if runs is not None and run_metrics is not None:
        previous = _as_metrics(
            engine.fetch_arrow(
                sql(
                    "SELECT metric, dimension, value FROM $metrics WHERE run_id = (SELECT run_id "
                    "FROM $runs WHERE status = 'succeeded' ORDER BY run_seq DESC LIMIT 1)",
                    metrics=exp.to_table(run_metrics, quoted=True),
                    runs=exp.to_table(runs, quoted=True),
                )
            )
        )
    return data_warnings(config, current, previous)


def _as_metrics(rows: Any) -> Metrics:
    return {
        (r["metric"], r["dimension"]): None if r["value"] is None else float(r["value"])
        for r in rows.to_pylist()
    }
