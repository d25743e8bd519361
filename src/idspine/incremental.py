"""Incremental runs: which mode a run takes, and the steps only an incremental run adds.

A run is incremental when the last published run can be trusted as a base: same config,
engine and idspine version, the record state it wrote, and the same active overrides.
Anything else is a full run, and the run says why. An incremental run reads and
standardizes every record (that is how it sees what changed), judges hub values on all of
them, and recomputes candidates, clustering and golden records only in the region a change
can reach (`stages/region.py`); the outputs keep the last run's rows elsewhere
(`stages/splice.py`). The property test in `tests/test_incremental.py` holds it equal to a
full run after every random batch of changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from idspine._version import __version__
from idspine.config.load import Config
from idspine.engines.base import Engine
from idspine.plan import Step
from idspine.sql.build import sql
from idspine.stages import region, splice
from idspine.stages.changes import plan_changes
from idspine.stages.hubs import anchor_identifiers

# Previous published tables an incremental run reads, by their role.
BASE_TABLES = {
    "runs": "identity_runs",
    "state": "identity_record_state",
    "match": "identity_match",
    "pairs": "identity_match_pairs",
    "rule_pairs": "identity_rule_pairs",
    "lookup": "identity_lookup",
    "golden": "identity_golden",
    "unresolved": "identity_unresolved_records",
    "override_status": "identity_override_status",
}
MAX_GROWTH_ROUNDS = 50  # the region grows by whole profiles; real runs need two or three


@dataclass(frozen=True)
class Mode:
    """What kind of run this is, and what it touched (printed and kept in the metrics)."""

    incremental: bool
    reason: str
    records_changed: int = 0
    records_recomputed: int = 0
    profiles_recomputed: int = 0

    def describe(self) -> str:
        if not self.incremental:
            return f"full run ({self.reason})"
        return (
            f"incremental run: {self.records_changed} records changed, "
            f"{self.records_recomputed} records and {self.profiles_recomputed} profiles "
            "recomputed"
        )


def _base(engine: Engine, schema: str) -> dict[str, str] | None:
    tables = {role: engine.read_published(schema, name) for role, name in BASE_TABLES.items()}
    if any(name is None for role, name in tables.items() if role != "override_status"):
        return None
    return {role: name for role, name in tables.items() if name is not None}


def choose_mode(config: Config, engine: Engine, full: bool) -> tuple[Mode, dict[str, str]]:
    """The mode of this run, and the last run's tables an incremental run reads."""
    if full:
        return Mode(False, "--full"), {}
    schema = config.output.schema
    runs = engine.read_published(schema, "identity_runs")
    if runs is None:
        return Mode(False, "first run"), {}
    last = engine.fetch_arrow(
        sql(
            "SELECT config_hash, engine, idspine_version FROM $t WHERE status = 'succeeded' "
            "ORDER BY run_seq DESC LIMIT 1",
            t=exp.to_table(runs, quoted=True),
        )
    ).to_pylist()
    if not last:
        return Mode(False, "no published run yet"), {}
    changed = [
        what
        for what, now, then in (
            ("config", config.config_hash, last[0]["config_hash"]),
            ("engine", config.engine, last[0]["engine"]),
            ("idspine version", __version__, last[0]["idspine_version"]),
        )
        if now != then
    ]
    if changed:
        return Mode(False, " and ".join(changed) + " changed since the last run"), {}
    base = _base(engine, schema)
    if base is None:
        return Mode(False, "the last run kept no record state"), {}
    return Mode(True, "the last run is the base"), base


def overrides_changed(engine: Engine, base: dict[str, str]) -> bool:
    """Whether the active decisions differ from the ones the last run applied."""
    previous = (
        sql("SELECT override_id FROM $t", t=exp.to_table(base["override_status"], quoted=True))
        if "override_status" in base
        else sql("SELECT CAST(NULL AS VARCHAR) AS override_id WHERE false")
    )
    row = engine.fetch_arrow(
        sql(
            "SELECT count(*) AS n FROM (SELECT override_id FROM override_records) AS a "
            "FULL OUTER JOIN ($p) AS b ON a.override_id = b.override_id "
            "WHERE a.override_id IS NULL OR b.override_id IS NULL",
            p=previous,
        )
    )
    return int(row.column("n")[0].as_py()) > 0


def _count(engine: Engine, table: str, what: str = "*") -> int:
    """Rows of a work table (or distinct non-NULL values of one of its columns)."""
    counted = exp.Count(
        this=exp.Star() if what == "*" else exp.Distinct(expressions=[exp.column(what)])
    )
    query = exp.select(counted).from_(exp.to_table(table, quoted=True))
    return int(engine.fetch_arrow(query).column(0)[0].as_py())


def copy(name: str, source: str) -> Step:
    return Step(name, sql("SELECT * FROM $t", t=exp.to_table(source, quoted=True)))


def keep_whole_tables(engine: Engine) -> None:
    """Copies of the tables a full run reads whole, before the region cuts them down."""
    engine.run_all(
        [
            copy(f"all_{name}", name)
            for name in ("records", "lookup", "usable_values", "anchor_values", "override_pairs")
        ]
    )


def find_region(
    config: Config, engine: Engine, base: dict[str, str], candidates: list[Step]
) -> int:
    """Run `candidates` on the region a change can reach, grown until no passing pair
    leaves it; leaves the region's tables for the stages after. Returns the changes."""
    allow_missing = any(c.allow_missing for r in config.rules for c in r.criteria)
    id_column = config.output.id_column
    engine.run(plan_changes(base["state"]))
    engine.run_all(
        [
            *region.plan_seeds(
                anchor_identifiers(config),
                base["lookup"],
                engine.read_published(config.output.schema, "identity_hub_values"),
                allow_missing,
            ),
            region.plan_region_start(),
        ]
    )
    keys, size, rounds = "region_keys_0", -1, 0
    while True:
        keys, size = _close(engine, keys, size, base, id_column)
        engine.run_all(region.plan_region_ids(keys, allow_missing))
        engine.run_all(region.plan_restrict_candidates())
        engine.run_all(candidates)
        engine.run(region.plan_crossing())
        rounds += 1
        if _count(engine, "crossing_keys") == 0:
            break
        if rounds > MAX_GROWTH_ROUNDS:
            raise RuntimeError("the incremental region did not close")
        grown = f"grown_keys_{rounds}"
        engine.run(
            Step(
                grown,
                sql(
                    "SELECT * FROM $k UNION SELECT * FROM crossing_keys",
                    k=exp.to_table(keys, quoted=True),
                ),
            )
        )
        keys = grown
    engine.run(copy("region_keys", keys))
    engine.run_all(region.plan_region_tables())
    return _count(engine, "changed_records")


def _close(
    engine: Engine, keys: str, size: int, base: dict[str, str], id_column: str
) -> tuple[str, int]:
    """`keys` closed over the last run's profiles and pairs (iterated to a fixed point)."""
    step = 0
    while True:
        step += 1
        grown = f"{keys}_c{step}"
        engine.run(region.plan_region_closure(keys, grown, base["match"], base["pairs"], id_column))
        new_size = _count(engine, grown)
        keys = grown
        if new_size == size:
            return keys, new_size
        size = new_size


def whole_membership(engine: Engine, config: Config, base: dict[str, str]) -> tuple[int, int]:
    """`membership` for every record: the region's, recomputed, and the others' as kept.
    Returns the records and profiles recomputed."""
    engine.run(copy("region_membership", "membership"))
    engine.run(
        splice.plan_kept_membership(base["match"], base["unresolved"], config.output.id_column)
    )
    engine.run(splice.plan_whole_membership())
    records = _count(engine, "region_membership")
    profiles = _count(engine, "region_membership", "cluster")
    return records, profiles


def region_golden(golden_steps: list[Step]) -> list[Step]:
    """The golden steps run on the region's members, ending in `region_golden`."""
    restrict = Step(
        "membership",
        sql(
            "SELECT m.* FROM all_membership AS m JOIN region_ids AS i ON i.record_id = m.record_id"
        ),
    )
    last = replace(golden_steps[-1], name="region_golden")
    return [copy("all_membership", "membership"), restrict, *golden_steps[:-1], last]


def splice_outputs(config: Config, engine: Engine, base: dict[str, str]) -> list[Step]:
    """The steps that put the last run's rows and the region's together."""
    id_column = config.output.id_column
    steps = [
        copy("membership", "all_membership"),
        copy("records", "all_records"),
        copy("lookup", "all_lookup"),
        copy("usable_values", "all_usable_values"),
        splice.plan_region_old_ids(base["match"], id_column),
        splice.plan_splice_golden(base["golden"], id_column),
    ]
    return steps


def region_outputs(output_steps: list[Step]) -> list[Step]:
    """The pair outputs computed for the region under `region_<name>`."""
    spliced = {"out_match_pairs", "out_rule_pairs"}
    return [replace(s, name=f"region_{s.name}") if s.name in spliced else s for s in output_steps]


def splice_pairs(base: dict[str, str]) -> list[Step]:
    return [
        splice.plan_splice_pairs("out_match_pairs", base["pairs"]),
        splice.plan_splice_pairs("out_rule_pairs", base["rule_pairs"]),
    ]
