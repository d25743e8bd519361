"""Hostile inputs on the quickstart: each fails with a clear message naming the config path
or the file (exit 2 for bad input or config, 1 for a failed run), never a traceback, and
leaves the published tables as they were; or, when the run may go on, it warns."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import idspine
from idspine.commands.cli import app
from idspine.commands.diff import diff_configs
from idspine.errors import IdspineError
from idspine.plan import Step

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart"
SCHEMA = "identity"


def checksums(database: Path) -> dict[str, str]:
    """A checksum of the sorted rows of every published identity_* table."""
    with duckdb.connect(str(database), read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
                [SCHEMA],
            ).fetchall()
        ]
        return {
            name: hashlib.sha256(
                repr(
                    sorted(
                        connection.execute(f'SELECT * FROM {SCHEMA}."{name}"').fetchall(), key=repr
                    )
                ).encode()
            ).hexdigest()
            for name in names
        }


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart, run once; each test works on a copy of it."""
    folder = tmp_path_factory.mktemp("quickstart") / "q"
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns("out"))
    idspine.resolve(folder / "idspine.yml").close()
    return folder


@pytest.fixture
def quickstart(published: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "q"
    shutil.copytree(published, folder)
    return folder


def database(folder: Path) -> Path:
    return folder / "out" / "quickstart.duckdb"


def edit_config(folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = folder / "idspine.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def crm(config: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = config["sources"]["crm_contacts"]
    return source


def latin1_file(folder: Path) -> None:
    text = (folder / "data" / "crm_contacts.csv").read_text(encoding="utf-8")
    (folder / "data" / "crm_contacts.csv").write_bytes(text.encode("latin-1", "replace"))


def quoted_header(folder: Path) -> None:
    path = folder / "data" / "crm_contacts.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"First"', '"First""x"', 1), encoding="utf-8")


def struct_column(folder: Path) -> None:
    path = folder / "data" / "shop_customers.parquet"
    table = pq.read_table(path)
    emails = [{"address": e} for e in table.column("email_address").to_pylist()]
    index = table.schema.get_field_index("email_address")
    pq.write_table(table.set_column(index, "email_address", pa.array(emails)), path)


# (finding, change to the files, change to the config, command, exit code, expected text)
BAD_INPUTS: list[tuple[str, Callable[[Path], None] | None, Any, str, int, list[str]]] = [
    (
        "quote-in-an-expression",
        quoted_header,
        lambda c: crm(c)["map"].update(first_name='lower(Fi"rst)'),
        "validate",
        2,
        ["sources.crm_contacts.map.first_name"],
    ),
    (
        "not-utf8",
        latin1_file,
        None,
        "run",
        2,
        ["sources.crm_contacts.path", "crm_contacts.csv", "not utf-8 encoded"],
    ),
    (
        "directory-as-csv",
        None,
        lambda c: crm(c).update(path="data", format="csv"),
        "validate",
        2,
        ["sources.crm_contacts.path", "is a directory"],
    ),
    (
        "parquet-as-csv",
        None,
        lambda c: crm(c).update(path="data/shop_customers.parquet", format="csv"),
        "run",
        2,
        ["sources.crm_contacts.path", "Parquet file", "format: parquet"],
    ),
    (
        "struct-column",
        struct_column,
        None,
        "run",
        2,
        ["sources.shop_customers.map.email", "email_address", "struct"],
    ),
    (
        "untrusted-query-reads-a-file",
        None,
        lambda c: (
            c["sources"].update(
                leak={
                    "query": "SELECT * FROM read_csv('/etc/passwd')",
                    "primary_key": "column0",
                    "order_by": "column0",
                    "map": {"email": "column0"},
                }
            )
            or c.update(trusted=False)
        ),
        "validate",
        2,
        ["sources.leak.query", "read_csv"],
    ),
]


@pytest.mark.parametrize(
    ("change_files", "change_config", "command", "code", "expected"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_fails_clearly_and_keeps_outputs(
    quickstart: Path,
    change_files: Callable[[Path], None] | None,
    change_config: Callable[[dict[str, Any]], None] | None,
    command: str,
    code: int,
    expected: list[str],
) -> None:
    before = checksums(database(quickstart))
    if change_files:
        change_files(quickstart)
    config = edit_config(quickstart, change_config or (lambda c: None))
    result = invoke(command, config)
    assert result.exit_code == code, result.output
    for text in expected:
        assert text in result.output
    assert checksums(database(quickstart)) == before


def test_a_column_name_with_a_quote_is_read(quickstart: Path) -> None:
    quoted_header(quickstart)
    config = edit_config(quickstart, lambda c: crm(c)["map"].update(first_name='First"x'))
    assert invoke("validate", config).exit_code == 0
    assert invoke("run", "-q", config).exit_code == 0


def late_failure(config: Any) -> list[Step]:
    from idspine.stages.metrics import plan_metrics

    return [*plan_metrics(config), Step("metric_values", idspine_invalid_sql())]


def idspine_invalid_sql() -> Any:
    from idspine.sql.build import sql

    return sql("SELECT no_such_column FROM records")


def test_a_late_failure_leaves_no_staging_and_the_previous_outputs(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = checksums(database(quickstart))
    monkeypatch.setattr("idspine.pipeline.plan_metrics", late_failure)
    result = invoke("run", quickstart / "idspine.yml")
    assert result.exit_code == 1
    assert "no_such_column" in result.output
    with duckdb.connect(str(database(quickstart)), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [SCHEMA]
        ).fetchall()
    assert all(name.startswith("identity_") for (name,) in names), names
    assert checksums(database(quickstart)) == before


@pytest.mark.parametrize("rows", [0, 500], ids=["header-only", "lost-60-percent"])
def test_a_shrunken_source_is_warned_in_the_summary_and_the_report(
    quickstart: Path, rows: int
) -> None:
    path = quickstart / "data" / "crm_contacts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    # The publish gate holds the run (exit 3) and names the check; --force publishes it.
    held = invoke("run", quickstart / "idspine.yml")
    assert held.exit_code == 3
    assert "max_source_shrink (crm_contacts)" in " ".join(held.output.split())
    result = invoke("run", quickstart / "idspine.yml", "--force")
    assert result.exit_code == 0
    expected = (
        "has no rows" if rows == 0 else "has 500 rows, 60% fewer than in the previous run (1,254)"
    )
    assert f"Source 'crm_contacts' {expected}" in " ".join(result.output.split())
    report = quickstart / "report.html"
    assert invoke("report", quickstart / "idspine.yml", "-o", report).exit_code == 0
    assert "crm_contacts" in report.read_text(encoding="utf-8")
    assert ("has no rows" if rows == 0 else "fewer than") in report.read_text(encoding="utf-8")


def test_a_mapping_with_only_invalid_values_is_warned(quickstart: Path) -> None:
    config = edit_config(quickstart, lambda c: crm(c)["map"].update(phone="Company"))
    result = invoke("run", config)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "sources.crm_contacts.map.phone (Company): all" in text
    assert "values are invalid" in text


def test_a_trusted_file_may_read_files_and_a_dict_may_not(quickstart: Path) -> None:
    leak = {
        "query": f"SELECT * FROM read_csv('{quickstart / 'data' / 'app_users.csv'}')",
        "primary_key": "user_id",
        "order_by": "user_id",
        "map": {"email": "email"},
    }
    config = edit_config(quickstart, lambda c: c["sources"].update(leak=leak))
    assert invoke("validate", config).exit_code == 0
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    with pytest.raises(IdspineError, match=r"sources\.leak\.query"):
        idspine.load_config(raw, base_dir=quickstart)
    assert idspine.load_config({**raw, "trusted": True}, base_dir=quickstart)


HOLD_THE_DATABASE = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_report_during_a_run_says_a_run_is_in_progress(quickstart: Path) -> None:
    # A run holds the database file open for writing, from another process.
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_DATABASE, str(database(quickstart))],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "open"
        result = invoke("report", quickstart / "idspine.yml")
        writer.kill()
    assert result.exit_code == 1
    assert "a run is in progress" in result.output


def test_pandas_missing_names_the_extra(quickstart: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pandas(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pandas":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    with idspine.resolve(quickstart / "idspine.yml") as result:
        monkeypatch.setattr(builtins, "__import__", no_pandas)
        with pytest.raises(IdspineError, match=r"pip install 'idspine\[pandas\]'"):
            result.pandas("golden")


def test_profiles_lists_and_searches(quickstart: Path) -> None:
    config = quickstart / "idspine.yml"
    listed = invoke("profiles", config, "--limit", "3")
    assert listed.exit_code == 0
    assert len(listed.output.strip().splitlines()) == 3
    found = invoke("profiles", config, "--search", "chloe58@gmail.com")
    assert found.exit_code == 0
    profile = found.output.split()[0]
    assert invoke("explain", config, "--profile", profile).exit_code == 0


def test_diff_reads_a_copy_next_to_the_config(quickstart: Path) -> None:
    changed = quickstart / "idspine.changed.yml"
    config = yaml.safe_load((quickstart / "idspine.yml").read_text(encoding="utf-8"))
    config["rules"] = config["rules"][:1]
    changed.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    before = checksums(database(quickstart))
    result = invoke("diff", quickstart / "idspine.yml", changed)
    assert result.exit_code == 0, result.output
    assert "splits:" in result.output
    assert checksums(database(quickstart)) == before


def file_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_diff_on_spark_leaves_the_live_files_byte_identical(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("needs a Java runtime for Spark")
    from tests.conftest import project
    from tests.test_diff import CRM, IDENTIFIERS

    rules = [
        {"name": "same_email", "match": {"email": "exact"}},
        {"name": "same_phone", "match": {"phone": "exact"}},
    ]
    spark = {"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": "1"}}
    location = tmp_path / "tables"

    def config(chosen: list[dict[str, Any]]) -> idspine.Config:
        raw = project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=chosen)
        raw.update(engine="spark", spark=spark)
        raw["output"]["location"] = str(location)
        return idspine.load_config(raw, base_dir=tmp_path)

    current = config(rules)
    idspine.resolve(current).close()
    before = file_bytes(location)
    outcome = diff_configs(current, config(rules[:1]))
    assert outcome["splits"] == 2
    assert file_bytes(location) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "diff" in p.name) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        # Room for one run of a small source (DuckDB writes a block per table), not two.
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True, check=False)


def test_a_full_disk_fails_the_run_cleanly(quickstart: Path, small_disk: Path) -> None:
    target = small_disk / "quickstart.duckdb"
    config = edit_config(quickstart, lambda c: c["output"].update(database=str(target)))
    # A first run with one small source fits; the full quickstart then overflows the disk.
    small = edit_config(
        quickstart,
        lambda c: c.update(sources={"app_users": c["sources"]["app_users"]}, golden={}),
    )
    first = invoke("run", "-q", small)
    if first.exit_code != 0:
        pytest.skip("even a small run does not fit on this tmpfs")
    before = checksums(target)
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(free - 64 * 1024, 0))
    result = invoke("run", "-q", config)
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output
    filler.unlink()
    assert checksums(target) == before
    with duckdb.connect(str(target), read_only=True) as connection:
        names = connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    assert all(name.startswith("identity_") for (name,) in names), names
