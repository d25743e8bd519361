"""Warnings about a run's data, shown in the run summary and the report.

`stages.checks.data_warnings` reads only metrics, so the pipeline (on any engine, from its
work tables) and the report (from the published tables) say the same thing. `run_warnings`
adds what the report reads from the published tables (hub values, an outlier profile,
rules that merged nothing, a sharp change in profiles).
"""

from __future__ import annotations

from idspine.commands.published import Reader
from idspine.config.load import Config
from idspine.engines.base import Engine
from idspine.stages.checks import data_warnings

SHARP_CHANGE = 0.20  # relative change in profiles vs the previous run worth a warning
OUTLIER_MIN_RECORDS = 10  # a profile this large ...
OUTLIER_FACTOR = 5  # ... and this many times the next largest stands out


def metrics_of(reader: Reader, run_id: str) -> dict[tuple[str, str], float | None]:
    rows = reader.rows("SELECT metric, dimension, value FROM $run_metrics WHERE run_id = ?", run_id)
    # A rate without a denominator is NULL in the run and stays None here (shown as a dash).
    return {
        (r["metric"], r["dimension"]): None if r["value"] is None else float(r["value"])
        for r in rows
    }


def run_warnings(engine: Engine, config: Config, run_id: str) -> list[str]:
    """Plain-language warnings about a run, for the report and the command line.

    Metrics come from the given run; the profile sizes and hub examples from the published
    tables, which hold the latest successful run.
    """
    reader = Reader(engine, config)
    metrics = metrics_of(reader, run_id)
    warnings = []
    hubs_of = {
        i.name: int(metrics.get(("identifier_hub_values", i.name)) or 0) for i in config.identifiers
    }
    # The hub values the run decided (only identifiers some rule links on can have any).
    recorded = (
        reader.rows(
            "SELECT identifier, value FROM (SELECT identifier, value, row_number() OVER ("
            "PARTITION BY identifier ORDER BY records DESC, value) AS position FROM $hub_values "
            "WHERE rule IS NULL) "
            "WHERE position <= 3 ORDER BY identifier, position"
        )
        if any(hubs_of.values())
        else []
    )
    for ident in config.identifiers:
        hubs = hubs_of[ident.name]
        if hubs:
            examples = [v["value"] for v in recorded if v["identifier"] == ident.name]
            shown = f" (e.g. {', '.join(examples)})" if examples else ""
            warnings.append(
                f"{ident.name}: {hubs:,} value{'s are' if hubs != 1 else ' is'} shared by more "
                f"than {ident.max_group_size:,} records{shown}. Such hub values are ignored for "
                "matching; they are usually placeholders, so consider adding them to the block "
                "list."
            )
    largest = reader.rows(
        "SELECT $id AS profile_id, record_count FROM $golden "
        "ORDER BY record_count DESC, $id LIMIT 2"
    )
    if largest:
        size = int(largest[0]["record_count"])
        runner_up = int(largest[1]["record_count"]) if len(largest) > 1 else 1
        if size >= OUTLIER_MIN_RECORDS and size >= OUTLIER_FACTOR * runner_up:
            warnings.append(
                f"Profile {largest[0]['profile_id']} holds {size:,} records, far more than any "
                f"other (next largest: {runner_up:,}). A value shared by different people can "
                "chain them together: check it with `idspine explain --profile`."
            )
    for rule in config.rules:
        bounded = int(metrics.get(("rule_bounded_values", rule.name)) or 0)
        if bounded:
            records = int(metrics.get(("rule_bounded_records", rule.name)) or 0)
            warnings.append(
                f"Rule '{rule.name}' skipped {bounded:,} anchor value{'s' if bounded != 1 else ''} "
                f"held by more than {rule.max_group_size:,} records ({records:,} records in "
                "all): its max_group_size keeps a weak anchor from pairing namesakes; those "
                "records can still match by other rules (see identity_hub_values)."
            )
        if not metrics.get(("rule_merged", rule.name), 0):
            found = int(metrics.get(("rule_pairs_found", rule.name)) or 0)
            why = (
                "it found no matching pairs"
                if not found
                else f"its {found:,} pair{'s were' if found != 1 else ' was'} found first by a "
                "stronger rule, already joined, or refused"
            )
            warnings.append(f"Rule '{rule.name}' merged nothing: {why}.")
    previous = reader.rows(
        "SELECT run_id, run_seq, config_hash FROM $runs WHERE status = 'succeeded' "
        "AND run_seq < (SELECT max(run_seq) FROM $runs WHERE run_id = ?) "
        "ORDER BY run_seq DESC LIMIT 1",
        run_id,
    )
    previous_metrics = metrics_of(reader, previous[0]["run_id"]) if previous else None
    if previous and previous_metrics is not None:
        before = previous_metrics.get(("profiles", "")) or 0.0
        now = metrics.get(("profiles", "")) or 0.0
        if before and abs(now - before) / before > SHARP_CHANGE:
            change = (now - before) / before
            config_note = (
                " The configuration changed since that run."
                if previous[0]["config_hash"] != config.config_hash
                else ""
            )
            warnings.append(
                f"The number of profiles changed by {change:+.0%} since the previous run "
                f"(run {previous[0]['run_seq']}: {before:,.0f}, now {now:,.0f}).{config_note}"
            )
    return [*data_warnings(config, metrics, previous_metrics), *warnings]
