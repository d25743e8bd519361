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

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.conftest import ENGINES, project

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


SEQUENCES = {
    "start": st.lists(st.tuples(st.sampled_from(["crm", "shop"]), record), min_size=3, max_size=10),
    "batches": st.lists(st.lists(change, min_size=1, max_size=4), min_size=2, max_size=3),
    "rules": st.lists(st.sampled_from(RULES), min_size=1, max_size=3, unique_by=str),
}


def _settings(variable: str, default: str) -> settings:
    return settings(
        max_examples=int(os.environ.get(variable, default)),
        deadline=None,
        # No shrinking: a failing sequence is printed whole, and shrinking runs take minutes.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@_settings("IDSPINE_PROPERTY_EXAMPLES", "6")
@given(**SEQUENCES)
def test_incremental_equals_full(
    start: list[tuple[str, dict[str, str]]],
    batches: list[list[tuple[Any, ...]]],
    rules: list[dict[str, Any]],
) -> None:
    modes = check_sequence(start, batches, rules, "duckdb")
    assert all(m.startswith("incremental") for m in modes[1:]), modes


@pytest.mark.spark
@_settings("IDSPINE_SPARK_PROPERTY_EXAMPLES", "1")
@given(**SEQUENCES)
def test_incremental_equals_full_on_spark(
    start: list[tuple[str, dict[str, str]]],
    batches: list[list[tuple[Any, ...]]],
    rules: list[dict[str, Any]],
) -> None:
    modes = check_sequence(start, batches, rules, "spark")
    assert all(m.startswith("incremental") for m in modes[1:]), modes


ANN = [
    {"id": "a1", "email": "ann@x.com", "phone": "", "first_name": "Ann", "updated": "2024-01-01"},
    {"id": "a2", "email": "ann@x.com", "phone": "", "first_name": "Ann", "updated": "2024-01-02"},
    {"id": "a3", "email": "ann@x.com", "phone": "", "first_name": "Anne", "updated": "2024-01-03"},
]
BOB = [
    {"id": "b1", "email": "", "phone": "0611111111", "first_name": "Bob", "updated": "2024-01-01"},
    {"id": "b2", "email": "", "phone": "0611111111", "first_name": "Bob", "updated": "2024-01-02"},
]
SCENARIO_IDENTIFIERS = {
    "email": {"type": "email"},
    "phone": {"type": "phone", "default_region": "FR"},
    "first_name": {"type": "name"},
}
SCENARIO_RULES = [
    {"name": "same_email", "match": {"email": "exact"}},
    {"name": "same_phone", "match": {"phone": "exact"}},
]


def _run(folder: Path, crm: list[dict[str, str]], engine: str, full: bool = False) -> Any:
    config = project(
        folder, {"crm": crm}, identifiers=SCENARIO_IDENTIFIERS, rules=SCENARIO_RULES, engine=engine
    )
    result = idspine.resolve(idspine.load_config(config, base_dir=folder), full=full, force=True)
    with result:
        return result.run.mode, snapshot(result), result.arrow("identity_match").to_pylist()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_change_recomputes_only_its_profiles(tmp_path: Path, engine: str) -> None:
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    incremental.mkdir()
    full.mkdir()
    history = [
        ANN + BOB,
        # a3 changes its name: only Ann's profile is recomputed
        [*ANN[:2], dict(ANN[2], first_name="Annie"), *BOB],
        # Bob leaves: his id retires with a `removed` redirect
        [*ANN[:2], dict(ANN[2], first_name="Annie")],
    ]
    first_mode, _, _ = _run(incremental, history[0], engine)
    _run(full, history[0], engine, full=True)
    assert (first_mode.incremental, first_mode.reason) == (False, "first run")
    mode, answer, _ = _run(incremental, history[1], engine)
    _, expected, _ = _run(full, history[1], engine, full=True)
    assert mode.incremental
    assert (mode.records_changed, mode.records_recomputed, mode.profiles_recomputed) == (1, 3, 1)
    assert answer == expected
    mode, answer, match = _run(incremental, history[2], engine)
    _, expected, _ = _run(full, history[2], engine, full=True)
    assert (mode.records_changed, mode.records_recomputed, mode.profiles_recomputed) == (2, 0, 0)
    assert answer == expected
    assert len({row["profile_id"] for row in match}) == 1
    removed = [r for r in answer["identity_profile_redirects"] if "removed" in r]
    assert len(removed) == 1


def test_full_run_reasons(tmp_path: Path) -> None:
    mode, _, _ = _run(tmp_path, ANN + BOB, "duckdb")
    assert mode.reason == "first run"
    mode, _, _ = _run(tmp_path, ANN + BOB, "duckdb", full=True)
    assert (mode.incremental, mode.reason) == (False, "--full")
    mode, _, _ = _run(tmp_path, ANN + BOB, "duckdb")
    assert (mode.incremental, mode.records_changed, mode.records_recomputed) == (True, 0, 0)
    config = project(
        tmp_path,
        {"crm": ANN + BOB},
        identifiers=SCENARIO_IDENTIFIERS,
        rules=SCENARIO_RULES[:1],
        engine="duckdb",
    )
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        assert not result.run.mode.incremental
        assert result.run.mode.reason == "config changed since the last run"
