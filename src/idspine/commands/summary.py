"""The terminal summary printed at the end of `idspine run`."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from idspine.api import Result
from idspine.commands.run_warnings import run_warnings


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{int(value):,}"


def print_summary(result: Result, console: Console) -> None:
    metrics = result.metrics()

    def get(metric: str, dimension: str = "") -> float | None:
        return metrics.get((metric, dimension))

    by_dimension: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for (metric, dimension), value in metrics.items():
        prefix = metric.split("_", 1)[0]
        by_dimension[prefix][dimension][metric] = value

    run = result.run
    seconds = sum(run.stage_seconds.values())
    console.print(
        f"\n[bold]idspine run {run.run_id}[/] (run #{run.run_seq}) finished in "
        f"{seconds:.1f}s → {result.config.output.database} "
        f"schema [bold]{result.config.output.schema}[/]"
    )
    console.print(f"{run.mode.describe()}; {_count(get('records'))} records read")
    key = Table(title="Key figures", show_header=False, title_justify="left")
    key.add_row("records", _count(get("records")))
    key.add_row("profiles", _count(get("profiles")))
    key.add_row("  of which single-record", _count(get("unique_profiles")))
    key.add_row("matched records", _count(get("records_matched")))
    key.add_row("unresolved: missing identifiers", _count(get("records_missing") or 0))
    key.add_row("unresolved: held out by a conflict", _count(get("records_conflict") or 0))
    key.add_row("records touched by a refused merge", _count(get("records_refused_merge") or 0))
    key.add_row("records over a limit on their own", _count(get("records_over_limit") or 0))
    key.add_row("resolution rate", _percent(get("resolution_rate")))
    key.add_row("match rate", _percent(get("match_rate")))
    key.add_row("consolidation", _percent(get("consolidation")))
    key.add_row("largest profile", _count(get("largest_profile")))
    console.print(key)
    if run.run_seq > 1:
        console.print(
            f"profile ids vs the previous run: {_count(get('ids_kept') or 0)} kept, "
            f"{_count(get('ids_new') or 0)} new (of which {_count(get('ids_split') or 0)} "
            f"split off a kept id), {_count(get('ids_merged') or 0)} merged away, "
            f"{_count(get('ids_removed') or 0)} removed (retired ids: see "
            "identity_profile_redirects)"
        )

    rules = Table(title="Rules (in priority order)", title_justify="left")
    for column in ("rule", "applicable", "pairs found", "merges", "refused"):
        rules.add_column(column, justify="left" if column == "rule" else "right")
    for rule in result.config.rules:
        rules.add_row(
            rule.name,
            _percent(get("rule_applicable_rate", rule.name)),
            _count(get("rule_pairs_found", rule.name) or 0),
            _count(get("rule_merged", rule.name) or 0),
            _count(get("rule_refused", rule.name) or 0),
        )
    console.print(rules)

    sources = Table(title="Sources", title_justify="left")
    for column in ("source", "records", "resolved", "unique", "matched", "conflict", "missing"):
        sources.add_column(column, justify="left" if column == "source" else "right")
    for source in sorted(s.name for s in result.config.sources):
        sources.add_row(
            source,
            _count(get("source_records", source)),
            _percent(get("source_resolution_rate", source)),
            *[
                _count(get(f"source_{s}", source) or 0)
                for s in ("unique", "matched", "conflict", "missing")
            ],
        )
    console.print(sources)

    identifiers = Table(title="Identifiers", title_justify="left")
    for column in (
        "identifier",
        "complete (input)",
        "complete (golden)",
        "blocked",
        "invalid",
        "hub values",
        "profiles at limit",
    ):
        identifiers.add_column(column, justify="left" if column == "identifier" else "right")
    for identifier in result.config.identifiers:
        name = identifier.name
        at_limit = (
            _count(get("identifier_profiles_at_limit", name) or 0)
            if identifier.limit
            else "no limit"
        )
        identifiers.add_row(
            name,
            _percent(get("identifier_completeness_input", name)),
            _percent(get("identifier_completeness_golden", name)),
            _count(get("identifier_blocked_values", name) or 0),
            _count(get("identifier_invalid_values", name) or 0),
            _count(get("identifier_hub_values", name) or 0),
            at_limit,
        )
    console.print(identifiers)
    # The run's own warnings and the report's may repeat one another: each is shown once.
    for warning in dict.fromkeys([*run.warnings, *run_warnings_for(result)]):
        console.print(f"[yellow]warning:[/] {warning}")


def run_warnings_for(result: Result) -> list[str]:
    """The report's warnings about the run, read through the run's own engine."""
    return run_warnings(result.engine, result.config, result.run.run_id)
