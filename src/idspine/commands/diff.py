"""`idspine diff`: what a config change would merge and split, before it is applied.

The changed config runs on a scratch output (an in-memory database for DuckDB, a sibling
directory of the output location for Spark, removed afterwards); its membership is compared
with the published `identity_match` of the current config, read read-only. Nothing is
written to the current outputs on any engine. The trial needs no previous ids: it compares
memberships, not profile ids, so the scratch output starts empty.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from idspine.config.load import Config, Output
from idspine.engines import Engine, open_engine
from idspine.errors import RunError
from idspine.pipeline import run_pipeline
from idspine.plan import Step
from idspine.sql.build import sql
from idspine.stages.overrides import current_ledger

EXAMPLES = 10
NOTHING_PUBLISHED = (
    "the current config has no published run to compare with; run it first (idspine run)"
)


def _scratch(changed: Config) -> Config:
    """The changed config with its outputs redirected away from the live ones."""
    output = changed.output
    if changed.engine == "duckdb":
        return replace(changed, output=Output(":memory:", output.schema, "profile_id", None))
    # Beside the live location, so on the same file system (a cluster's executors see it).
    live = (output.location or f"{output.database}.spark").rstrip("/")
    location = f"{live}.diff-{uuid.uuid4().hex[:12]}"
    return replace(changed, output=Output(output.database, output.schema, "profile_id", location))


def _remove_spark_scratch(engine: Engine, location: str) -> None:
    from idspine.engines.spark_engine import SparkEngine

    if isinstance(engine, SparkEngine):
        engine.files.delete(location)


def diff_configs(
    current: Config, changed: Config, overrides: pa.Table | None = None
) -> dict[str, Any]:
    """What running `changed` would change against the published run of `current`.

    The trial run honours the current override ledger (or `overrides`, to preview a new
    decision), so a config diff shows the config's effect alone.
    """
    if current.engine == "duckdb" and not Path(current.output.database).is_file():
        raise RunError(NOTHING_PUBLISHED)
    engine = open_engine(current, read_only=True)
    try:
        if overrides is None:
            overrides = current_ledger(current.output.schema, engine)
        published = engine.read_published(current.output.schema, "identity_match")
        if published is None:
            raise RunError(NOTHING_PUBLISHED)
        current_match = engine.fetch_arrow(
            sql(
                "SELECT source, record_key, $pid AS profile_id FROM $t",
                pid=exp.column(current.output.id_column, quoted=True),
                t=exp.to_table(published, quoted=True),
            )
        )
    finally:
        engine.close()
    scratch = _scratch(changed)
    trial = open_engine(scratch)
    try:
        run_pipeline(scratch, trial, overrides=overrides)
        trial.register_arrow("diff_current", current_match)
        new_match = exp.table_("identity_match", db=scratch.output.schema, quoted=True)
        # One join of the current and the trial membership, read by the three summaries.
        trial.run(
            Step(
                "diff_joined",
                sql(
                    "SELECT c.source, c.record_key, c.profile_id AS old_profile, "
                    "n.profile_id AS new_profile FROM diff_current AS c JOIN $new AS n "
                    "ON n.source = c.source AND n.record_key = c.record_key",
                    new=new_match,
                ),
            )
        )
        joined = exp.to_table("diff_joined").as_("j")
        merges = trial.fetch_arrow(
            sql(
                "SELECT new_profile, count(DISTINCT old_profile) AS old_profiles, "
                "count(*) AS records, min(source || ':' || record_key) AS example_record "
                "FROM $j WHERE new_profile IS NOT NULL AND old_profile IS NOT NULL "
                "GROUP BY new_profile HAVING count(DISTINCT old_profile) > 1 "
                "ORDER BY records DESC, example_record",
                j=joined.copy(),
            )
        ).to_pylist()
        splits = trial.fetch_arrow(
            sql(
                "SELECT old_profile, count(DISTINCT coalesce(new_profile, source || ':' || "
                "record_key)) AS new_parts, count(*) AS records FROM $j "
                "WHERE old_profile IS NOT NULL GROUP BY old_profile "
                "HAVING count(DISTINCT coalesce(new_profile, source || ':' || record_key)) > 1 "
                "ORDER BY records DESC, old_profile",
                j=joined.copy(),
            )
        ).to_pylist()
        status = trial.fetch_arrow(
            sql(
                "SELECT count(*) FILTER (WHERE old_profile IS NULL AND new_profile IS NOT NULL) "
                "AS newly_resolved, count(*) FILTER (WHERE old_profile IS NOT NULL AND "
                "new_profile IS NULL) AS newly_unresolved, count(DISTINCT old_profile) AS "
                "old_profiles, count(DISTINCT new_profile) AS new_profiles FROM $j",
                j=joined.copy(),
            )
        ).to_pylist()[0]
    finally:
        if scratch.engine == "spark" and scratch.output.location:
            _remove_spark_scratch(trial, scratch.output.location)
        trial.close()
    return {
        **status,
        "merges": len(merges),
        "merge_examples": merges[:EXAMPLES],
        "splits": len(splits),
        "split_examples": splits[:EXAMPLES],
    }


def render_diff(outcome: dict[str, Any]) -> str:
    lines = [
        f"profiles: {outcome['old_profiles']:,} now -> {outcome['new_profiles']:,} with the change",
        f"merges: {outcome['merges']:,} new profiles would join several current ones",
        f"splits: {outcome['splits']:,} current profiles would be split",
        f"records newly resolved: {outcome['newly_resolved']:,}; newly unresolved: "
        f"{outcome['newly_unresolved']:,}",
    ]
    for merge in outcome["merge_examples"]:
        lines.append(
            f"  merge: {merge['old_profiles']} profiles, {merge['records']} records "
            f"(e.g. {merge['example_record']})"
        )
    for split in outcome["split_examples"]:
        lines.append(
            f"  split: {split['old_profile']} into {split['new_parts']} parts "
            f"({split['records']} records)"
        )
    return "\n".join(lines)
