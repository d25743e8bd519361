"""The HTML report: built from a real run, escaped, offline, and drawn in a real browser."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

import idspine
from idspine.commands.report import build_report, run_warnings
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.errors import RunError

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
QUOTES = "\"Quotes\" & 'Apostrophes'"
RULE = "email & <last name>"
PROJECT = 'acme "<shop>"'
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

CRM = [
    {
        "id": "c1",
        "first": SCRIPT,
        "last": "O'Brien",
        "email": "script@acme-mail.fr",
        "phone": "06 11 11 11 11",
        "customer_id": "CUST-1",
        "city": QUOTES,
        "updated": "2024-01-01",
    },
    {
        "id": "c2",
        "first": "Ann",
        "last": "Lee",
        "email": "ann@acme-mail.fr",
        "phone": "06 22 22 22 22",
        "customer_id": "CUST-2",
        "city": "Paris",
        "updated": "2024-01-02",
    },
    *[
        {
            "id": f"c{n}",
            "first": first,
            "last": "Stone",
            "email": "shared@acme-mail.fr",
            "phone": "",
            "customer_id": "",
            "city": "Lyon",
            "updated": "2024-01-03",
        }
        for n, first in ((3, "Bob"), (4, "Cat"), (5, "Dan"), (6, "Eve"))
    ],
    {
        "id": IMAGE,
        "first": "",
        "last": "",
        "email": "",
        "phone": "",
        "customer_id": "",
        "city": "",
        "updated": "2024-01-04",
    },
    {
        "id": "c8",
        "first": "Fay",
        "last": "Hill",
        "email": "fay@acme-mail.fr",
        "phone": "",
        "customer_id": "CUST-8",
        "city": "Nice",
        "updated": "2024-01-05",
    },
]
SHOP_FIRST = [
    {
        "id": "s1",
        "first": SCRIPT,
        "last": "OBrien",
        "email": "SCRIPT@Acme-Mail.fr",
        "phone": "",
        "customer_id": "CUST-1",
        "updated": "2024-02-01",
    },
]
SHOP_SECOND = [
    *SHOP_FIRST,
    {
        "id": "s2",
        "first": "Ann",
        "last": "Lee",
        "email": "ann@acme-mail.fr",
        "phone": "+33 6 22 22 22 22",
        "customer_id": "CUST-2",
        "updated": "2024-02-02",
    },
    {
        "id": "s3",
        "first": "Fay",
        "last": "Hill",
        "email": "fay@acme-mail.fr",
        "phone": "",
        "customer_id": "CUST-9",
        "updated": "2024-02-03",
    },
    *[
        {
            "id": f"s{n}",
            "first": first,
            "last": "New",
            "email": f"{first}@shop-mail.fr",
            "phone": "",
            "customer_id": "",
            "updated": "2024-02-04",
        }
        for n, first in ((4, "gus"), (5, "hal"), (6, "ivy"), (7, "jo"))
    ],
]
COLUMNS = {
    "email": "email",
    "phone": "phone",
    "customer_id": "customer_id",
    "first_name": "first",
    "last_name": "last",
}


@dataclass
class Built:
    config: idspine.Config
    report: Path
    html: str
    run_id: str
    metrics: dict[tuple[str, str], float]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _config(folder: Path) -> idspine.Config:
    return idspine.load_config(
        {
            "project": PROJECT,
            "output": {"database": str(folder / "out.duckdb")},
            "identifiers": {
                "email": {"type": "email", "max_group_size": 3, "limit": 2},
                "phone": {"type": "phone", "default_region": "FR"},
                "customer_id": {"type": "id", "limit": 1},
                "first_name": {"type": "name"},
                "last_name": {"type": "name"},
            },
            "sources": {
                "crm": {
                    "path": "crm.csv",
                    "primary_key": "id",
                    "order_by": "updated",
                    "map": COLUMNS,
                    "fields": {"city": "city"},
                },
                "shop": {
                    "path": "shop.csv",
                    "primary_key": "id",
                    "order_by": "updated",
                    "map": COLUMNS,
                },
            },
            "rules": [
                {"name": RULE, "match": {"email": "exact", "last_name": "fuzzy_strong"}},
                {"name": "phone", "match": {"phone": "exact"}},
            ],
        },
        base_dir=folder,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two runs (the second with more shop records), then the report of the latest."""
    folder = tmp_path_factory.mktemp("report")
    _write_csv(folder / "crm.csv", CRM)
    config = _config(folder)
    for shop in (SHOP_FIRST, SHOP_SECOND):
        _write_csv(folder / "shop.csv", shop)
        result = idspine.resolve(config)
        run_id = result.run.run_id
        metrics = result.metrics()
        result.close()
    report = build_report(config, folder / "out" / "report.html")
    return Built(config, report, report.read_text(encoding="utf-8"), run_id, metrics)


def _figure(page: str, metric: str) -> str:
    match = re.search(rf'data-metric="{metric}">([^<]*)<', page)
    assert match, metric
    return match.group(1)


def _embedded_data(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="idspine-report-data">(.*?)</script>', page, re.S
    )
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_report_is_one_offline_file(built: Built) -> None:
    assert built.report.is_file()
    assert "http://" not in built.html
    assert "https://" not in built.html
    # no attribute points anywhere but inside the page
    assert not re.search(r"""<[^>]+\s(?:src|href)\s*=\s*["']?(?!["'#])""", built.html)
    assert "<link" not in built.html


def test_customer_and_config_values_are_escaped(built: Built) -> None:
    page = built.html
    assert SCRIPT not in page
    assert IMAGE not in page
    assert escape(SCRIPT) in page
    assert escape(IMAGE) in page
    assert "O&#39;Brien" in page
    assert "&#34;Quotes&#34; &amp; &#39;Apostrophes&#39;" in page
    assert escape(RULE) in page
    assert escape(PROJECT) in page
    # the only script element is the JSON data block
    assert page.count("<script") == 1
    payload = re.search(r'id="idspine-report-data">(.*?)</script>', page, re.S)
    assert payload
    assert not set(payload.group(1)) & {"<", ">", "&"}


def test_sections_present(built: Built) -> None:
    for section in (
        "warnings",
        "checks",
        "figures",
        "resolution",
        "rules",
        "sources",
        "identifiers",
        "sizes",
        "trend",
        "largest",
        "samples",
        "unresolved",
    ):
        assert f'<section id="{section}">' in built.html
    assert built.html.count('class="chart"') >= 5
    assert "shared@acme-mail.fr" in built.html  # the hub value is listed
    assert '<span class="tag hub">hub</span></td>' in built.html


def test_numbers_match_the_metrics_table(built: Built) -> None:
    metrics = built.metrics
    assert _figure(built.html, "records") == f"{metrics['records', '']:,.0f}"
    assert _figure(built.html, "profiles") == f"{metrics['profiles', '']:,.0f}"
    for rate in ("resolution_rate", "match_rate", "consolidation"):
        assert _figure(built.html, rate) == f"{metrics[rate, ''] * 100:.1f}%"
    row = re.search(rf'<tr data-rule="{re.escape(escape(RULE))}">(.*?)</tr>', built.html)
    assert row
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[3] == f"{metrics.get(('rule_pairs_found', RULE), 0):,.0f}"
    assert cells[4] == f"{metrics.get(('rule_merged', RULE), 0):,.0f}"
    assert metrics["rule_merged", RULE] >= 2
    data = _embedded_data(built.html)
    assert data["run"]["run_id"] == built.run_id
    embedded = {(m["metric"], m["dimension"]): m["value"] for m in data["metrics"]}
    assert embedded == metrics


def test_sample_profiles_show_records_and_pairs(built: Built) -> None:
    samples = built.html.split('<section id="samples">')[1].split("</section>")[0]
    assert "script@acme-mail.fr" in samples
    assert "SCRIPT@Acme-Mail.fr" in samples  # raw value, as in the source
    assert '<span class="tag merged">' in samples
    assert escape(RULE) in samples


def test_warnings(built: Built) -> None:
    engine = DuckDBEngine(built.config.output.database, read_only=True)
    try:
        warnings = run_warnings(engine, built.config, built.run_id)
    finally:
        engine.close()
    text = "\n".join(warnings)
    assert "email: 1 value is shared by more than 3 records" in text
    assert "Rule 'phone' merged nothing" in text
    assert "The number of profiles changed by" in text
    for warning in warnings:
        assert escape(warning) in built.html


def test_warns_about_a_profile_far_larger_than_the_rest(tmp_path: Path) -> None:
    family = [
        {
            "id": f"f{n}",
            "first": "Kim",
            "last": "Roe",
            "email": "",
            "phone": "06 33 33 33 33",
            "customer_id": "",
            "city": "",
            "updated": "2024-03-01",
        }
        for n in range(12)
    ]
    pair = [
        {
            "id": f"p{n}",
            "first": "Lou",
            "last": "Fox",
            "email": "lou@fox-mail.fr",
            "phone": "",
            "customer_id": "",
            "city": "",
            "updated": "2024-03-02",
        }
        for n in range(2)
    ]
    _write_csv(tmp_path / "crm.csv", family + pair)
    _write_csv(tmp_path / "shop.csv", SHOP_FIRST)
    config = _config(tmp_path)
    with idspine.resolve(config) as result:
        warnings = run_warnings(result.engine, config, result.run.run_id)
        page = build_report(config, tmp_path / "report.html", engine=result.engine).read_text(
            encoding="utf-8"
        )
    outlier = [w for w in warnings if "far more than any other" in w]
    assert len(outlier) == 1
    assert "holds 12 records" in outlier[0]
    assert "(next largest: 2)" in outlier[0]
    assert escape(outlier[0]) in page


def test_report_from_an_open_engine(built: Built, tmp_path: Path) -> None:
    engine = DuckDBEngine(built.config.output.database, read_only=True)
    try:
        again = build_report(built.config, tmp_path / "again.html", engine=engine)
    finally:
        engine.close()
    assert _figure(again.read_text(encoding="utf-8"), "records") == _figure(built.html, "records")


def test_no_database_is_a_clear_error(tmp_path: Path) -> None:
    _write_csv(tmp_path / "crm.csv", CRM)
    _write_csv(tmp_path / "shop.csv", SHOP_FIRST)
    with pytest.raises(RunError, match="run `idspine run` first"):
        build_report(_config(tmp_path), tmp_path / "report.html")


@pytest.mark.browser
def test_report_renders_in_chromium(built: Built) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", on_dialog)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(built.report.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() >= 5
            assert page.locator("svg.chart rect.bar").count() >= 8
            assert page.locator("svg.chart polyline.line").count() == 2
            widths = page.locator("#resolution rect.bar").evaluate_all(
                "bars => bars.map(b => b.getBBox().width)"
            )
            assert max(widths) > 100
            assert page.locator("#samples details").count() >= 2
            # customer data shows as the literal text it is, neither run nor double-escaped
            assert SCRIPT in page.locator("#samples").inner_text()
            assert IMAGE in page.locator("#unresolved").inner_text()
            data = page.evaluate(
                "JSON.parse(document.getElementById('idspine-report-data').textContent)"
            )
            assert data["run"]["run_id"] == built.run_id
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert dialogs == []
    assert [url for url in requests if not url.startswith("file:")] == []
