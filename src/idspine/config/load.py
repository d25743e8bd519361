"""The resolved, frozen configuration the pipeline uses, and how it is loaded.

`load_config` reads YAML, checks its shape with the strict models of `config_model.py`,
then resolves it: defaults filled, rule priorities numbered, cross-references checked.
Every problem is collected with its config path and raised once as a `ConfigError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from idspine.config.checks import (
    check_database,
    check_engine_options,
    check_names,
    check_overrides_file,
    check_restricted_sources,
    check_with_duckdb,
    csv_encoding,
    unmapped_warnings,
)
from idspine.config.model import FuzzyCriterion, GoldenFieldSpec, ProjectSpec
from idspine.config.problems import pydantic_problems, suggest
from idspine.config.quality import (
    check_region,
    resolve_identifier_options,
    resolve_source_options,
)
from idspine.config.types import (
    Checks,
    Config,
    Criterion,
    GoldenField,
    Identifier,
    Output,
    Rule,
    Source,
)
from idspine.config.yaml_reader import read_yaml
from idspine.errors import ConfigError, Problem
from idspine.sql.comparators import COMPARATORS, MATCH_LEVELS

__all__ = [
    "Config",
    "Criterion",
    "GoldenField",
    "Identifier",
    "Output",
    "Rule",
    "Source",
    "load_config",
    "resolve",
]

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_config(source: str | Path | dict[str, Any], base_dir: Path | None = None) -> Config:
    """Load, check and resolve a configuration from a YAML path or a dict."""
    label = None
    if isinstance(source, dict):
        raw = source
        root = base_dir or Path.cwd()
    else:
        path = Path(source)
        label = str(path)
        raw = read_yaml(path)
        root = base_dir or path.resolve().parent
    try:
        spec = ProjectSpec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(pydantic_problems(exc, raw), label) from None
    trusted = spec.trusted if spec.trusted is not None else not isinstance(source, dict)
    return resolve(spec, root, label, trusted=trusted)


def resolve(
    spec: ProjectSpec, base_dir: Path, label: str | None = None, *, trusted: bool = True
) -> Config:
    """Turn checked user input into the frozen config, collecting every problem."""
    problems: list[Problem] = []
    identifiers = _resolve_identifiers(spec, problems)
    known = {i.name: i for i in identifiers}
    sources = _resolve_sources(spec, base_dir, known, problems)
    if not trusted:
        check_restricted_sources(sources, problems)
    rules = _resolve_rules(spec, known, problems)
    golden = _resolve_golden(spec, known, sources, problems)
    for key, name in (("schema", spec.output.schema_name), ("id_column", spec.output.id_column)):
        if not NAME_PATTERN.match(name):
            problems.append(Problem(f"output.{key}", f"'{name}' is not a plain SQL name"))
    database = _under(base_dir, spec.output.database)
    check_names(spec, problems)
    check_database(spec, database, problems)
    check_engine_options(spec, problems)
    check_with_duckdb(spec, problems)
    overrides_file = check_overrides_file(spec, base_dir, sources, problems)
    if problems:
        raise ConfigError(problems, label)
    canonical = json.dumps(spec.model_dump(mode="json", by_alias=True), sort_keys=True)
    engine_options = (spec.duckdb if spec.engine == "duckdb" else spec.spark).model_dump()
    return Config(
        project=spec.project,
        engine=spec.engine,
        engine_options=engine_options,
        output=Output(
            database=str(database),
            schema=spec.output.schema_name,
            id_column=spec.output.id_column,
            location=str(_under(base_dir, spec.output.location)) if spec.output.location else None,
        ),
        identifiers=identifiers,
        sources=sources,
        rules=rules,
        conflict_policy=spec.conflict_policy,
        golden=golden,
        sample_profiles=spec.sample_profiles,
        config_hash=hashlib.sha256(canonical.encode()).hexdigest()[:16],
        base_dir=base_dir,
        checks=Checks(**spec.checks.model_dump()),
        warnings=tuple(unmapped_warnings(spec)),
        overrides_file=overrides_file,
    )


def _under(base_dir: Path, location: str) -> Path:
    path = Path(location).expanduser()
    return path if path.is_absolute() else base_dir / path


def _resolve_identifiers(spec: ProjectSpec, problems: list[Problem]) -> tuple[Identifier, ...]:
    resolved = []
    for name, ident in spec.identifiers.items():
        path = f"identifiers.{name}"
        if not NAME_PATTERN.match(name):
            problems.append(Problem(path, "identifier names must be plain names (a-z, 0-9, _)"))
        if ident.type == "phone":
            region = ident.default_region
            if region is None:
                problems.append(
                    Problem(path, "a phone identifier needs default_region", "e.g. FR, US, GB")
                )
            else:
                check_region(region, f"{path}.default_region", problems)
        if ident.type == "custom":
            _check_custom_expression(ident.expression, f"{path}.expression", problems)
        resolved.append(
            Identifier(
                name=name,
                type=ident.type,
                limit=ident.limit,
                max_group_size=ident.max_group_size,
                block=tuple(ident.block),
                block_patterns=tuple(ident.block_patterns),
                default_block_list=ident.default_block_list,
                case_sensitive=ident.case_sensitive,
                strip_plus_tag=ident.strip_plus_tag,
                gmail_dots=ident.gmail_dots,
                default_region=ident.default_region.upper() if ident.default_region else None,
                only_numeric=ident.only_numeric,
                expression=ident.expression,
                **resolve_identifier_options(ident, path, problems),
            )
        )
    if not resolved:
        problems.append(Problem("identifiers", "at least one identifier is needed"))
    return tuple(resolved)


def _check_custom_expression(text: str | None, path: str, problems: list[Problem]) -> None:
    if not text:
        problems.append(Problem(path, "a custom identifier needs an SQL expression over `value`"))
        return
    from idspine.sql.build import parse_value_expression

    try:
        parse_value_expression(text, allowed_columns={"value"})
    except ValueError as exc:
        problems.append(Problem(path, str(exc), "use `value` for the raw value"))


def _resolve_sources(
    spec: ProjectSpec, base_dir: Path, known: dict[str, Identifier], problems: list[Problem]
) -> tuple[Source, ...]:
    resolved = []
    for name, source in spec.sources.items():
        path = f"sources.{name}"
        if not NAME_PATTERN.match(name):
            problems.append(Problem(path, "source names must be plain names (a-z, 0-9, _)"))
        places = [
            (k, v)
            for k, v in (("path", source.path), ("table", source.table), ("query", source.query))
            if v
        ]
        if len(places) != 1:
            problems.append(Problem(path, "give exactly one of path, table or query"))
            continue
        kind, location = places[0]
        if kind == "path":
            location = str(_under(base_dir, location))
        file_format = source.format
        if kind == "path" and file_format is None:
            suffix = Path(location).suffix.lower().lstrip(".")
            if suffix in {"csv", "tsv", "txt"}:
                file_format = "csv"
            elif suffix in {"parquet", "pq"}:
                file_format = "parquet"
            else:
                problems.append(
                    Problem(
                        f"{path}.path",
                        f"cannot tell the format of '{location}'",
                        "add format: csv or format: parquet",
                    )
                )
        mappings = []
        for ident_name, columns in source.map.items():
            if ident_name not in known:
                problems.append(
                    Problem(
                        f"{path}.map.{ident_name}",
                        "unknown identifier",
                        suggest(ident_name, list(known)),
                    )
                )
            mappings.append((ident_name, tuple([columns] if isinstance(columns, str) else columns)))
        if not mappings and source.names is None:
            problems.append(Problem(f"{path}.map", "map at least one identifier"))
        for field_name in source.fields:
            if field_name in known:
                problems.append(
                    Problem(
                        f"{path}.fields.{field_name}",
                        "this name is an identifier; map it under `map`",
                    )
                )
        order = source.order_by if not isinstance(source.order_by, str) else None
        resolved.append(
            Source(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                location=location,
                file_format=file_format,
                csv_delimiter=source.csv.delimiter,
                csv_header=source.csv.header,
                csv_encoding=csv_encoding(source.csv.encoding),
                primary_key=source.primary_key,
                order_column=order.column if order else str(source.order_by),
                order_format=order.format if order else None,
                mappings=tuple(mappings),
                fields=tuple(source.fields.items()),
                **resolve_source_options(source, path, known, problems),
            )
        )
    if not resolved:
        problems.append(Problem("sources", "at least one source is needed"))
    return tuple(resolved)


def _resolve_rules(
    spec: ProjectSpec, known: dict[str, Identifier], problems: list[Problem]
) -> tuple[Rule, ...]:
    rules = []
    names: set[str] = set()
    for index, rule in enumerate(spec.rules):
        path = f"rules[{index}]"
        if rule.name in names:
            problems.append(Problem(f"{path}.name", f"rule name '{rule.name}' is used twice"))
        names.add(rule.name)
        criteria = []
        for label, raw in rule.match.items():
            criterion = _resolve_criterion(label, raw, known, f"{path}.match.{label}", problems)
            if criterion is not None:
                criteria.append(criterion)
        if not any(c.exact for c in criteria) and len(criteria) == len(rule.match):
            problems.append(
                Problem(
                    f"{path}.match",
                    f"rule '{rule.name}' has no exact criterion (anchor)",
                    "every rule needs at least one `exact` identifier; fuzzy criteria are only "
                    "compared between records that share the anchor",
                )
            )
        rules.append(Rule(rule.name, index + 1, tuple(criteria), rule.max_group_size))
    if not spec.rules:
        problems.append(Problem("rules", "at least one rule is needed"))
    return tuple(rules)


def _resolve_criterion(
    label: str,
    raw: str | FuzzyCriterion,
    known: dict[str, Identifier],
    path: str,
    problems: list[Problem],
) -> Criterion | None:
    spec = FuzzyCriterion.model_validate({"type": raw}) if isinstance(raw, str) else raw
    members = tuple(spec.identifiers) if spec.identifiers else (label,)
    unknown = [m for m in members if m not in known]
    for member in unknown:
        problems.append(
            Problem(path, f"unknown identifier '{member}'", suggest(member, list(known)))
        )
    if unknown:
        return None
    types = {known[m].type for m in members}
    if len(types) > 1:
        problems.append(
            Problem(path, f"a group must hold identifiers of one type, got {sorted(types)}")
        )
    if (spec.type is None) == (spec.function is None):
        problems.append(
            Problem(
                path,
                "give either a type (exact, fuzzy_strong, fuzzy_medium) "
                "or a function with a threshold",
            )
        )
        return None
    if spec.type == "exact":
        if spec.allow_missing:
            problems.append(Problem(path, "allow_missing applies to fuzzy criteria only"))
        return Criterion(label, members, True, None, None, False, False)
    if spec.type is not None:
        function, threshold = MATCH_LEVELS[spec.type]
        threshold = spec.threshold if spec.threshold is not None else threshold
    else:
        function, threshold = str(spec.function), spec.threshold or 0.0
        if spec.threshold is None:
            problems.append(Problem(path, "a function needs a threshold between 0 and 1"))
    assert function in COMPARATORS
    is_name = types == {"name"}
    compound = is_name and all(known[m].compound for m in members)
    nicknames = is_name and any(known[m].nicknames is not None for m in members)
    return Criterion(
        label, members, False, function, threshold, spec.allow_missing, is_name, compound, nicknames
    )


def _resolve_golden(
    spec: ProjectSpec,
    known: dict[str, Identifier],
    sources: tuple[Source, ...],
    problems: list[Problem],
) -> tuple[GoldenField, ...]:
    field_names = {f for s in sources for f, _ in s.fields}
    source_names = [s.name for s in sources]
    chosen: dict[str, GoldenFieldSpec] = {
        name: GoldenFieldSpec(strategy=raw) if isinstance(raw, str) else raw
        for name, raw in spec.golden.items()
    }
    golden = []
    for name, choice in chosen.items():
        path = f"golden.{name}"
        if name not in known and name not in field_names:
            problems.append(
                Problem(
                    path,
                    "not an identifier nor a source field",
                    suggest(name, [*known, *field_names]),
                )
            )
            continue
        if choice.strategy == "source_priority":
            if not choice.order:
                problems.append(Problem(path, "source_priority needs `order: [source, ...]`"))
            for other in choice.order or []:
                if other not in source_names:
                    problems.append(
                        Problem(
                            f"{path}.order",
                            f"unknown source '{other}'",
                            suggest(other, source_names),
                        )
                    )
        golden.append(GoldenField(name, name in known, choice.strategy, tuple(choice.order or ())))
    # Identifiers and fields the user did not name are exposed with the default strategy.
    for name in [*known, *sorted(field_names)]:
        if name not in chosen:
            golden.append(GoldenField(name, name in known, "last_non_null"))
    return tuple(golden)
