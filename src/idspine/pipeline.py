"""The pipeline: the ordered stages of spec §2, run on one engine, published atomically.

Each stage plans `Step`s (SQL trees) and the engine runs them; Python only orchestrates,
except inside the rare conflict components that `cluster` replays pair by pair.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pyarrow as pa
from sqlglot import exp

from idspine import incremental
from idspine._version import __version__
from idspine.config.load import Config
from idspine.engines.base import Engine
from idspine.errors import HeldRun
from idspine.incremental import Mode
from idspine.plan import Step
from idspine.sql.build import sql
from idspine.stages import candidates, membership, profile_ids, standardize
from idspine.stages.candidates import plan_candidate_pairs
from idspine.stages.changes import plan_record_state, plan_state_output
from idspine.stages.checks import CheckResult, check_metrics, check_run, evaluate_checks
from idspine.stages.cluster import ClusterStats, cluster
from idspine.stages.golden import plan_golden
from idspine.stages.hubs import plan_hub_values
from idspine.stages.membership import plan_membership
from idspine.stages.metrics import plan_metrics
from idspine.stages.outputs import APPENDED, PUBLISHED, plan_outputs
from idspine.stages.overrides import all_decisions, plan_override_status, plan_overrides
from idspine.stages.profile_ids import plan_profile_ids, previous_id_column
from idspine.stages.read import plan_raw_lookup, plan_records, stage_sources
from idspine.stages.splice import plan_splice_override_status as splice_override_status
from idspine.stages.standardize import plan_standardize

STAGES = ("read", "standardize", "candidates", "cluster", "profile_ids", "golden", "publish")

Progress = Callable[[str], None]


@dataclass
class RunInfo:
    run_id: str
    run_seq: int
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    stage_seconds: dict[str, float] = field(default_factory=dict)
    cluster_stats: ClusterStats = field(default_factory=ClusterStats)
    warnings: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    mode: Mode = field(default_factory=lambda: Mode(False, "not started"))


@contextmanager
def _timed(info: RunInfo, stage: str, progress: Progress | None) -> Iterator[None]:
    if progress:
        progress(stage)
    start = time.perf_counter()
    yield
    info.stage_seconds[stage] = round(time.perf_counter() - start, 3)


def _next_run_seq(engine: Engine, schema: str) -> int:
    runs = engine.read_published(schema, "identity_runs")
    if runs is None:
        return 1
    row = engine.fetch_arrow(
        sql(
            # Held runs count too: every run row keeps its own number.
            "SELECT coalesce(max(run_seq), 0) AS last FROM $t "
            "WHERE status IN ('succeeded', 'held')",
            t=exp.to_table(runs, quoted=True),
        )
    )
    return int(row.column("last")[0].as_py()) + 1


def _run_steps(engine: Engine, steps: list[Step], keep: set[str] | None = None) -> None:
    """Run planned steps, flagging the ones that become published tables.

    With `keep`, every other work table of these steps is released afterwards: later stages
    read only the kept ones, and freeing the rest keeps large runs in memory.
    """
    published = set(PUBLISHED.values())
    engine.run_all([replace(s, output=True) if s.name in published else s for s in steps])
    if keep is not None:
        engine.release([s.name for s in reversed(steps) if s.name not in keep | published])


def run_pipeline(
    config: Config,
    engine: Engine,
    progress: Progress | None = None,
    overrides: pa.Table | None = None,
    force: bool = False,
    full: bool = False,
) -> RunInfo:
    """Run every stage and publish; on any failure the previous outputs stay as they were.

    `overrides` replaces the published override ledger (for trial runs such as `diff`).
    When a publish check fails the run is held (HeldRun) unless `force`. The run is
    incremental when the last run can be its base (see `incremental.py`), unless `full`.
    """
    schema = config.output.schema
    info = RunInfo(uuid.uuid4().hex[:16], _next_run_seq(engine, schema), datetime.now(UTC))
    mode, base = incremental.choose_mode(config, engine, full or overrides is not None)
    engine.begin_run(schema)
    with _timed(info, "read", progress):
        staged = stage_sources(config, engine)
        engine.run(plan_records(staged, config.field_names))
        engine.run_all(plan_raw_lookup(staged, config))
        engine.run_all(plan_record_state(config.field_names))
        engine.release([item.table for item in staged])
        for item in staged:
            if item.unparsed_order_values:
                info.warnings.append(
                    f"source {item.source.name}: {item.unparsed_order_values} values of "
                    f"'{item.source.order_column}' could not be read as a time; those records "
                    "count as oldest"
                )
    with _timed(info, "standardize", progress):
        _run_steps(engine, plan_standardize(config, engine.name), set(standardize.PROVIDES))
    with _timed(info, "candidates", progress):
        # The decisions this run honours: given ones (a trial run) or the published ledger.
        engine.register_arrow("override_ledger", all_decisions(config, engine, overrides))
        _run_steps(engine, plan_overrides("override_ledger"))
        if mode.incremental and incremental.overrides_changed(engine, base):
            mode = Mode(False, "overrides changed since the last run")
        if mode.incremental:
            _run_steps(engine, plan_hub_values(config), {"hub_values", "anchor_values"})
            incremental.keep_whole_tables(engine)
            changed = incremental.find_region(
                config, engine, base, plan_candidate_pairs(config, engine.name, judge_hubs=False)
            )
        else:
            _run_steps(
                engine,
                plan_candidate_pairs(config, engine.name),
                set(candidates.PROVIDES),
            )
    with _timed(info, "cluster", progress):
        info.cluster_stats = cluster(config, engine)
        _run_steps(engine, plan_membership(config), set(membership.PROVIDES))
        if mode.incremental:
            records, profiles = incremental.whole_membership(engine, config, base)
            mode = replace(
                mode,
                records_changed=changed,
                records_recomputed=records,
                profiles_recomputed=profiles,
            )
    info.mode = mode
    with _timed(info, "profile_ids", progress):
        previous_match = engine.read_published(schema, "identity_match")
        _run_steps(
            engine,
            plan_profile_ids(
                info.run_seq,
                info.run_id,
                previous_match,
                engine.read_published(schema, "identity_profile_ids"),
                engine.read_published(schema, "identity_profile_redirects"),
                engine.read_published(schema, "identity_retired_members"),
                previous_id_column(
                    engine.columns(previous_match) if previous_match else [],
                    config.output.id_column,
                ),
            ),
            set(profile_ids.PROVIDES),
        )
    with _timed(info, "golden", progress):
        golden = plan_golden(config, config.output.id_column)
        if mode.incremental:
            engine.run_all(incremental.region_golden(golden))
            _run_steps(engine, incremental.splice_outputs(config, engine, base))
        else:
            _run_steps(engine, golden, set())
    with _timed(info, "publish", progress):
        _publish_outputs(engine, config, info.run_seq, mode, base)
        _run_steps(engine, plan_metrics(config))
        info.warnings += check_run(engine, config)
        results = evaluate_checks(engine, config.checks, schema)
        info.checks = results
        failed = [r.describe() for r in results if r.failed]
        held = bool(failed) and not force
        engine.register_arrow("check_metrics", check_metrics(results, force))
        _stage_run_rows(engine, config, info, "held" if held else "succeeded")
        if held:
            # Only the run history: the staged outputs stay for inspection until the next run.
            engine.publish(schema, {}, APPENDED)
            info.status = "held"
            raise HeldRun(info.run_id, failed)
        engine.publish(schema, PUBLISHED, APPENDED)
    if failed:
        info.warnings.append("published despite failed checks (--force): " + "; ".join(failed))
    info.status = "succeeded"
    return info


def _publish_outputs(
    engine: Engine, config: Config, run_seq: int, mode: Mode, base: dict[str, str]
) -> None:
    """The published tables: whole in a full run; in an incremental run, the pair tables
    and the override status spliced from the region's rows and the last run's."""
    previous_status = engine.read_published(config.output.schema, "identity_override_status")
    status = plan_override_status(run_seq, previous_status)
    outputs = [*plan_outputs(config), plan_state_output()]
    if not mode.incremental:
        _run_steps(engine, [status, *outputs])
        return
    spliced = incremental.splice_pairs(base)
    if previous_status is not None:
        engine.run(replace(status, name="region_override_status"))
        spliced.append(splice_override_status(previous_status))
    else:
        spliced.append(status)
    _run_steps(engine, incremental.region_outputs(outputs) + spliced)


def _stage_run_rows(engine: Engine, config: Config, info: RunInfo, status: str) -> None:
    info.finished_at = datetime.now(UTC)
    stats = info.cluster_stats
    extra = {
        **{f"stage_seconds_{k}": v for k, v in info.stage_seconds.items()},
        "conflict_components": stats.conflict_components,
        "largest_conflict_component": stats.largest_conflict_component,
        "replayed_pairs": stats.replayed_pairs,
        "run_incremental": int(info.mode.incremental),
        "records_changed": info.mode.records_changed,
        "records_recomputed": info.mode.records_recomputed,
        "profiles_recomputed": info.mode.profiles_recomputed,
    }
    engine.register_arrow(
        "run_extra_metrics",
        pa.table(
            {
                "metric": pa.array(list(extra), pa.string()),
                "dimension": pa.array([""] * len(extra), pa.string()),
                "value": pa.array([float(v) for v in extra.values()], pa.float64()),
            }
        ),
    )
    engine.run(
        Step(
            "run_metrics",
            sql(
                "SELECT $run AS run_id, metric, dimension, value FROM metric_values UNION ALL "
                "SELECT $run, metric, dimension, value FROM run_extra_metrics UNION ALL "
                "SELECT $run, metric, dimension, value FROM check_metrics",
                run=exp.Literal.string(info.run_id),
            ),
        )
    )
    engine.register_arrow("out_run", run_row(config, info, status))


def run_row(config: Config, info: RunInfo, status: str) -> pa.Table:
    return pa.table(
        {
            "run_id": [info.run_id],
            "run_seq": pa.array([info.run_seq], pa.int64()),
            "project": [config.project],
            "started_at": pa.array([info.started_at.replace(tzinfo=None)], pa.timestamp("us")),
            "finished_at": pa.array(
                [(info.finished_at or datetime.now(UTC)).replace(tzinfo=None)], pa.timestamp("us")
            ),
            "status": [status],
            "config_hash": [config.config_hash],
            "engine": [config.engine],
            "idspine_version": [__version__],
            "sources": [",".join(sorted(s.name for s in config.sources))],
        }
    )
