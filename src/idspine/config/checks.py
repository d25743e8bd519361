"""Checks of a configuration that need more than its shape: names the outputs would collide
on, engine options in the engine's own format, and SQL pieces compiled by the real engine.

Everything here runs when a config is loaded, so `validate` refuses what `run` would refuse
before any data is read. Regexes, time formats and custom expressions are compiled in a
scratch in-memory DuckDB: DuckDB's RE2 and strptime are what a run uses, and Python's `re`
accepts lookarounds and backreferences that RE2 refuses.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
from sqlglot import exp

from idspine.config.model import ProjectSpec
from idspine.config.override_file import read_overrides_file
from idspine.config.types import Config, Source
from idspine.errors import ConfigError, Problem
from idspine.sql.build import lit, parse_value_expression, restricted_query_problem, sql

# Fixed columns of identity_golden, next to the id column and one column per golden field.
GOLDEN_COLUMNS = (
    "representative_source",
    "representative_key",
    "record_count",
    "sources",
    "first_seen",
    "last_seen",
)
# Fixed columns of identity_match and identity_matched_ids, next to the id column.
ID_NEIGHBOURS = ("source", "record_key", "status", "refused_merge", "over_limit", "identifier")
# Schemas DuckDB keeps for itself (`temp` holds every run's work tables).
RESERVED_SCHEMAS = frozenset({"temp", "system", "information_schema", "pg_catalog"})
DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file
PARQUET_MAGIC = b"PAR1"
# The encodings DuckDB's CSV reader knows without an extension, by their accepted spellings.
CSV_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
}
MEMORY_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|[kmgt]i?b|[kmgt])\s*$", re.IGNORECASE)
MEMORY_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
# Below this DuckDB cannot even hold the work of a small run and fails mid-run.
MIN_MEMORY_BYTES = 64 * 1024**2


def check_names(spec: ProjectSpec, problems: list[Problem]) -> None:
    """Output columns that would collide: golden fields, identifiers and the id column."""
    id_column = spec.output.id_column
    fields = {name: source for source, s in spec.sources.items() for name in s.fields}
    golden: dict[str, str] = {}  # folded column name -> config path of its first use
    for name, path in [
        *((n, f"identifiers.{n}") for n in spec.identifiers),
        *((n, f"sources.{s}.fields.{n}") for n, s in fields.items()),
    ]:
        folded = name.lower()
        if folded == id_column.lower():
            problems.append(
                Problem(
                    path,
                    f"'{name}' is the id column (output.id_column), so the golden table "
                    "would have two columns of that name",
                    "rename it, or set output.id_column to another name",
                )
            )
        elif folded in GOLDEN_COLUMNS:
            problems.append(
                Problem(
                    path,
                    f"'{name}' is a column the golden table always has",
                    f"rename it; reserved: {', '.join(GOLDEN_COLUMNS)}",
                )
            )
        elif folded in golden and golden[folded] != path:
            problems.append(
                Problem(path, f"'{name}' is also {golden[folded]} (names ignore case in SQL)")
            )
        golden.setdefault(folded, path)
    if id_column.lower() in ID_NEIGHBOURS + GOLDEN_COLUMNS:
        problems.append(
            Problem(
                "output.id_column",
                f"'{id_column}' is a column the output tables always have",
                f"pick another name; reserved: {', '.join(ID_NEIGHBOURS + GOLDEN_COLUMNS)}",
            )
        )
    schema = spec.output.schema_name
    if schema.lower() in RESERVED_SCHEMAS:
        problems.append(
            Problem(
                "output.schema",
                f"'{schema}' is a schema DuckDB keeps for itself",
                "use a schema of your own, e.g. identity",
            )
        )


def check_database(spec: ProjectSpec, database: Path, problems: list[Problem]) -> None:
    """The DuckDB output database must be a file that outlives the run, and a DuckDB one."""
    if spec.engine != "duckdb":
        return
    path = "output.database"
    if spec.output.database.strip() in {"", ":memory:"} or spec.output.database.startswith(
        ":memory:"
    ):
        problems.append(
            Problem(
                path,
                "an in-memory database loses every output when the run ends",
                "give a file, e.g. out/identity.duckdb (ids stay stable only across runs "
                "that share it)",
            )
        )
        return
    if database.is_dir():
        problems.append(Problem(path, f"{database} is a directory", "give a .duckdb file"))
        return
    if not database.exists():
        return
    try:
        with database.open("rb") as handle:
            header = handle.read(12)
    except OSError as exc:
        problems.append(Problem(path, f"cannot read {database}: {exc.strerror}"))
        return
    if header[8:12] != DUCKDB_MAGIC:
        kind = (
            "a Parquet file"
            if header.startswith(PARQUET_MAGIC)
            else ("an empty file" if not header else "not a DuckDB database")
        )
        problems.append(
            Problem(
                path,
                f"{database} exists and is {kind}; idspine would not write its outputs there",
                "point output.database at a new or existing .duckdb file",
            )
        )


def check_output_folder(config: Config) -> None:
    """Raise a ConfigError when a DuckDB run could not write its database.

    Not part of loading: commands that only read the outputs (report, explain) work from a
    read-only folder. `run` and `validate` call it before reading any data.
    """
    if config.engine == "duckdb":
        problems = check_writable(Path(config.output.database))
        if problems:
            raise ConfigError(problems, None)


def check_writable(database: Path, path: str = "output.database") -> list[Problem]:
    """Whether the folder of an output file exists or can be created, and can be written.

    DuckDB writes a `.wal` file next to its database, so the folder must be writable even
    when the database exists.
    """
    folder = database.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return [Problem(path, f"cannot create {database.parent}: {folder} is not a directory")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [Problem(path, f"cannot write in {folder}: permission denied")]
    return []


def check_engine_options(spec: ProjectSpec, problems: list[Problem]) -> None:
    limit = spec.duckdb.memory_limit
    if limit is not None:
        message = _memory_limit_problem(limit)
        if message:
            problems.append(
                Problem("duckdb.memory_limit", message, "e.g. 8GB, 500MiB or 80% (of the RAM)")
            )
    for name, source in spec.sources.items():
        if source.csv.encoding.lower() not in CSV_ENCODINGS:
            problems.append(
                Problem(
                    f"sources.{name}.csv.encoding",
                    f"unsupported encoding '{source.csv.encoding}'",
                    "use utf-8, utf-16 or latin-1 (convert other files to UTF-8 first)",
                )
            )


def csv_encoding(name: str) -> str:
    """The canonical spelling of a CSV encoding checked by `check_engine_options`."""
    return CSV_ENCODINGS.get(name.lower(), name)


def _memory_limit_problem(text: str) -> str | None:
    percent = MEMORY_PERCENT.match(text)
    if percent:
        share = float(percent.group(1))
        return None if 0 < share <= 100 else f"'{text}' is not a share of the RAM (1% to 100%)"
    amount = MEMORY_LIMIT.match(text)
    if not amount:
        return f"'{text}' is not a memory size"
    unit = amount.group(2).lower()
    base = 1024 if "i" in unit else 1000
    size = float(amount.group(1)) * base ** "bkmgt".index(unit[0])
    if size < MIN_MEMORY_BYTES:
        return f"'{text}' is too little memory for a run (at least 64MiB)"
    return None


def check_with_duckdb(spec: ProjectSpec, problems: list[Problem]) -> None:
    """Compile regexes, time formats and custom expressions in a scratch DuckDB."""
    patterns = [
        (f"identifiers.{name}.block_patterns[{index}]", pattern)
        for name, ident in spec.identifiers.items()
        for index, pattern in enumerate(ident.block_patterns)
    ]
    formats = [
        (f"sources.{name}.order_by.format", source.order_by.format)
        for name, source in spec.sources.items()
        if not isinstance(source.order_by, str)
        and source.order_by.format not in {None, "epoch", "epoch_ms"}
    ]
    expressions = [
        (f"identifiers.{name}.expression", ident.expression)
        for name, ident in spec.identifiers.items()
        if ident.type == "custom" and ident.expression
    ]
    if not (patterns or formats or expressions):
        return
    from idspine.sql.dialect import render

    with duckdb.connect(":memory:") as connection:

        def fails(tree: exp.Expr) -> str | None:
            try:
                connection.execute(render(tree, "duckdb")).fetchall()
            except duckdb.Error as exc:
                return str(exc).split("\n")[0].removeprefix("Invalid Input Error: ")
            return None

        for path, pattern in patterns:
            error = fails(sql("SELECT regexp_matches('', $p)", p=lit(pattern)))
            if error:
                problems.append(
                    Problem(
                        path,
                        f"DuckDB cannot compile this regex: {error}",
                        "regexes are RE2: no lookaround (?=...) (?<=...) nor backreference \\1",
                    )
                )
        for path, time_format in formats:
            error = fails(sql("SELECT try_strptime('2024-01-01', $f)", f=lit(str(time_format))))
            if error:
                problems.append(
                    Problem(
                        path,
                        f"not a valid time format: {error}",
                        'strptime codes, e.g. "%d/%m/%Y %H:%M"; or epoch, epoch_ms',
                    )
                )
        for path, text in expressions:
            try:
                tree = parse_value_expression(str(text), allowed_columns={"value"})
            except ValueError:
                continue  # reported by the resolver with its own message
            error = fails(
                sql(
                    "SELECT CAST($e AS VARCHAR) FROM (SELECT CAST(v AS VARCHAR) AS value "
                    "FROM (VALUES (NULL), ('x')) AS t(v))",
                    e=tree,
                )
            )
            if error:
                problems.append(Problem(path, f"DuckDB cannot run this expression: {error}"))


def unmapped_warnings(spec: ProjectSpec) -> list[str]:
    """Rules naming identifiers that no source maps: the criterion never has a value."""
    mapped = {name for source in spec.sources.values() for name in source.map}
    warnings = []
    for index, rule in enumerate(spec.rules):
        for label, raw in rule.match.items():
            members = raw.identifiers if not isinstance(raw, str) and raw.identifiers else [label]
            missing = [m for m in members if m in spec.identifiers and m not in mapped]
            if missing and len(missing) == len(members):
                # A criterion without a value fails, unless it is fuzzy and allows missing.
                optional = not isinstance(raw, str) and raw.type != "exact" and raw.allow_missing
                consequence = (
                    f"rule '{rule.name}' can never match"
                    if not optional
                    else "this criterion never has a value"
                )
                warnings.append(
                    f"rules[{index}].match.{label}: no source maps "
                    f"{', '.join(missing)}; {consequence}"
                )
    return warnings


def check_restricted_sources(sources: tuple[Source, ...], problems: list[Problem]) -> None:
    for source in sources:
        if source.kind == "path":
            continue
        # A table name is checked as the query that reads it.
        text = source.location if source.kind == "query" else f"SELECT * FROM {source.location}"
        problem = restricted_query_problem(text)
        if problem:
            problems.append(
                Problem(
                    f"sources.{source.name}.{source.kind}",
                    problem,
                    "a config loaded from a dict is untrusted; set trusted: true if you wrote it",
                )
            )


def check_overrides_file(
    spec: ProjectSpec, base_dir: Path, sources: tuple[Source, ...], problems: list[Problem]
) -> str | None:
    """The resolved path of `overrides_file`, its rows checked (kinds, source:key refs)."""
    if spec.overrides_file is None:
        return None
    path = Path(spec.overrides_file).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        read_overrides_file(path, {s.name for s in sources})
    except ValueError as exc:
        problems.append(Problem("overrides_file", str(exc)))
    return str(path)
