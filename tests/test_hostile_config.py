"""Hostile configs and inputs against the quickstart: each refused cleanly, by `validate` and
`run` alike, with the config path or file named, exit code 2, no traceback, and the outputs
of an earlier run left as they were."""

from __future__ import annotations

import copy
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import ENGINES, project, write_csv
from typer.testing import CliRunner, Result

import idspine
from idspine.commands.cli import app

QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart"
BASE: dict[str, Any] = yaml.safe_load((QUICKSTART / "idspine.yml").read_text(encoding="utf-8"))
DATABASE = "out/quickstart.duckdb"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def assert_refused(result: Result, *expected: str) -> None:
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, result.output


def checksum(database: Path) -> str:
    """A hash of the sorted rows of every published identity_* table."""
    digest = hashlib.sha256()
    with duckdb.connect(str(database), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'identity' "
            "AND starts_with(table_name, 'identity_') ORDER BY table_name"
        ).fetchall()
        for (name,) in names:
            rows = connection.execute(f'SELECT * FROM identity."{name}"').fetchall()
            digest.update(name.encode())
            digest.update(repr(sorted(rows, key=repr)).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart after one successful run."""
    folder = tmp_path_factory.mktemp("quickstart")
    shutil.copytree(QUICKSTART / "data", folder / "data")
    (folder / "idspine.yml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    result = invoke("run", "-q", str(folder / "idspine.yml"))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def quickstart(first_run: Path, tmp_path: Path) -> Path:
    """A copy of the quickstart folder with its published outputs."""
    shutil.copytree(first_run, tmp_path / "q")
    return tmp_path / "q"


def setter(*keys: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        node: Any = config
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


CRM = ("sources", "crm_contacts")

# (finding, change to the quickstart config, texts the message must hold)
HOSTILE: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("2-database-is-csv", setter("output", "database", value="data/crm_contacts.csv"),
     ("output.database", "not a DuckDB database")),
    ("2-database-is-parquet", setter("output", "database", value="data/shop_customers.parquet"),
     ("output.database", "a Parquet file")),
    ("2-database-in-memory", setter("output", "database", value=":memory:"),
     ("output.database", "in-memory")),
    ("2-database-is-folder", setter("output", "database", value="data"),
     ("output.database", "directory")),
    ("5-golden-field-record_count", setter(*CRM, "fields", value={"record_count": "Company"}),
     ("sources.crm_contacts.fields.record_count", "golden table always has")),
    ("5-golden-field-sources", setter(*CRM, "fields", value={"sources": "Company"}),
     ("sources.crm_contacts.fields.sources",)),
    ("5-golden-field-first_seen", setter(*CRM, "fields", value={"First_Seen": "Company"}),
     ("sources.crm_contacts.fields.First_Seen",)),
    ("5-field-named-like-id", setter(*CRM, "fields", value={"profile_id": "Company"}),
     ("sources.crm_contacts.fields.profile_id", "output.id_column")),
    ("5-identifier-named-like-id", setter("identifiers", "profile_id", value={"type": "id"}),
     ("identifiers.profile_id", "output.id_column")),
    ("5-id-column-is-identifier", setter("output", "id_column", value="email"),
     ("identifiers.email", "output.id_column")),
    ("5-id-column-is-field", setter("output", "id_column", value="company"),
     ("sources.crm_contacts.fields.company", "output.id_column")),
    ("5-id-column-is-fixed", setter("output", "id_column", value="record_key"),
     ("output.id_column", "reserved")),
    ("7-memory-limit-lots", setter("duckdb", value={"memory_limit": "lots"}),
     ("duckdb.memory_limit", "not a memory size")),
    ("7-memory-limit-tiny", setter("duckdb", value={"memory_limit": "1000b"}),
     ("duckdb.memory_limit", "too little")),
    ("7-output-folder-under-a-file",
     setter("output", "database", value="data/crm_contacts.csv/out.duckdb"),
     ("output.database", "not a directory")),
    ("9-parameter-in-custom", setter("identifiers", "postcode", "expression", value="value || $x"),
     ("identifiers.postcode.expression", "query parameter")),
    ("9-question-mark-in-mapping", setter(*CRM, "map", "first_name", value="First || ?"),
     ("sources.crm_contacts.map.first_name", "query parameter")),
    ("9-lookahead-block-pattern",
     setter("identifiers", "email", "block_patterns", value=["^(?=test)"]),
     ("identifiers.email.block_patterns[0]", "RE2")),
    ("9-backreference-block-pattern",
     setter("identifiers", "email", "block_patterns", value=["ok", r"(a)\1"]),
     ("identifiers.email.block_patterns[1]",)),
    ("9-bad-strptime-format", setter(*CRM, "order_by", "format", value="%d/%m/%Q"),
     ("sources.crm_contacts.order_by.format", "not a valid time format")),
    ("9-trailing-percent-format", setter(*CRM, "order_by", "format", value="%Y-%m-%"),
     ("sources.crm_contacts.order_by.format",)),
    ("7-markup-in-a-message", setter("identifiers", "email", "block_patterns", value=["[/x]("]),
     ("identifiers.email.block_patterns[0]", "[/x](")),
    ("9-schema-temp", setter("output", "schema", value="temp"), ("output.schema",)),
    ("9-schema-system", setter("output", "schema", value="system"), ("output.schema",)),
    ("9-schema-information-schema", setter("output", "schema", value="information_schema"),
     ("output.schema",)),
    ("9-schema-pg-catalog", setter("output", "schema", value="pg_catalog"), ("output.schema",)),
    ("9-which-secret", setter("identifiers", "postcode", "expression",
                              value="which_secret(value, 's3')"),
     ("identifiers.postcode.expression", "which_secret")),
    ("9-getvariable-in-mapping", setter(*CRM, "map", "phone", value="getvariable('x')"),
     ("sources.crm_contacts.map.phone", "getvariable")),
    ("9-current-setting", setter("identifiers", "postcode", "expression",
                                 value="current_setting('memory_limit')"),
     ("identifiers.postcode.expression", "current_setting")),
    ("9-unknown-function-in-custom", setter("identifiers", "postcode", "expression",
                                            value="no_such_function(value)"),
     ("identifiers.postcode.expression", "DuckDB cannot run")),
    ("11-unsupported-encoding", setter(*CRM, "csv", value={"encoding": "cp1252"}),
     ("sources.crm_contacts.csv.encoding", "latin-1")),
    ("12-threads-100000", setter("duckdb", value={"threads": 100000}), ("duckdb.threads",)),
    ("12-threads-zero", setter("duckdb", value={"threads": 0}), ("duckdb.threads",)),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=i) for i, c, e in HOSTILE])
def test_hostile_config_is_refused_by_validate_and_run(
    quickstart: Path, change: Callable[[dict[str, Any]], None], expected: tuple[str, ...]
) -> None:
    before = checksum(quickstart / DATABASE)
    config = copy.deepcopy(BASE)
    change(config)
    path = quickstart / "idspine.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    for command in ("validate", "run"):
        assert_refused(invoke(command, str(path)), *expected)
    assert checksum(quickstart / DATABASE) == before
    assert not (quickstart / ":memory:").exists()


def test_duplicate_yaml_keys_are_refused_with_path_and_line(quickstart: Path) -> None:
    text = (QUICKSTART / "idspine.yml").read_text(encoding="utf-8")
    text = text.replace("  phone:\n    type: phone\n", "  phone:\n    type: phone\n    limit: 1\n")
    assert "limit: 1\n    default_region" in text
    path = quickstart / "idspine.yml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    limit: 2") + 1
    for command in ("validate", "run"):
        assert_refused(invoke(command, str(path)), "identifiers.phone.limit", f"line {line}")


def test_unreadable_config_files_are_refused(quickstart: Path) -> None:
    latin = quickstart / "latin.yml"
    latin.write_bytes(yaml.safe_dump(BASE).encode() + "# Zoé\n".encode("latin-1"))
    for command in ("validate", "run", "report"):
        assert_refused(invoke(command, str(latin)), str(latin), "not UTF-8")
        assert_refused(invoke(command, str(quickstart / "data")), "is a directory")


@pytest.fixture
def denied(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every folder creation and text write is refused, as in a read-only folder (tests may
    run as root, who can write anywhere)."""

    def refuse(self: Path, *_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    monkeypatch.setattr(Path, "write_text", refuse)


def test_permission_errors_are_clean(quickstart: Path, denied: None) -> None:
    config = copy.deepcopy(BASE)
    config["output"]["database"] = "new/folder/out.duckdb"
    path = quickstart / "denied.yml"
    path.write_bytes(yaml.safe_dump(config).encode())
    assert_refused(invoke("run", str(path)), "new/folder", "Permission denied")
    assert_refused(invoke("report", str(quickstart / "idspine.yml")), "Permission denied")
    assert_refused(invoke("init", str(quickstart / "fresh.yml")), "fresh.yml", "Permission denied")


def test_a_renamed_id_column_keeps_every_id(quickstart: Path) -> None:
    path = quickstart / "idspine.yml"
    with duckdb.connect(str(quickstart / DATABASE), read_only=True) as connection:
        before = connection.execute(
            "SELECT source, record_key, profile_id FROM identity.identity_match"
        ).fetchall()
    config = copy.deepcopy(BASE)
    config["output"]["id_column"] = "person_id"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert invoke("validate", str(path)).exit_code == 0
    result = invoke("run", "-q", str(path))
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(quickstart / DATABASE), read_only=True) as connection:
        after = connection.execute(
            "SELECT source, record_key, person_id FROM identity.identity_match"
        ).fetchall()
        golden_ids = connection.execute("SELECT person_id FROM identity.identity_golden").fetchall()
    assert sorted(after, key=repr) == sorted(before, key=repr)
    assert {i for (i,) in golden_ids} == {i for _, _, i in before if i is not None}
    # and back again
    path.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    assert invoke("run", "-q", str(path)).exit_code == 0
    with duckdb.connect(str(quickstart / DATABASE), read_only=True) as connection:
        again = connection.execute(
            "SELECT source, record_key, profile_id FROM identity.identity_match"
        ).fetchall()
    assert sorted(again, key=repr) == sorted(before, key=repr)


@pytest.mark.parametrize("engine", ENGINES)
def test_latin_1_csv_is_read_with_its_encoding(tmp_path: Path, engine: str) -> None:
    (tmp_path / "people.csv").write_bytes(
        "id,updated,email,city\n1,2024-01-01,zoe@x.com,Orléans\n".encode("latin-1")
    )
    config = {
        "engine": engine,
        "output": {"database": "out.duckdb", "location": "out"},
        "identifiers": {"email": {"type": "email"}},
        "sources": {
            "people": {
                "path": "people.csv",
                "csv": {"encoding": "latin-1"},
                "primary_key": "id",
                "order_by": "updated",
                "map": {"email": "email"},
                "fields": {"city": "city"},
            }
        },
        "rules": [{"name": "same_email", "match": {"email": "exact"}}],
    }
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        assert result.arrow("golden").column("city").to_pylist() == ["Orléans"]


@pytest.mark.parametrize("engine", ENGINES)
def test_invisible_characters_do_not_split_a_person(tmp_path: Path, engine: str) -> None:
    config = project(
        tmp_path,
        {
            "a": [{"id": "1", "updated": "2024-01-01", "email": "an\u200bna@gmail.com"}],
            "b": [{"id": "1", "updated": "2024-01-02", "email": "\ufeffanna@gmail.com\x00"}],
        },
        identifiers={"email": {"type": "email"}},
        rules=[{"name": "same_email", "match": {"email": "exact"}}],
        engine=engine,
    )
    with idspine.resolve(idspine.load_config(config, base_dir=tmp_path)) as result:
        assert result.arrow("golden").column("email").to_pylist() == ["anna@gmail.com"]


def test_a_rule_on_an_unmapped_identifier_is_warned(quickstart: Path) -> None:
    config = copy.deepcopy(BASE)
    config["identifiers"]["loyalty_no"] = {"type": "id"}
    config["rules"].append({"name": "same_loyalty", "match": {"loyalty_no": "exact"}})
    path = quickstart / "idspine.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    expected = "rules[3].match.loyalty_no: no source maps loyalty_no; rule 'same_loyalty' can"
    for command in ("validate", "run"):
        result = invoke(command, str(path))
        assert result.exit_code == 0, result.output
        assert expected in " ".join(result.output.split())


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"idspine {idspine.__version__}"


def test_init_guesses_a_config_that_validates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "export.csv").write_text(
        "id,Last update,Phone #,E-mail,First: name,Zip}\n"
        "1,01/02/2024 10:30,0612345678,anna@x.com,Anna,75001\n"
        "2,25/12/2023 08:00,0612345679,bob@y.com,Bob,75002\n",
        encoding="utf-8",
    )
    write_csv(data / "app.csv", [{"user_id": "u1", "signup_ts": "1700000000", "email": "a@x.com"}])
    target = tmp_path / "config" / "idspine.yml"
    target.parent.mkdir()
    result = invoke(
        "init", str(target), "-s", str(data / "export.csv"), "-s", str(data / "app.csv")
    )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(target.read_text(encoding="utf-8"))
    export = config["sources"]["export"]
    assert export["path"] == "../data/export.csv"
    assert export["order_by"] == {"column": "Last update", "format": "%d/%m/%Y %H:%M"}
    assert export["map"] == {
        "phone": "Phone #",
        "email": "E-mail",
        "first_name": "First: name",
        "postcode": "Zip}",
    }
    assert config["sources"]["app"]["order_by"] == {"column": "signup_ts", "format": "epoch"}
    result = invoke("validate", str(target))
    assert result.exit_code == 0, result.output


# --- fuzzing the loader ----------------------------------------------------------------------

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["exact", "email", ":memory:", "data", "%Q", "(?=x)", "$x", "8GB", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found  # fmt: skip


BASE_PATHS = _paths(BASE)


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.sampled_from(BASE_PATHS))
        node: Any = config
        try:
            for key in keys[:-1]:
                node = node[key]
            if draw(st.booleans()) and isinstance(node, dict):
                node[draw(st.text(max_size=8))] = draw(VALUES)
            else:
                node[keys[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    return config


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(QUICKSTART / "data", folder / "data")
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=mutated_configs())
def test_validate_never_lets_a_traceback_escape(fuzz_folder: Path, config: dict[str, Any]) -> None:
    path = fuzz_folder / "idspine.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = invoke("validate", str(path))
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in {0, 2}, result.output
    assert "Traceback" not in result.output
