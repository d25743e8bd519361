"""Stewards' decisions (must-link, cannot-link, detach) and the publish gate, end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from tests.conftest import ENGINES, project, write_csv
from typer.testing import CliRunner

import idspine
from idspine.commands.cli import app
from idspine.commands.override_commands import list_overrides, record_override, remove_override
from idspine.errors import HeldRun, InputError

IDENTIFIERS = {
    "email": {"type": "email", "limit": 2},
    "customer_id": {"type": "id", "limit": 1},
}
RULES = [{"name": "same_email", "match": {"email": "exact"}}]
# 1 ~ 2 ~ 3 chained by two emails; 4 alone; 5 and 6 each hold their own customer id.
CRM = [
    {"id": "1", "email": "a@x.com", "customer_id": "", "updated": "2024-01-01"},
    {"id": "2", "email": "a@x.com", "customer_id": "", "updated": "2024-01-02"},
    {"id": "3", "email": "a@x.com", "customer_id": "", "updated": "2024-01-03"},
    {"id": "4", "email": "d@x.com", "customer_id": "", "updated": "2024-01-04"},
    {"id": "5", "email": "e@x.com", "customer_id": "C5", "updated": "2024-01-05"},
    {"id": "6", "email": "f@x.com", "customer_id": "C6", "updated": "2024-01-06"},
]


def setup(tmp_path: Path, engine: str, rows: list[dict[str, str]] = CRM) -> idspine.Config:
    raw = project(tmp_path, {"crm": rows}, identifiers=IDENTIFIERS, rules=RULES, engine=engine)
    if engine == "spark":
        raw["output"]["location"] = str(tmp_path / "published")
    return idspine.load_config(raw, base_dir=tmp_path)


def run(config: idspine.Config, **options: Any) -> dict[str, Any]:
    with idspine.resolve(config, **options) as result:
        match = result.arrow("identity_match").to_pylist()
        pairs = result.arrow("identity_match_pairs").to_pylist()
        status = result.arrow("identity_override_status").to_pylist()
    return {
        "profile": {r["record_key"]: r["profile_id"] for r in match},
        "status": {r["record_key"]: r["status"] for r in match},
        "pairs": {(p["left_key"], p["right_key"]): p for p in pairs},
        "overrides": {r["override_id"]: r for r in status},
    }


def decide(config: idspine.Config, kind: str, *refs: str) -> str:
    outcome = record_override(config, kind, list(refs), f"{kind} test", by="tester", preview=False)
    return str(outcome["override"]["override_id"])


@pytest.mark.parametrize("engine", ENGINES)
def test_cannot_link_breaks_a_chain_and_survives_reruns(tmp_path: Path, engine: str) -> None:
    config = setup(tmp_path, engine)
    first = run(config)
    assert first["profile"]["1"] == first["profile"]["3"]
    override = decide(config, "cannot_link", "crm:1", "crm:3")
    second = run(config)
    # No chain may join 1 and 3: the pair ranked last that would close it is refused.
    assert second["profile"]["1"] != second["profile"]["3"]
    # 1 ~ 2 merges first; 1 ~ 3 and 2 ~ 3 would each put 1 and 3 together.
    refused = {
        k: p["conflict_identifier"] for k, p in second["pairs"].items() if p["status"] == "refused"
    }
    assert refused == {("1", "3"): f"override:{override}", ("2", "3"): f"override:{override}"}
    assert second["overrides"][override]["status"] == "applied"
    assert second["overrides"][override]["first_applied_run"] == 2
    # The profile of 1 keeps its id; nothing is quarantined by a decision.
    assert second["profile"]["1"] == first["profile"]["1"]
    assert set(second["status"].values()) <= {"unique", "matched"}
    third = run(config)
    assert third["profile"] == second["profile"]
    assert third["overrides"][override]["first_applied_run"] == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_must_link_joins_and_a_limit_still_refuses(tmp_path: Path, engine: str) -> None:
    config = setup(tmp_path, engine)
    run(config)
    joined = decide(config, "must_link", "crm:4", "crm:1")
    over_limit = decide(config, "must_link", "crm:5", "crm:6")
    outcome = run(config)
    assert outcome["profile"]["4"] == outcome["profile"]["1"]
    assert outcome["pairs"][("1", "4")]["rule"] == "override:must_link"
    assert outcome["overrides"][joined]["status"] == "applied"
    # Two customer ids (limit 1): the decision is reported as refused, never ignored.
    assert outcome["profile"]["5"] != outcome["profile"]["6"]
    assert outcome["overrides"][over_limit]["status"] == "refused"
    assert "customer_id" in outcome["overrides"][over_limit]["detail"]


@pytest.mark.parametrize("engine", ENGINES)
def test_detach_and_remove(tmp_path: Path, engine: str) -> None:
    config = setup(tmp_path, engine)
    run(config)
    detached = decide(config, "detach", "crm:2")
    outcome = run(config)
    assert outcome["status"]["2"] == "unique"
    assert outcome["profile"]["1"] == outcome["profile"]["3"] != outcome["profile"]["2"]
    remove_override(config, detached, "merged after all", by="tester")
    assert list_overrides(config) == []
    restored = run(config)
    assert restored["profile"]["1"] == restored["profile"]["2"] == restored["profile"]["3"]


def test_an_override_whose_record_disappeared_is_reported(tmp_path: Path) -> None:
    config = setup(tmp_path, "duckdb")
    run(config)
    override = decide(config, "cannot_link", "crm:1", "crm:3")
    write_csv(tmp_path / "crm.csv", [r for r in CRM if r["id"] != "3"])
    outcome = run(config)
    assert outcome["overrides"][override]["status"] == "missing_record"
    listed = list_overrides(config)
    assert [(r["override_id"], r["last_status"]) for r in listed] == [(override, "missing_record")]


def test_decisions_check_their_records(tmp_path: Path) -> None:
    config = setup(tmp_path, "duckdb")
    run(config)
    with pytest.raises(InputError, match="no record crm:99"):
        decide(config, "must_link", "crm:1", "crm:99")
    with pytest.raises(InputError, match="2 different record"):
        decide(config, "cannot_link", "crm:1", "crm:1")
    preview = record_override(config, "cannot_link", ["crm:1", "crm:3"], "why", preview=True)
    assert preview["preview"]["splits"] == 1


def published_tables(database: Path) -> str:
    """A digest of every published table's sorted rows (staged tables of a held run are
    kept apart, for inspection, and are not outputs)."""
    digest = hashlib.sha256()
    with duckdb.connect(str(database), read_only=True) as connection:
        names = connection.sql(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'identity' "
            "AND table_name NOT IN ('identity_runs', 'identity_run_metrics') "
            "AND NOT starts_with(table_name, '_staging_') ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            rows = connection.sql(f'SELECT * FROM identity."{name}"').fetchall()
            digest.update(name.encode())
            digest.update(repr(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


def test_a_held_run_publishes_nothing_but_its_history(tmp_path: Path) -> None:
    config = setup(tmp_path, "duckdb")
    run(config)
    before = published_tables(tmp_path / "out.duckdb")
    strict = idspine.load_config(
        {
            **project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=RULES),
            "checks": {"max_profile_records": 2},
        },
        base_dir=tmp_path,
    )
    with pytest.raises(HeldRun, match="max_profile_records"):
        idspine.resolve(strict)
    assert published_tables(tmp_path / "out.duckdb") == before
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as connection:
        runs = connection.sql(
            "SELECT run_seq, status FROM identity.identity_runs ORDER BY run_seq"
        ).fetchall()
        failed = connection.sql(
            "SELECT m.dimension, m.value FROM identity.identity_run_metrics AS m "
            "JOIN identity.identity_runs AS r USING (run_id) "
            "WHERE r.status = 'held' AND m.metric = 'check_failed' AND m.value = 1"
        ).fetchall()
    assert runs == [(1, "succeeded"), (2, "held")]
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as connection:
        staged = connection.sql(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'identity' "
            "AND table_name = '_staging_golden'"
        ).fetchall()
    assert staged == [(1,)]  # the held run's golden table, kept for inspection
    assert failed == [("max_profile_records", 1.0)]
    forced = run(strict, force=True)
    assert forced["profile"]["1"] == forced["profile"]["3"]


def test_the_cli_exits_3_on_a_held_run(tmp_path: Path) -> None:
    raw = project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=RULES)
    raw["checks"] = {"max_profile_records": 2}
    path = tmp_path / "idspine.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    held = CliRunner().invoke(app, ["run", str(path)])
    assert held.exit_code == 3, held.output
    assert "max_profile_records" in held.output
    assert CliRunner().invoke(app, ["run", str(path), "--force"]).exit_code == 0


def test_decisions_from_a_versioned_file(tmp_path: Path) -> None:
    (tmp_path / "decisions.csv").write_text(
        "kind,record,other_record,reason\n"
        "cannot_link,crm:1,crm:3,two people (call notes)\n"
        "must_link,crm:4,crm:5,same person\n",
        encoding="utf-8",
    )
    raw = project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=RULES)
    config = idspine.load_config({**raw, "overrides_file": "decisions.csv"}, base_dir=tmp_path)
    outcome = run(config)
    assert outcome["profile"]["1"] != outcome["profile"]["3"]
    assert outcome["profile"]["4"] == outcome["profile"]["5"]
    assert {r["status"] for r in outcome["overrides"].values()} == {"applied"}
    assert run(config)["overrides"].keys() == outcome["overrides"].keys()  # stable ids
    assert len(list_overrides(config)) == 2
    (tmp_path / "bad.csv").write_text("kind,record,other_record,reason\nmerge,crm:1,crm:2,x\n")
    with pytest.raises(idspine.ConfigError, match=r"overrides_file: bad\.csv line 2"):
        idspine.load_config({**raw, "overrides_file": "bad.csv"}, base_dir=tmp_path)


def test_explain_says_when_the_latest_run_was_held(tmp_path: Path) -> None:
    from idspine.commands.explain import explain_records, render_text

    config = setup(tmp_path, "duckdb")
    run(config)
    raw = project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=RULES)
    strict = idspine.load_config({**raw, "checks": {"max_profile_records": 2}}, base_dir=tmp_path)
    with pytest.raises(HeldRun):
        idspine.resolve(strict)
    answer = explain_records(config, "crm:1", "crm:3")
    assert answer["same_profile"] is True
    assert "was held by the publish checks" in render_text(answer)
