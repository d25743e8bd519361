"""What the user writes: strict pydantic models of the YAML configuration.

These models only check shape. Cross-references (rules naming identifiers, golden fields,
anchors) are checked when the config is resolved (`config.py`), and source columns are
checked against the real input schemas when a run starts (`read.py`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_THREADS = 1024

IdentifierType = Literal["email", "phone", "name", "id", "text", "custom"]
MatchLevel = Literal["exact", "fuzzy_strong", "fuzzy_medium"]
ComparatorName = Literal["jaro_winkler", "levenshtein", "damerau_levenshtein", "jaccard_tokens"]
Strategy = Literal[
    "last_non_null",
    "most_frequent",
    "source_priority",
    "first_non_null",
    "longest",
    "min",
    "max",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NicknamesSpec(Strict):
    """Nickname pairs for a name identifier: the built-in dataset, plus and minus pairs."""

    builtin: bool = True  # the `nicknames` package's dataset (William <-> Bill, ...)
    add: list[tuple[str, str]] = []
    remove: list[tuple[str, str]] = []


class IdentifierSpec(Strict):
    """One logical identifier: its type, cleaning options and guardrails."""

    type: IdentifierType
    limit: Annotated[int, Field(ge=1)] | None = None
    max_group_size: Annotated[int, Field(ge=2)] = 1000
    block: list[str] = []
    block_patterns: list[str] = []
    default_block_list: bool = True
    case_sensitive: bool = False
    # email
    strip_plus_tag: bool = False
    gmail_dots: bool = False
    # phone
    default_region: str | None = None
    # regions tried in order when a national number is impossible in the record's region
    fallback_regions: list[str] = []
    # name: `true`, pairs to add/remove, or (older form) a mapping alias -> full name that
    # replaces the built-in dataset
    nicknames: bool | NicknamesSpec | dict[str, str] = False
    compound: bool = False  # fuzzy comparisons also pass when one value's words hold the other's
    # id
    only_numeric: bool = False
    # custom
    expression: str | None = None


class OrderBy(Strict):
    """The column that says which record is newer, and how to read it."""

    column: str
    format: str | None = None  # strptime format, "epoch" (seconds) or "epoch_ms"


class CsvOptions(Strict):
    delimiter: str = ","
    header: bool = True
    encoding: str = "utf-8"  # checked in config_checks: utf-8, utf-16 or latin-1


class FullNameSpec(Strict):
    """One full-name column (or SQL expression) parsed into first and last name identifiers."""

    column: str
    first: str | None = None
    last: str | None = None


class SourcePhonesSpec(Strict):
    """How this source's phone numbers are read: a region of its own, or one per record."""

    default_region: str | None = None
    region: str | None = None  # column or SQL expression: ISO codes or country names


class SourceSpec(Strict):
    """One source model: where it lives, its key, its order field and its mapping."""

    path: str | None = None
    table: str | None = None
    query: str | None = None
    format: Literal["csv", "parquet"] | None = None
    csv: CsvOptions = CsvOptions()
    primary_key: str
    order_by: str | OrderBy
    map: dict[str, str | list[str]] = {}
    names: FullNameSpec | None = None
    phones: SourcePhonesSpec = SourcePhonesSpec()
    fields: dict[str, str] = {}


class FuzzyCriterion(Strict):
    """A criterion with a level or an explicit function; optionally over a group."""

    type: MatchLevel | None = None
    function: ComparatorName | None = None
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    identifiers: list[str] | None = None
    allow_missing: bool = False


Criterion = MatchLevel | FuzzyCriterion


class RuleSpec(Strict):
    name: str
    match: dict[str, Criterion]
    # Anchor values held by more records are not paired on by this rule (a weak anchor such
    # as a postcode); reported in identity_hub_values with the rule's name.
    max_group_size: Annotated[int, Field(ge=2)] | None = None


class GoldenFieldSpec(Strict):
    strategy: Strategy
    order: list[str] | None = None


class OutputSpec(Strict):
    database: str = "idspine.duckdb"
    schema_name: str = Field(default="identity", alias="schema")
    id_column: str = "profile_id"
    location: str | None = None  # Spark: where output tables are written

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DuckDBSpec(Strict):
    # DuckDB accepts any thread count and then stalls starting them: bound it sensibly.
    threads: Annotated[int, Field(ge=1, le=MAX_THREADS)] | None = None
    memory_limit: str | None = None  # checked in config_checks: "8GB", "500MiB", "80%"


class SparkSpec(Strict):
    master: str = "local[*]"
    app_name: str = "idspine"
    conf: dict[str, str] = {}
    checkpoint_dir: str | None = None


class ChecksSpec(Strict):
    """The publish gate (see checks.py). A limit set to null is off."""

    max_profile_records: Annotated[int, Field(ge=1)] | None = 1000
    max_id_churn: Annotated[float, Field(ge=0.0)] | None = 0.2
    max_profile_count_change: Annotated[float, Field(ge=0.0)] | None = 0.2
    max_match_rate_change: Annotated[float, Field(ge=0.0)] | None = 0.2
    max_new_hub_records: Annotated[int, Field(ge=0)] | None = 10000
    min_resolution_rate: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_source_shrink: Annotated[float, Field(ge=0.0, le=1.0)] | None = 0.5
    min_population: Annotated[int, Field(ge=0)] = 100


class ProjectSpec(Strict):
    """The whole YAML file."""

    project: str = "idspine"
    # Whether `query:` and `table:` sources may read files and the environment; unset: yes
    # for a YAML file, no for a dict handed to the Python API (see docs/configuration.md).
    trusted: bool | None = None
    engine: Literal["duckdb", "spark"] = "duckdb"
    duckdb: DuckDBSpec = DuckDBSpec()
    spark: SparkSpec = SparkSpec()
    output: OutputSpec = OutputSpec()
    identifiers: dict[str, IdentifierSpec]
    sources: dict[str, SourceSpec]
    rules: list[RuleSpec]
    conflict_policy: Literal["keep_separate", "quarantine"] = "keep_separate"
    golden: dict[str, Strategy | GoldenFieldSpec] = {}
    sample_profiles: Annotated[int, Field(ge=0)] = 20
    checks: ChecksSpec = ChecksSpec()
    overrides_file: str | None = None
