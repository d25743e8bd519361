"""A run killed while publishing leaves the previous outputs complete (spec §10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from tests.conftest import project, write_csv

import idspine
from idspine.engines.duckdb_engine import PUBLISH_DELAY_VARIABLE
from idspine.errors import InputError

TABLES = (
    "identity_golden",
    "identity_match",
    "identity_lookup",
    "identity_match_pairs",
    "identity_runs",
    "identity_run_metrics",
)
IDENTIFIERS = {"email": {"type": "email"}}
RULES = [{"name": "same_email", "match": {"email": "exact"}}]

CHILD = """
import sys, idspine
config = idspine.load_config(sys.argv[1])
idspine.resolve(config, progress=lambda stage: print(stage, flush=True)).close()
"""


def snapshot(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            t: sorted(connection.execute(f"SELECT * FROM identity.{t}").fetchall(), key=repr)
            for t in TABLES
        }


def records(count: int, domain: str) -> list[dict[str, str]]:
    return [
        {"id": str(i), "email": f"user{i % (count // 2)}@{domain}", "updated": "2024-01-01"}
        for i in range(count)
    ]


def write_config(tmp_path: Path) -> Path:
    config = project(
        tmp_path, {"crm": records(40, "first.com")}, identifiers=IDENTIFIERS, rules=RULES
    )
    import yaml

    path = tmp_path / "idspine.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_killed_publish_keeps_previous_outputs(tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    idspine.resolve(config_path).close()
    database = tmp_path / "out.duckdb"
    before = snapshot(database)

    write_csv(tmp_path / "crm.csv", records(60, "second.com"))
    env = dict(os.environ, **{PUBLISH_DELAY_VARIABLE: "1.0"})
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config_path)], env=env, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "publish":
                break
        time.sleep(2.5)  # inside the publish transaction: some tables already replaced
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert snapshot(database) == before
    with idspine.resolve(config_path) as result:
        assert result.run.status == "succeeded"
        emails = {r["value"] for r in result.arrow("identity_lookup").to_pylist()}
    assert all(email.endswith("@second.com") for email in emails)
    assert len(snapshot(database)["identity_runs"]) == 2


def test_failed_validation_keeps_previous_outputs(tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    idspine.resolve(config_path).close()
    before = snapshot(tmp_path / "out.duckdb")
    broken = [*records(10, "x.com"), {"id": "1", "email": "dup@x.com", "updated": "2024-01-01"}]
    write_csv(tmp_path / "crm.csv", broken)
    with pytest.raises(InputError, match="not unique"):
        idspine.resolve(config_path)
    assert snapshot(tmp_path / "out.duckdb") == before
