"""The report's publish-gate and override sections: a held run, the checks of the shown run,
the stewards' decisions and the sample pairs they decided."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from markupsafe import escape

import idspine
from idspine.commands.override_commands import record_override
from idspine.commands.report import build_report
from idspine.errors import HeldRun, RunError

REASON = "<script>alert('reason')</script> same household"
ROWS = [
    {"id": "1", "email": "ann@mail.fr", "updated": "2024-01-01"},
    {"id": "2", "email": "ann@mail.fr", "updated": "2024-01-02"},
    {"id": "3", "email": "ann@mail.fr", "updated": "2024-01-03"},
    {"id": "4", "email": "bob@mail.fr", "updated": "2024-01-04"},
]


def _write(folder: Path, rows: list[dict[str, str]]) -> None:
    with (folder / "src.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _config(folder: Path, checks: dict[str, Any] | None = None) -> idspine.Config:
    spec: dict[str, Any] = {
        "project": "gate",
        "output": {"database": str(folder / "out.duckdb")},
        "identifiers": {"email": {"type": "email"}},
        "sources": {
            "src": {
                "path": "src.csv",
                "primary_key": "id",
                "order_by": "updated",
                "map": {"email": "email"},
            }
        },
        "rules": [{"name": "email", "match": {"email": "exact"}}],
    }
    if checks is not None:
        spec["checks"] = checks
    return idspine.load_config(spec, base_dir=folder)


def _run(config: idspine.Config, force: bool = False) -> None:
    idspine.resolve(config, force=force).close()


def _report(config: idspine.Config, folder: Path) -> str:
    return build_report(config, folder / "report.html").read_text(encoding="utf-8")


def _section(page: str, name: str) -> str:
    return page.split(f'<section id="{name}">')[1].split("</section>")[0]


def _embedded_run(page: str) -> dict[str, Any]:
    match = re.search(r'id="idspine-report-data">(.*?)</script>', page, re.S)
    assert match
    run: dict[str, Any] = json.loads(match.group(1))["run"]
    return run


def test_held_run_is_announced_over_the_last_published_tables(tmp_path: Path) -> None:
    _write(tmp_path, ROWS[:2])
    _run(_config(tmp_path))
    _write(tmp_path, ROWS)
    strict = _config(tmp_path, {"max_profile_records": 1})
    with pytest.raises(HeldRun):
        _run(strict)
    page = _report(strict, tmp_path)

    banner = page.split('<div class="held" id="held" role="alert">')[1].split("</div>")[0]
    assert "Run #2 (" in banner
    assert "was held by the publish checks; these tables are from run #1" in banner
    assert '<li data-check="max_profile_records"><code>max_profile_records</code>: 3, limit 1' in (
        banner
    )
    assert "idspine run --force" in banner
    # The tables are run 1's: two records, not the four of the held run.
    assert _embedded_run(page)["run_seq"] == 1
    assert 'data-metric="records">2<' in page
    checks = _section(page, "checks")
    assert '<tr data-check="max_profile_records">' in checks
    assert '<td class="num">2</td><td class="num">1,000</td><td>ok</td>' in checks
    assert "--force" not in checks
    assert '<section id="overrides">' not in page  # no ledger yet

    _run(strict, force=True)
    forced = _report(strict, tmp_path)
    assert 'id="held"' not in forced
    assert _embedded_run(forced)["run_seq"] == 3
    checks = _section(forced, "checks")
    assert "published with <code>--force</code>" in checks
    assert '<span class="tag refused">failed</span>' in checks


def test_a_first_run_held_explains_why_there_is_no_report(tmp_path: Path) -> None:
    _write(tmp_path, ROWS)
    strict = _config(tmp_path, {"max_profile_records": 1})
    with pytest.raises(HeldRun):
        _run(strict)
    expected = r"run #1 was held by the publish checks \(max_profile_records: 3, limit 1\)"
    with pytest.raises(RunError, match=expected) as raised:
        _report(strict, tmp_path)
    assert "idspine run --force" in str(raised.value)


def test_overrides_section_and_the_pairs_they_decided(tmp_path: Path) -> None:
    _write(tmp_path, ROWS)
    config = _config(tmp_path)
    _run(config)
    apart = record_override(config, "cannot_link", ["src:1", "src:2"], REASON, preview=False)
    linked = record_override(
        config, "must_link", ["src:1", "src:4"], "same customer", preview=False
    )
    apart_id = apart["override"]["override_id"]
    linked_id = linked["override"]["override_id"]
    pending = _section(_report(config, tmp_path), "overrides")
    assert pending.count('<span class="tag pending">not in this run</span>') == 2

    _run(config)
    page = _report(config, tmp_path)
    assert REASON not in page
    assert str(escape(REASON)) in page
    assert page.count("<script") == 1  # only the JSON data block
    section = _section(page, "overrides")
    assert "2 applied, 0 refused, 0 with a missing record" in section
    row = section.split(f'<tr data-override="{apart_id}">')[1].split("</tr>")[0]
    assert "<td>cannot_link</td><td>src:1 and src:2</td>" in row
    assert '<span class="tag applied">applied</span>' in row
    assert f'<tr data-override="{linked_id}">' in section
    samples = _section(page, "samples")
    assert (
        f'<span class="tag refused">Refused by override {apart_id}</span> '
        f"(cannot_link, {escape(REASON)})" in samples
    )
    assert "<td>override: must-link</td>" in samples
    assert "override:must_link" not in samples
    assert "conflict limit" not in samples

    _write(tmp_path, [r for r in ROWS if r["id"] != "2"])
    _run(config)
    section = _section(_report(config, tmp_path), "overrides")
    assert "1 applied, 0 refused, 1 with a missing record" in section
    row = section.split(f'<tr data-override="{apart_id}" class="attention">')[1].split("</tr>")[0]
    assert '<span class="tag missing_record">missing record</span>' in row
    assert "not in the input any more" in row


def test_outputs_without_checks_or_override_status(tmp_path: Path) -> None:
    _write(tmp_path, ROWS)
    config = _config(tmp_path)
    _run(config)
    record_override(config, "detach", ["src:3"], "test record", preview=False)
    _run(config)
    # As written before the gate and the override statuses existed.
    with duckdb.connect(config.output.database) as connection:
        connection.execute("DELETE FROM identity.identity_run_metrics WHERE metric LIKE 'check%'")
        connection.execute("DROP TABLE identity.identity_override_status")
    page = _report(config, tmp_path)
    assert "Checks were not recorded for this run" in _section(page, "checks")
    assert '<span class="tag pending">not in this run</span>' in _section(page, "overrides")
