"""Incremental runs give the full run's answer.

The property: from a random start, random batches of inserts, updates and deletes (tiny
value pools, so batches create and dissolve hub values, bridge and split profiles, cross
a conflict limit and contest anchors) are run twice, incrementally in one output and with
`full=True` in another with the same history. After every batch every published table and
every metric must be equal, except what describes the run itself (its id, timings, mode).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.conftest import project

import idspine
from idspine.stages.outputs import PUBLISHED

FIRST = ["Jean", "Jeanne", "Marie", ""]
LAST = ["Dupont", "Dupond", "Martin", ""]
EMAIL = ["a@x.com", "b@x.com", "c@x.com", ""]
PHONE = ["0145454545", "0611223344", ""]
CUSTOMER = ["K1", "K2", ""]

record = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(FIRST),
        "last_name": st.sampled_from(LAST),
        "email": st.sampled_from(EMAIL),
        "phone": st.sampled_from(PHONE),
        "customer_id": st.sampled_from(CUSTOMER),
        "updated": st.sampled_from(["2024-01-01", "2024-02-01", ""]),
    }
)
# One change: ("insert", source, fields), ("update", index, fields) or ("delete", index).
change = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(["crm", "shop"]), record),
    st.tuples(st.just("update"), st.integers(0, 30), record),
    st.tuples(st.just("delete"), st.integers(0, 30)),
)
NAMES = ["first_name", "last_name"]
RULES: list[dict[str, Any]] = [
    {"name": "same_email", "match": {"email": "exact"}},
    {
        "name": "phone_names",
        "match": {
            "phone": "exact",
            "names": {"identifiers": NAMES, "type": "fuzzy_medium", "allow_missing": True},
        },
    },
    {"name": "email_first_name", "match": {"email": "exact", "first_name": "fuzzy_strong"}},
]
IDENTIFIERS = {
    "email": {"type": "email", "max_group_size": 3},
    "phone": {"type": "phone", "default_region": "FR"},
    "customer_id": {"type": "text", "limit": 1},
    "first_name": {"type": "name"},
    "last_name": {"type": "name"},
}
# Metrics that describe the run's work rather than its answer (an incremental run clusters
# and replays only its region).
RUN_METRICS = ("stage_seconds_", "run_incremental", "records_changed", "records_recomputed")
RUN_METRICS += ("profiles_recomputed", "conflict_components", "largest_conflict_component")
RUN_METRICS += ("replayed_pairs",)


class Sources:
    """The records of two sources, changed batch by batch."""

    def __init__(self, start: list[tuple[str, dict[str, str]]]) -> None:
        self.rows: list[tuple[str, dict[str, str]]] = []
        self.next_key = 0
        for source, fields in start:
            self.insert(source, fields)

    def insert(self, source: str, fields: dict[str, str]) -> None:
        self.rows.append((source, {"id": f"{source[0]}{self.next_key}", **fields}))
        self.next_key += 1

    def apply(self, batch: list[tuple[Any, ...]]) -> None:
        for item in batch:
            if item[0] == "insert":
                self.insert(item[1], item[2])
            elif self.rows and item[0] == "update":
                _source, row = self.rows[item[1] % len(self.rows)]
                row.update(item[2])
            elif self.rows:
                del self.rows[item[1] % len(self.rows)]

    def tables(self) -> dict[str, list[dict[str, str]]]:
        # A source emptied by deletes keeps one blank record, so that it keeps its columns.
        empty = {"id": "placeholder", "updated": "", **dict.fromkeys(IDENTIFIERS, "")}
        out: dict[str, list[dict[str, str]]] = {"crm": [], "shop": []}
        for source, row in self.rows:
            out[source].append(dict(row))
        return {name: rows or [dict(empty)] for name, rows in out.items()}


def snapshot(result: idspine.Result) -> dict[str, list[tuple[Any, ...]]]:
    """Every published table as sorted rows, without what describes the run itself."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in [*PUBLISHED, "identity_run_metrics"]:
        data = result.arrow(table).to_pylist()
        if table == "identity_run_metrics":
            data = [
                {k: v for k, v in row.items() if k != "run_id"}
                for row in data
                if not row["metric"].startswith(RUN_METRICS)
            ]
        if table == "identity_profile_redirects":
            data = [{k: v for k, v in row.items() if k != "run_id"} for row in data]
        tables[table] = sorted(tuple(str(v) for v in row.values()) for row in data)
    return tables


def run_both(
    folder: Path, sources: Sources, rules: list[dict[str, Any]], engine: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    answers = []
    mode = ""
    for name, full in (("incremental", False), ("full", True)):
        tmp = folder / name
        tmp.mkdir(exist_ok=True)
        config = project(
            tmp,
            sources.tables(),
            identifiers=IDENTIFIERS,
            rules=rules,
            engine=engine,
            checks={"max_id_churn": 1.0, "max_profile_count_change": 1.0},
        )
        with idspine.resolve(
            idspine.load_config(config, base_dir=tmp), full=full, force=True
        ) as result:
            answers.append(snapshot(result))
            if not full:
                mode = result.run.mode.describe()
    return answers[0], answers[1], mode


def check_sequence(
    start: list[tuple[str, dict[str, str]]],
    batches: list[list[tuple[Any, ...]]],
    rules: list[dict[str, Any]],
    engine: str,
) -> list[str]:
    sources = Sources(start)
    modes = []
    with tempfile.TemporaryDirectory() as folder:
        for step, batch in enumerate([[], *batches]):
            sources.apply(batch)
            incremental, full, mode = run_both(Path(folder), sources, rules, engine)
            modes.append(mode)
            for table in full:
                assert incremental[table] == full[table], (step, table, mode)
    return modes


@settings(
    max_examples=int(os.environ.get("IDSPINE_PROPERTY_EXAMPLES", "6")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    start=st.lists(st.tuples(st.sampled_from(["crm", "shop"]), record), min_size=3, max_size=10),
    batches=st.lists(st.lists(change, min_size=1, max_size=4), min_size=2, max_size=3),
    rules=st.lists(st.sampled_from(RULES), min_size=1, max_size=3, unique_by=str),
)
def test_incremental_equals_full(
    start: list[tuple[str, dict[str, str]]],
    batches: list[list[tuple[Any, ...]]],
    rules: list[dict[str, Any]],
) -> None:
    modes = check_sequence(start, batches, rules, "duckdb")
    assert all(m.startswith("incremental") for m in modes[1:]), modes
