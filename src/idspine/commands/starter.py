"""`idspine init`: a commented starter config, guessed from sample files when given."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import duckdb
import yaml
from sqlglot import exp

from idspine.errors import InputError, Problem
from idspine.sql.build import ident, lit, sql
from idspine.sql.dialect import render

# identifier -> (type line, column names it takes whole, word runs it takes anywhere).
# Column names are compared by words ("Last update" is the words last, update), so that a
# word inside another never guesses a mapping: "Last update" is no last name.
GUESSES: dict[str, tuple[str, frozenset[str], tuple[tuple[str, ...], ...]]] = {
    "email": (
        "{type: email, strip_plus_tag: true, gmail_dots: true, limit: 3}",
        frozenset({"emailaddress"}),
        (("email",), ("mail",), ("e", "mail"), ("courriel",)),
    ),
    "phone": (
        "{type: phone, default_region: FR, limit: 2}",
        frozenset({"phonenumber", "tel"}),
        (("phone",), ("mobile",), ("telephone",), ("tel",), ("cell",), ("portable",)),
    ),
    "first_name": (
        "{type: name, nicknames: true}",
        frozenset({"first", "fname", "firstname", "prenom", "forename", "givenname"}),
        (("first", "name"), ("given", "name"), ("firstname",), ("prenom",)),
    ),
    "last_name": (
        "{type: name}",
        frozenset({"last", "lname", "lastname", "surname", "nom", "familyname"}),
        (("last", "name"), ("family", "name"), ("lastname",), ("surname",)),
    ),
    "full_name": (
        "{type: name}",
        frozenset({"name", "fullname", "displayname"}),
        (("full", "name"), ("display", "name"), ("fullname",)),
    ),
    "customer_id": (
        "{type: id, limit: 1}",
        frozenset({"customerid", "clientid"}),
        (("customer", "id"), ("client", "id"), ("customerid",)),
    ),
    "postcode": (
        "{type: text}",
        frozenset({"zip", "zipcode", "postcode", "postalcode", "cp"}),
        (("zip",), ("postcode",), ("post", "code"), ("postal", "code"), ("zipcode",)),
    ),
}
ORDER_HINT = re.compile(
    r"update|modified|created|signup|subscribed|date|time|_at$|_ts$|(^|_)ts$", re.I
)
# Text formats tried on a sample of the order column, in this order; ISO needs none.
TIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
SAMPLE_ROWS = 200
PLAIN_SCALAR = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")

HEADER = """\
# idspine configuration — see `idspine schema` for every key.
project: {project}
engine: duckdb                  # or spark
output:
  database: out/{project}.duckdb
  schema: identity
  id_column: profile_id

# Identifiers: logical attributes used to link records. The type decides the cleaning.
# limit: the most distinct values one profile may hold (conflict guardrail).
# max_group_size: a value shared by more records is a "hub" (junk) and links nothing.
identifiers:
{identifiers}
# Sources: where each table lives, its key, which column says what is newer, and which
# columns feed which identifier (a list feeds several; an SQL expression is allowed).
sources:
{sources}
# Rules, strongest first. Each needs at least one exact criterion (the anchor); fuzzy
# criteria only compare records that share the anchor.
rules:
{rules}
conflict_policy: keep_separate  # or quarantine

# Golden record: which value wins per identifier (default last_non_null).
golden: {{}}
"""


def _reader(path: Path) -> exp.Expr:
    if path.suffix.lower() in {".parquet", ".pq"}:
        return sql("read_parquet($p)", p=lit(str(path)))
    return sql("read_csv($p, all_varchar = true)", p=lit(str(path)))


def _describe(connection: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """(name, DuckDB type) of every column of a sample file."""
    query = sql("DESCRIBE SELECT * FROM $r", r=_reader(path))
    rows = connection.execute(render(query, "duckdb")).fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def _words(column: str) -> tuple[str, ...]:
    """The words of a column name: split on case changes, digits and punctuation."""
    ascii_name = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
    found = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", ascii_name)
    return tuple(word.lower() for word in found)


def _guess(column: str) -> str | None:
    words = _words(column)
    for name, (_, whole, runs) in GUESSES.items():
        if "".join(words) in whole:
            return name
        for run in runs:
            if any(words[i : i + len(run)] == run for i in range(len(words) - len(run) + 1)):
                return name
    return None


def _yaml(value: str) -> str:
    """A YAML scalar for a name or a path: plain when safe, double-quoted otherwise."""
    if PLAIN_SCALAR.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _time_format(
    connection: duckdb.DuckDBPyConnection, path: Path, column: str, kind: str
) -> str | None:
    """The `order_by` format of a column, guessed from a sample of its values."""
    upper = kind.upper()
    if "TIMESTAMP" in upper or upper == "DATE":
        return None
    values = [
        str(row[0])
        for row in connection.execute(
            render(
                sql(
                    "SELECT DISTINCT CAST($c AS VARCHAR) FROM $r WHERE $c IS NOT NULL LIMIT $n",
                    c=ident(column),
                    r=_reader(path),
                    n=lit(SAMPLE_ROWS),
                ),
                "duckdb",
            )
        ).fetchall()
    ]
    if not values:
        return None
    if all(re.fullmatch(r"\d{9,10}(\.\d+)?", v) for v in values):
        return "epoch"
    if all(re.fullmatch(r"\d{12,13}", v) for v in values):
        return "epoch_ms"
    sample = exp.Array(expressions=[lit(v) for v in values])
    if _parses_all(connection, sample, None):
        return None
    return next((f for f in TIME_FORMATS if _parses_all(connection, sample, f)), None)


def _parses_all(
    connection: duckdb.DuckDBPyConnection, sample: exp.Expr, time_format: str | None
) -> bool:
    parse = (
        sql("try_cast(v AS TIMESTAMP)")
        if time_format is None
        else sql("try_strptime(v, $f)", f=lit(time_format))
    )
    query = sql(
        "SELECT bool_and($parse IS NOT NULL) FROM (SELECT unnest($s) AS v)",
        parse=parse,
        s=sample.copy(),
    )
    row = connection.execute(render(query, "duckdb")).fetchone()
    return bool(row and row[0])


def _source_block(
    connection: duckdb.DuckDBPyConnection, sample: Path, base_dir: Path, used: dict[str, str]
) -> str:
    try:
        columns = _describe(connection, sample)
    except duckdb.Error as exc:
        raise InputError([Problem(str(sample), f"cannot read: {exc}")]) from None
    names = [name for name, _ in columns]
    mapping: dict[str, list[str]] = {}
    for column in names:
        guessed = _guess(column)
        if guessed:
            mapping.setdefault(guessed, []).append(column)
            used[guessed] = GUESSES[guessed][0]
    order = next((c for c in names if ORDER_HINT.search(c)), names[-1])
    time_format = _time_format(connection, sample, order, dict(columns)[order])
    order_by = (
        f"{{column: {_yaml(order)}, format: {json.dumps(time_format)}}}"
        if time_format
        else f'{_yaml(order)}              # or {{column: ..., format: "%d/%m/%Y"}}'
    )
    mapped = ", ".join(
        f"{name}: {_yaml(cols[0])}"
        if len(cols) == 1
        else f"{name}: [{', '.join(_yaml(c) for c in cols)}]"
        for name, cols in mapping.items()
    )
    try:
        location = os.path.relpath(sample.resolve(), base_dir.resolve())
    except ValueError:  # another drive on Windows: no relative path exists
        location = str(sample.resolve())
    return (
        f"  {re.sub(r'[^a-z0-9_]', '_', sample.stem.lower())}:\n"
        f"    path: {_yaml(Path(location).as_posix())}\n"
        f"    primary_key: {_yaml(names[0])}      # check: must be unique and non-null\n"
        f"    order_by: {order_by}\n"
        f"    map: {{{mapped}}}\n"
    )


def starter_config(samples: list[Path], base_dir: Path) -> str:
    """A commented starter config; sample paths are written relative to `base_dir`, the
    folder of the config file, as the loader reads them."""
    used: dict[str, str] = {}
    with duckdb.connect() as connection:
        sources = [_source_block(connection, sample, base_dir, used) for sample in samples]
    if not samples:
        used = {name: GUESSES[name][0] for name in ("email", "phone", "first_name", "last_name")}
        sources.append(
            "  crm_contacts:\n    path: data/crm_contacts.csv\n    primary_key: contact_id\n"
            '    order_by: {column: updated, format: "%d/%m/%Y %H:%M"}\n'
            "    map: {email: [email, alt_email], phone: phone, first_name: first, "
            "last_name: last}\n"
        )
    rules = []
    if "customer_id" in used:
        rules.append("  - {name: same_customer_id, match: {customer_id: exact}}")
    if "email" in used:
        name_check = (
            ", last_name: {type: fuzzy_strong, allow_missing: true}"
            if ("last_name" in used)
            else ""
        )
        rules.append(f"  - {{name: same_email, match: {{email: exact{name_check}}}}}")
    if "phone" in used:
        rules.append("  - {name: same_phone, match: {phone: exact}}")
    if not rules:
        rules.append("  - {name: first_rule, match: {IDENTIFIER: exact}}")
    identifiers = "".join(f"  {name}: {line}\n" for name, line in used.items())
    return HEADER.format(
        project="my_project",
        identifiers=identifiers,
        sources="".join(sources),
        rules="\n".join(rules) + "\n",
    )
