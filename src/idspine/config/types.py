"""The resolved, frozen configuration: what every pipeline stage reads (built by `config.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Nicknames:
    """Nickname pairs as configured; cleaned like values when the run builds them."""

    builtin: bool
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Identifier:
    name: str
    type: str
    limit: int | None
    max_group_size: int
    block: tuple[str, ...]
    block_patterns: tuple[str, ...]
    default_block_list: bool
    case_sensitive: bool
    strip_plus_tag: bool
    gmail_dots: bool
    default_region: str | None
    nicknames: Nicknames | None
    only_numeric: bool
    expression: str | None
    fallback_regions: tuple[str, ...] = ()
    compound: bool = False


@dataclass(frozen=True)
class FullName:
    """A full-name column or SQL expression, parsed into two name identifiers."""

    expression: str
    first: str | None
    last: str | None


@dataclass(frozen=True)
class Source:
    name: str
    kind: Literal["path", "table", "query"]
    location: str
    file_format: Literal["csv", "parquet"] | None
    csv_delimiter: str
    csv_header: bool
    csv_encoding: str  # utf-8, utf-16 or latin-1 (checked in config_checks)
    primary_key: str
    order_column: str
    order_format: str | None
    mappings: tuple[tuple[str, tuple[str, ...]], ...]  # identifier -> column names or SQL
    fields: tuple[tuple[str, str], ...]  # golden field -> column name or SQL
    full_name: FullName | None = None
    phone_default_region: str | None = None  # overrides the phone identifiers' own
    phone_region: str | None = None  # column or SQL: a region code or country name per record


@dataclass(frozen=True)
class Criterion:
    label: str
    identifiers: tuple[str, ...]
    exact: bool
    function: str | None
    threshold: float | None
    allow_missing: bool
    is_name: bool  # identifiers of type name: initials match, groups try swapped order
    compound: bool = False  # name words: one value's words all in the other's pass
    nicknames: bool = False  # a member has nickname pairs: a pair scores 1.0


@dataclass(frozen=True)
class Rule:
    name: str
    priority: int  # 1 = strongest
    criteria: tuple[Criterion, ...]
    max_group_size: int | None = None  # per-rule bound on anchor value groups

    @property
    def anchors(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.exact)

    @property
    def fuzzy(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.exact)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(sorted({i for c in self.criteria for i in c.identifiers}))


@dataclass(frozen=True)
class GoldenField:
    name: str
    is_identifier: bool
    strategy: str
    source_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    database: str
    schema: str
    id_column: str
    location: str | None


@dataclass(frozen=True)
class Checks:
    """Publish-gate limits (None = off); see checks.py."""

    max_profile_records: int | None = 1000
    max_id_churn: float | None = 0.2
    max_profile_count_change: float | None = 0.2
    max_match_rate_change: float | None = 0.2
    max_new_hub_records: int | None = 10000
    min_resolution_rate: float | None = None
    max_source_shrink: float | None = 0.5
    min_population: int = 100


@dataclass(frozen=True)
class Config:
    project: str
    engine: Literal["duckdb", "spark"]
    engine_options: dict[str, Any]
    output: Output
    identifiers: tuple[Identifier, ...]
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...]
    conflict_policy: Literal["keep_separate", "quarantine"]
    golden: tuple[GoldenField, ...]
    sample_profiles: int
    config_hash: str
    base_dir: Path = field(default_factory=Path.cwd)
    checks: Checks = field(default_factory=Checks)
    overrides_file: str | None = None  # decisions kept in version control (overrides.py)
    # Not errors, but likely mistakes (a rule on an identifier no source maps); shown by
    # `validate` and `run`.
    warnings: tuple[str, ...] = ()

    def identifier(self, name: str) -> Identifier:
        return next(i for i in self.identifiers if i.name == name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(sorted({f for s in self.sources for f, _ in s.fields}))
