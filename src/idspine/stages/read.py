"""Stage 1 — read: expose every source, check it, and stage its rows.

Checks run before any matching work: the key, order field and every mapped column exist
(an SQL-expression mapping may use only its own source's columns); keys are non-null and
unique. Problems name the source, the column and the config path.

Produces per source a staged work table `stage_<source>` with `record_key`, `order_ts`,
`source_row` (1-based rank of the key), one column per golden field and one per mapped
column (`m_<n>`), plus the plan of how these columns map to identifiers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from idspine.config.load import Config, Source
from idspine.engines.base import Engine
from idspine.errors import EngineError, InputError, Problem
from idspine.plan import Step
from idspine.sql.build import ident, is_plain_column, lit, parse_value_expression, sql, subquery
from idspine.sql.dialect import parse_order_field
from idspine.stages.phone_regions import country_join_condition, country_relation, record_region

EXAMPLES = 5
FULL_NAMES = "full_names"  # distinct full names and their parsed first and last names


@dataclass(frozen=True)
class StagedSource:
    source: Source
    table: str
    row_count: int
    offset: int  # record_id = offset + source_row - 1
    mapped: tuple[tuple[str, str], ...]  # (identifier, staged column)
    unparsed_order_values: int


def _resolve_column(
    text: str,
    columns: list[str],
    path: str,
    problems: list[Problem],
    nested: dict[str, str] | None = None,
) -> exp.Expr | None:
    if is_plain_column(text) or text in columns:
        if text in columns and text in (nested or {}):
            # Cast to text, a struct or list becomes one string no identifier can clean.
            problems.append(
                Problem(
                    path,
                    f"column '{text}' holds {(nested or {})[text]} values, not plain values",
                    "map an SQL expression that takes one scalar out of it, e.g. "
                    f'struct_extract("{text}", \'field\') or "{text}"[1]',
                )
            )
            return None
        if text in columns:
            return ident(text)
        folded = {c.lower(): c for c in columns}
        hint = (
            f"the input has '{folded[text.lower()]}' (names are case-sensitive)"
            if text.lower() in folded
            else f"columns are: {', '.join(columns)}"
        )
        problems.append(Problem(path, f"column '{text}' does not exist", hint))
        return None
    try:
        tree = parse_value_expression(text, set(columns))
    except ValueError as exc:
        problems.append(
            Problem(
                path, f"bad SQL expression {text!r}: {exc}", f"columns are: {', '.join(columns)}"
            )
        )
        return None
    # Bind every column to its exact spelling in the input, quoted.
    folded = {c.lower(): c for c in columns}
    return tree.transform(
        lambda node: ident(folded[node.name.lower()]) if isinstance(node, exp.Column) else node
    )


def plan_stage(
    source: Source,
    columns: list[str],
    engine_name: str,
    problems: list[Problem],
    nested: dict[str, str] | None = None,
) -> tuple[Step | None, tuple[tuple[str, str], ...]]:
    """The staging query of one source, or None with problems when the source is unusable."""
    base = f"sources.{source.name}"
    before = len(problems)
    key = _resolve_column(source.primary_key, columns, f"{base}.primary_key", problems)
    order = _resolve_column(source.order_column, columns, f"{base}.order_by", problems)
    selects: list[exp.Expr] = []
    mapped: list[tuple[str, str]] = []
    for identifier, texts in source.mappings:
        for index, text in enumerate(texts):
            path = f"{base}.map.{identifier}" + (f"[{index}]" if len(texts) > 1 else "")
            expression = _resolve_column(text, columns, path, problems, nested)
            if expression is not None:
                column = f"m_{len(mapped)}"
                mapped.append((identifier, column))
                selects.append(exp.alias_(exp.cast(expression, "varchar"), column, quoted=True))
    # A full name to parse (`n_full`) and the region of phone numbers (`p_region`).
    extras = [
        ("n_full", source.full_name.expression if source.full_name else None, "names.column"),
        ("p_region", source.phone_region, "phones.region"),
    ]
    for column, extra, path in extras:
        expression = (
            None if extra is None else _resolve_column(extra, columns, f"{base}.{path}", problems)
        )
        if expression is not None:
            selects.append(exp.alias_(exp.cast(expression, "varchar"), column, quoted=True))
    for field_name, text in source.fields:
        expression = _resolve_column(text, columns, f"{base}.fields.{field_name}", problems)
        if expression is not None:
            selects.append(
                exp.alias_(exp.cast(expression, "varchar"), f"f_{field_name}", quoted=True)
            )
    if len(problems) > before or key is None or order is None:
        return None, ()
    # Built as a tree: the inner select lists key, order and the mapped/field columns.
    inner = exp.select(
        exp.alias_(key, "__key", quoted=True), exp.alias_(order, "__order", quoted=True), *selects
    ).from_(exp.to_table(f"src_{source.name}", quoted=True))
    outer = exp.select(
        exp.alias_(exp.cast(ident("__key"), "varchar"), "record_key"),
        exp.alias_(exp.cast(ident("__order"), "varchar"), "order_raw"),
        exp.alias_(
            parse_order_field(engine_name, ident("__order"), source.order_format), "order_ts"
        ),
        exp.alias_(
            sql("row_number() OVER (ORDER BY CAST($k AS VARCHAR))", k=ident("__key")), "source_row"
        ),
        *[ident(s.alias) for s in selects],
    ).from_(inner.subquery("raw"))
    return Step(f"stage_{source.name}", outer), tuple(mapped)


def stage_sources(config: Config, engine: Engine) -> list[StagedSource]:
    """Read and check every source; raise one InputError listing every problem found."""
    problems: list[Problem] = []
    planned: list[tuple[Source, Step, tuple[tuple[str, str], ...]]] = []
    for source in sorted(config.sources, key=lambda s: s.name):
        unfit = _unfit_file(source)
        if unfit is not None:
            problems.append(unfit)
            continue
        try:
            engine.register_source(source, f"src_{source.name}")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        schema = engine.fetch_arrow(
            sql("SELECT * FROM $t LIMIT 0", t=exp.to_table(f"src_{source.name}", quoted=True))
        ).schema
        nested = {f.name: str(f.type) for f in schema if pa.types.is_nested(f.type)}
        step, mapped = plan_stage(source, schema.names, engine.name, problems, nested)
        if step is not None:
            planned.append((source, step, mapped))
    if problems:
        raise InputError(problems)
    staged: list[StagedSource] = []
    offset = 0
    for source, step, mapped in planned:
        try:
            engine.run(step)
            count, unparsed = _check_keys(engine, source, step.name, problems)
        except EngineError as exc:
            # Files are read lazily: encoding and parsing errors surface here, not earlier.
            where = f"sources.{source.name}.{source.kind}"
            problems.append(Problem(where, f"cannot read {source.location!r}: {exc.detail}"))
            continue
        staged.append(StagedSource(source, step.name, count, offset, mapped, unparsed))
        offset += count
    if problems:
        raise InputError(problems)
    return staged


def _unfit_file(source: Source) -> Problem | None:
    """A local path that cannot be what the config says: clearer than the reader's error."""
    location = source.location
    if source.kind != "path" or not os.path.exists(location):
        return None
    path = f"sources.{source.name}.path"
    if os.path.isdir(location):
        return Problem(
            path,
            f"'{location}' is a directory, not a file",
            "name the files with a pattern, e.g. "
            + os.path.join(location, "*." + (source.file_format or "csv")),
        )
    if source.file_format == "csv":
        with open(location, "rb") as handle:
            if handle.read(4) == b"PAR1":
                return Problem(
                    path,
                    f"'{location}' is a Parquet file but is read as CSV",
                    "set format: parquet (or remove format:)",
                )
    return None


def _check_keys(
    engine: Engine, source: Source, table: str, problems: list[Problem]
) -> tuple[int, int]:
    """Count rows, null and duplicate keys, and order values that could not be parsed."""
    summary = engine.fetch_arrow(
        sql(
            "SELECT count(*) AS total, count(*) FILTER (WHERE record_key IS NULL) AS null_keys, "
            "count(*) - count(DISTINCT record_key) - count(*) FILTER (WHERE record_key IS NULL) "
            "AS duplicate_rows, count(*) FILTER (WHERE order_raw IS NOT NULL AND order_ts IS NULL)"
            " AS unparsed FROM $t",
            t=exp.to_table(table, quoted=True),
        )
    ).to_pylist()[0]
    path = f"sources.{source.name}.primary_key"
    if summary["null_keys"]:
        problems.append(
            Problem(
                path,
                f"{summary['null_keys']} of {summary['total']} rows have a null key in column "
                f"'{source.primary_key}'",
                "every record needs a key; fix or filter the source",
            )
        )
    if summary["duplicate_rows"]:
        examples = engine.fetch_arrow(
            sql(
                "SELECT record_key, count(*) AS n FROM $t WHERE record_key IS NOT NULL "
                "GROUP BY record_key HAVING count(*) > 1 ORDER BY record_key LIMIT $limit",
                t=exp.to_table(table, quoted=True),
                limit=lit(EXAMPLES),
            )
        ).to_pylist()
        shown = ", ".join(f"{row['record_key']!r} x{row['n']}" for row in examples)
        problems.append(
            Problem(
                path,
                f"column '{source.primary_key}' is not unique: {summary['duplicate_rows']} "
                f"extra rows share a key (e.g. {shown})",
                "idspine never drops duplicates silently: deduplicate the source or pick another "
                "key",
            )
        )
    return int(summary["total"]), int(summary["unparsed"])


def plan_records(staged: list[StagedSource], field_names: tuple[str, ...]) -> Step:
    """One row per input record with its dense `record_id`, order and golden fields."""
    parts = []
    for item in staged:
        available = {f for f, _ in item.source.fields}
        parts.append(
            exp.select(
                exp.alias_(sql("$offset + source_row - 1", offset=lit(item.offset)), "record_id"),
                exp.alias_(lit(item.source.name), "source"),
                "record_key",
                "order_ts",
                *[
                    exp.alias_(
                        ident(f"f_{f}") if f in available else exp.cast(exp.null(), "varchar"),
                        f"f_{f}",
                        quoted=True,
                    )
                    for f in field_names
                ],
            ).from_(exp.to_table(item.table, quoted=True))
        )
    return Step("records", exp.union(*parts, distinct=False) if len(parts) > 1 else parts[0])


def plan_raw_lookup(staged: list[StagedSource], config: Config) -> list[Step]:
    """The long table of raw identifier values: one row per (record, mapped column, value).

    `region` is where a phone number is read (`phone_regions.record_region`; NULL for
    other identifiers). A full name parsed into first and last name gives one row per part
    found: `raw_value` is the part, `origin` the full name it was read from (published as
    the raw value, so that `identity_lookup` shows where a value came from).
    """
    steps: list[Step] = []
    parsing = [item for item in staged if item.source.full_name is not None]
    if parsing:
        distinct = [
            sql(
                "SELECT DISTINCT n_full AS full_name FROM $t WHERE n_full IS NOT NULL",
                t=exp.to_table(item.table, quoted=True),
            )
            for item in parsing
        ]
        steps.append(
            Step(
                FULL_NAMES,
                sql(
                    # Both parts in one statement: the UDF parses each distinct name once.
                    "SELECT full_name, idspine_name_part(full_name, 'first') AS first, "
                    "idspine_name_part(full_name, 'last') AS last FROM $names",
                    names=subquery(exp.union(*distinct) if len(distinct) > 1 else distinct[0], "n"),
                ),
            )
        )
    parts: list[exp.Expr] = []
    for item in staged:
        parts += _mapped_rows(item, config)
        full_name = item.source.full_name
        targets = [("first", full_name.first), ("last", full_name.last)] if full_name else []
        for part, target in targets:
            if target is None:
                continue
            parts.append(
                exp.select(
                    *_record_columns(item),
                    exp.alias_(lit(target), "identifier"),
                    exp.alias_(exp.column(part, "p"), "raw_value"),
                    exp.alias_(exp.cast(exp.null(), "varchar"), "region"),
                    exp.alias_(exp.column("n_full", "s"), "origin"),
                )
                .from_(exp.to_table(item.table, quoted=True).as_("s"))
                .join(
                    exp.to_table(FULL_NAMES).as_("p"),
                    on=sql("p.full_name = s.n_full"),
                )
                .where(sql("$c IS NOT NULL", c=exp.column(part, "p")))
            )
    steps.append(
        Step("lookup_raw", exp.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    )
    return steps


def _record_columns(item: StagedSource) -> list[exp.Expr]:
    return [
        exp.alias_(sql("$offset + s.source_row - 1", offset=lit(item.offset)), "record_id"),
        exp.alias_(lit(item.source.name), "source"),
        exp.column("record_key", "s"),
    ]


def _mapped_rows(item: StagedSource, config: Config) -> list[exp.Expr]:
    """The lookup rows of the columns mapped to identifiers, with each phone's region."""
    parts: list[exp.Expr] = []
    for identifier, column in item.mapped:
        resolved = config.identifier(identifier)
        is_phone = resolved.type == "phone"
        region = (
            record_region(resolved, item.source) if is_phone else exp.cast(exp.null(), "varchar")
        )
        query = (
            exp.select(
                *_record_columns(item),
                exp.alias_(lit(identifier), "identifier"),
                exp.alias_(exp.column(column, "s", quoted=True), "raw_value"),
                exp.alias_(region, "region"),
                exp.alias_(exp.cast(exp.null(), "varchar"), "origin"),
            )
            .from_(exp.to_table(item.table, quoted=True).as_("s"))
            .where(sql("$c IS NOT NULL", c=exp.column(column, "s", quoted=True)))
        )
        if is_phone and item.source.phone_region is not None:
            query = query.join(
                country_relation(),
                on=country_join_condition(exp.column("p_region", "s", quoted=True)),
                join_type="left",
            )
        parts.append(query)
    return parts
