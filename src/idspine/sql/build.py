"""SQL as sqlglot trees.

Templates are constant DuckDB-SQL strings written in this package, with `$name` placeholders.
Everything that comes from the config or the data (table and column names, block-list values,
regions) enters a template only as a sqlglot node: a quoted identifier or a literal, never as
text. Trees are rendered to each engine's dialect in `dialect.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import sqlglot
from sqlglot import exp

TEMPLATE_DIALECT = "duckdb"

# Functions that reach outside the row (files, settings, secrets, variables, environment,
# extensions, sequences): never allowed in a user-written mapping or custom expression.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "getvariable",
        "which_secret",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "load",
        "install",
        "extension_versions",
        "add_grammar_extension",
        "remove_grammar_extension",
        "nextval",
        "currval",
    }
)
FORBIDDEN_PREFIXES = (
    "read_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
)
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@lru_cache(maxsize=512)
def _parse_template(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read=TEMPLATE_DIALECT)


def sql(template: str, **params: exp.Expr) -> exp.Expr:
    """Parse a constant template and put the given nodes in its `$name` placeholders."""
    tree = _parse_template(template).copy()
    missing = {p.name for p in tree.find_all(exp.Placeholder)} - params.keys()
    if missing:
        raise KeyError(f"template placeholders without a value: {sorted(missing)}")
    return exp.replace_placeholders(tree, **params)


def ident(name: str) -> exp.Column:
    """A column reference, always quoted."""
    return exp.column(name, quoted=True)


def table(name: str, schema: str | None = None) -> exp.Table:
    return exp.table_(name, db=schema, quoted=True)


def lit(value: str | int | float | bool | None) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)


def subquery(tree: exp.Expr, alias: str) -> exp.Subquery:
    return exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def values_table(
    columns: list[str], rows: Sequence[tuple[str | int | float | None, ...]], alias: str
) -> exp.Expr:
    """An inline VALUES relation made of literals (block lists, nickname tables...)."""
    if not rows:
        nulls = exp.select(*[exp.alias_(exp.cast(exp.null(), "varchar"), c) for c in columns])
        return exp.Subquery(
            this=nulls.where(exp.false()), alias=exp.TableAlias(this=exp.to_identifier(alias))
        )
    return exp.values([tuple(lit(v) for v in row) for row in rows], alias=alias, columns=columns)


def parse_value_expression(text: str, allowed_columns: set[str]) -> exp.Expr:
    """Parse a user-written SQL expression and refuse anything but a plain expression.

    The expression may use only `allowed_columns` (compared case-insensitively), scalar
    functions and literals: no subquery, no statement, no other table, no file access.
    """
    try:
        tree = sqlglot.parse_one(text, read=TEMPLATE_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise ValueError(f"not a valid SQL expression: {exc.errors[0]['description']}") from None
    except sqlglot.errors.SqlglotError as exc:  # the tokenizer: an unclosed quote, a stray byte
        raise ValueError(f"not a valid SQL expression: {exc}") from None
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command) or tree.find(
        exp.Query, exp.Subquery, exp.Table, exp.Command
    ):
        raise ValueError("only a plain expression is allowed (no query, statement or table)")
    for parameter in tree.find_all(exp.Placeholder, exp.Parameter, exp.SessionParameter):
        raise ValueError(
            f"'{parameter.sql(TEMPLATE_DIALECT)}' is a query parameter, not a value "
            "(quote text as 'text')"
        )
    forbidden = forbidden_function(tree)
    if forbidden:
        raise ValueError(f"function '{forbidden}' is not allowed in an expression")
    allowed = {c.lower() for c in allowed_columns}
    for column in tree.find_all(exp.Column):
        if column.table:
            raise ValueError(f"column '{column.sql()}' must not name a table")
        if column.name.lower() not in allowed:
            raise ValueError(f"unknown column '{column.name}'")
    for star in tree.find_all(exp.Star):
        raise ValueError(f"'{star.sql()}' is not allowed in an expression")
    return tree


def forbidden_function(tree: exp.Expr) -> str | None:
    """The first function of the tree that reaches outside the rows (files, environment)."""
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in FORBIDDEN_FUNCTIONS or name.startswith(FORBIDDEN_PREFIXES):
            return name
    return None


def restricted_query_problem(text: str) -> str | None:
    """Why a `query:` source may not run under `trusted: false`, or None if it may.

    Such a query may read tables of the database by plain name only: no file or environment
    function and no quoted name (DuckDB reads `FROM '/etc/passwd'` as a file).
    """
    try:
        tree = sqlglot.parse_one(text, read=TEMPLATE_DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        return f"not valid SQL: {exc}"
    if not isinstance(tree, exp.Query):
        return "must be a SELECT query"
    forbidden = forbidden_function(tree)
    if forbidden:
        return f"function '{forbidden}' reads outside the database, refused as trusted is false"
    for table in tree.find_all(exp.Table):
        parts = [table.args.get(k) for k in ("catalog", "db", "this")]
        for part in parts:
            if part is not None and not (
                isinstance(part, exp.Identifier) and not part.quoted and PLAIN_NAME.match(part.name)
            ):
                return (
                    f"'{table.sql(TEMPLATE_DIALECT)}' is not a plain table name, refused as "
                    "trusted is false"
                )
    return None


def is_plain_column(text: str) -> bool:
    """Whether a mapping names one column (any characters) rather than an expression."""
    try:
        tree = sqlglot.parse_one(text, read=TEMPLATE_DIALECT)
    except sqlglot.errors.SqlglotError:
        # Not SQL at all (a lone quote, say): only a column of that exact name can match it,
        # and it is then quoted as an identifier, never parsed.
        return True
    return isinstance(tree, exp.Column) and not tree.table
