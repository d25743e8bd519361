"""`idspine init`: a commented starter config, guessed from sample files when given."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from idspine.errors import InputError, Problem

# column-name pattern -> (identifier, type line)
GUESSES: tuple[tuple[str, str, str], ...] = (
    (r"e[-_]?mail", "email", "{type: email, strip_plus_tag: true, gmail_dots: true, limit: 3}"),
    (r"phone|mobile|tel", "phone", "{type: phone, default_region: FR, limit: 2}"),
    (r"first|given|prenom", "first_name", "{type: name, nicknames: true}"),
    (r"last|surname|family|nom$", "last_name", "{type: name}"),
    (r"full_?name|display_?name", "full_name", "{type: name}"),
    (r"customer_?id|client_?id", "customer_id", "{type: id, limit: 1}"),
    (r"zip|post_?code|postal", "postcode", "{type: text}"),
)
ORDER_HINT = re.compile(r"updated|modified|created|signup|subscribed|date|_at$|_ts$", re.I)

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


def _describe(path: Path) -> list[str]:
    reader = "read_parquet" if path.suffix.lower() in {".parquet", ".pq"} else "read_csv"
    try:
        with duckdb.connect() as connection:
            rows = connection.execute(f"DESCRIBE SELECT * FROM {reader}(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InputError([Problem(str(path), f"cannot read: {exc}")]) from None
    return [str(row[0]) for row in rows]


def _guess(column: str) -> str | None:
    lowered = column.lower()
    return next((name for pattern, name, _ in GUESSES if re.search(pattern, lowered)), None)


def starter_config(samples: list[Path], base_dir: Path) -> str:
    used: dict[str, str] = {}
    sources = []
    for sample in samples:
        columns = _describe(sample)
        mapping: dict[str, list[str]] = {}
        for column in columns:
            guessed = _guess(column)
            if guessed:
                mapping.setdefault(guessed, []).append(column)
                used[guessed] = next(t for _, n, t in GUESSES if n == guessed)
        order = next((c for c in columns if ORDER_HINT.search(c)), columns[-1])
        mapped = ", ".join(
            f"{name}: {cols[0]}" if len(cols) == 1 else f"{name}: [{', '.join(cols)}]"
            for name, cols in mapping.items()
        )
        try:
            location = sample.resolve().relative_to(base_dir.resolve())
        except ValueError:
            location = sample.resolve()
        sources.append(
            f"  {re.sub(r'[^a-z0-9_]', '_', sample.stem.lower())}:\n"
            f"    path: {location}\n"
            f"    primary_key: {columns[0]}      # check: must be unique and non-null\n"
            f'    order_by: {order}              # or {{column: ..., format: "%d/%m/%Y"}}\n'
            f"    map: {{{mapped}}}\n"
        )
    if not samples:
        used = {
            "email": GUESSES[0][2],
            "phone": GUESSES[1][2],
            "first_name": GUESSES[2][2],
            "last_name": GUESSES[3][2],
        }
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
