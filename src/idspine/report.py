"""The HTML report of a run (spec §8): one self-contained file that works offline.

It reads the published tables of the latest successful run and renders
`templates/report.html.j2` with autoescaping on. Charts are inline SVG drawn by the template,
so the file loads nothing and runs no script. Every value from the data goes through Jinja's
escaping; the metrics embedded as JSON are escaped for a `<script>` block as well.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import sqlglot
from markupsafe import Markup
from sqlglot import exp

from idspine.config import Config, Criterion
from idspine.errors import RunError

# Published tables read here; a query names `identity_golden` as `$golden`.
TABLES = (
    "golden",
    "match",
    "match_pairs",
    "lookup",
    "unresolved_records",
    "hub_values",
    "runs",
    "run_metrics",
)
STATUSES = ("unique", "matched", "conflict", "missing")
PAIR_STATUSES = ("merged", "redundant", "refused")
SIZE_BUCKETS = ("1", "2", "3", "4-5", "6-10", "11-50", "51+")
SHARP_CHANGE = 0.20  # relative change in profiles vs the previous run worth a warning
OUTLIER_MIN_RECORDS = 10  # a profile this large ...
OUTLIER_FACTOR = 5  # ... and this many times the next largest stands out
SHARED_VALUES_PER_IDENTIFIER = 5
ROWS_PER_SAMPLE_PROFILE = 25
LARGEST_PROFILES = 10
UNRESOLVED_SHOWN = 20
TREND_RUNS = 30
DASH = "\u2013"
# Characters that could end a <script> block or start markup, as JSON \u escapes.
_SCRIPT_SAFE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&'\u2028\u2029"})


@lru_cache(maxsize=64)
def _parse(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read="duckdb")


class _Reader:
    """Runs the report's queries on the published tables of one output schema.

    Templates are constants of this module. `$name` placeholders become quoted table names
    (`$golden` is `identity_golden`) or the quoted id column (`$id`); values are bound as `?`
    parameters.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection, config: Config) -> None:
        self.connection = connection
        self.nodes: dict[str, exp.Expr] = {
            name: exp.table_(f"identity_{name}", db=config.output.schema, quoted=True)
            for name in TABLES
        }
        self.nodes["id"] = exp.column(config.output.id_column, quoted=True)

    def rows(self, template: str, *params: object) -> list[dict[str, Any]]:
        tree = exp.replace_placeholders(_parse(template).copy(), **self.nodes)
        cursor = self.connection.execute(tree.sql("duckdb"), list(params))
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def build_report(
    config: Config, output_path: Path, *, connection: duckdb.DuckDBPyConnection | None = None
) -> Path:
    """Write the HTML report of the latest successful run and return its path.

    Args:
        config: the resolved configuration of the project.
        output_path: where to write the HTML file; missing folders are created.
        connection: an open DuckDB connection to the output database. Without one, the
            database named by `config.output.database` is opened read-only.

    Raises:
        RunError: the database cannot be read or holds no successful run yet.
    """
    owned = connection is None
    if connection is None:
        connection = _open_read_only(config)
    try:
        context = _collect(_Reader(connection, config), config)
    except duckdb.Error as exc:
        raise RunError(f"cannot read the published tables: {exc}") from exc
    finally:
        if owned:
            connection.close()
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("idspine", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(count=_format_count, pct=_format_pct, cell=_format_cell)
    html = environment.get_template("report.html.j2").render(**context)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(html, encoding="utf-8")
    return output_path


def run_warnings(connection: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> list[str]:
    """Plain-language warnings about a run, for the report and the command line.

    Metrics come from the given run; the profile sizes and hub examples from the published
    tables, which hold the latest successful run.
    """
    reader = _Reader(connection, config)
    metrics = _metrics(reader, run_id)
    warnings = []
    hubs_of = {
        i.name: int(metrics.get(("identifier_hub_values", i.name)) or 0) for i in config.identifiers
    }
    # The hub values the run decided (only identifiers some rule links on can have any).
    recorded = (
        reader.rows(
            "SELECT identifier, value FROM (SELECT identifier, value, row_number() OVER ("
            "PARTITION BY identifier ORDER BY records DESC, value) AS position FROM $hub_values) "
            "WHERE position <= 3 ORDER BY identifier, position"
        )
        if any(hubs_of.values())
        else []
    )
    for ident in config.identifiers:
        hubs = hubs_of[ident.name]
        if hubs:
            examples = [v["value"] for v in recorded if v["identifier"] == ident.name]
            shown = f" (e.g. {', '.join(examples)})" if examples else ""
            warnings.append(
                f"{ident.name}: {hubs:,} value{'s are' if hubs != 1 else ' is'} shared by more "
                f"than {ident.max_group_size:,} records{shown}. Such hub values are ignored for "
                "matching; they are usually placeholders, so consider adding them to the block "
                "list."
            )
    largest = reader.rows(
        "SELECT $id AS profile_id, record_count FROM $golden "
        "ORDER BY record_count DESC, $id LIMIT 2"
    )
    if largest:
        size = int(largest[0]["record_count"])
        runner_up = int(largest[1]["record_count"]) if len(largest) > 1 else 1
        if size >= OUTLIER_MIN_RECORDS and size >= OUTLIER_FACTOR * runner_up:
            warnings.append(
                f"Profile {largest[0]['profile_id']} holds {size:,} records, far more than any "
                f"other (next largest: {runner_up:,}). A value shared by different people can "
                "chain them together: check it with `idspine explain --profile`."
            )
    for rule in config.rules:
        if not metrics.get(("rule_merged", rule.name), 0):
            found = int(metrics.get(("rule_pairs_found", rule.name)) or 0)
            why = (
                "it found no matching pairs"
                if not found
                else f"its {found:,} pair{'s were' if found != 1 else ' was'} found first by a "
                "stronger rule, already joined, or refused"
            )
            warnings.append(f"Rule '{rule.name}' merged nothing: {why}.")
    previous = reader.rows(
        "SELECT run_id, run_seq, config_hash FROM $runs WHERE status = 'succeeded' "
        "AND run_seq < (SELECT max(run_seq) FROM $runs WHERE run_id = ?) "
        "ORDER BY run_seq DESC LIMIT 1",
        run_id,
    )
    if previous:
        before = _metrics(reader, previous[0]["run_id"]).get(("profiles", "")) or 0.0
        now = metrics.get(("profiles", "")) or 0.0
        if before and abs(now - before) / before > SHARP_CHANGE:
            change = (now - before) / before
            config_note = (
                " The configuration changed since that run."
                if previous[0]["config_hash"] != config.config_hash
                else ""
            )
            warnings.append(
                f"The number of profiles changed by {change:+.0%} since the previous run "
                f"(run {previous[0]['run_seq']}: {before:,.0f}, now {now:,.0f}).{config_note}"
            )
    return warnings


def _open_read_only(config: Config) -> duckdb.DuckDBPyConnection:
    database = Path(config.output.database)
    if not database.is_file():
        raise RunError(f"no output database at {database}: run `idspine run` first")
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.Error as exc:
        raise RunError(f"cannot open the output database {database}: {exc}") from None


def _metrics(reader: _Reader, run_id: str) -> dict[tuple[str, str], float | None]:
    rows = reader.rows("SELECT metric, dimension, value FROM $run_metrics WHERE run_id = ?", run_id)
    # A rate without a denominator is NULL in the run and stays None here (shown as a dash).
    return {
        (r["metric"], r["dimension"]): None if r["value"] is None else float(r["value"])
        for r in rows
    }


def _collect(reader: _Reader, config: Config) -> dict[str, Any]:
    schema = config.output.schema
    found = {
        r["table_name"]
        for r in reader.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_catalog = current_database()",
            schema,
        )
    }
    missing = [f"identity_{name}" for name in TABLES if f"identity_{name}" not in found]
    if missing:
        raise RunError(f"no {', '.join(missing)} in schema '{schema}': run `idspine run` first")
    runs = reader.rows(
        "SELECT * FROM $runs WHERE status = 'succeeded' ORDER BY run_seq DESC LIMIT 1"
    )
    if not runs:
        raise RunError("no successful run has been published yet: run `idspine run` first")
    run = runs[0]
    metrics = _metrics(reader, run["run_id"])

    def group(prefix: str, dimension: str = "") -> defaultdict[str, float | None]:
        """This run's metrics named `prefix...` for one dimension; absent ones read as 0."""
        return defaultdict(
            lambda: 0.0,
            {
                m.removeprefix(prefix): v
                for (m, d), v in metrics.items()
                if m.startswith(prefix) and d == dimension
            },
        )

    figures = group("")
    total = figures["records"] or 1.0
    counts = {s: figures[f"records_{s}"] or 0.0 for s in STATUSES}
    split = [{"label": s, "value": counts[s], "share": counts[s] / total} for s in STATUSES]
    rules = []
    for rule in config.rules:
        row: defaultdict[str, Any] = group("rule_", rule.name)
        row.update(name=rule.name, priority=rule.priority, criteria=_describe(rule.criteria))
        # A pair found by several rules is applied once, under the strongest of them.
        row["stronger"] = max(row["pairs_found"] - sum(row[s] for s in PAIR_STATUSES), 0.0)
        rules.append(row)
    sources = sorted({d for (m, d) in metrics if m == "source_records"})
    unresolved_counts = reader.rows(
        "SELECT reason, count(*) AS records FROM $unresolved_records GROUP BY reason"
    )
    return {
        "project": run["project"] or config.project,
        "run": run,
        "duration": _duration(run["started_at"], run["finished_at"]),
        "id_column": config.output.id_column,
        "conflict_policy": config.conflict_policy,
        "figures": figures,
        "split": split,
        "rules": rules,
        "sources": [defaultdict(float, name=s, **group("source_", s)) for s in sources],
        "identifiers": [
            defaultdict(
                float, name=i.name, type=i.type, limit=i.limit, **group("identifier_", i.name)
            )
            for i in config.identifiers
        ],
        "shared_values": _shared_values(reader),
        "sizes": [
            {"label": bucket, "value": metrics.get(("cluster_size_profiles", bucket), 0.0)}
            for bucket in SIZE_BUCKETS
        ],
        "trend": _trend(reader),
        "largest": reader.rows(
            "SELECT * FROM $golden ORDER BY record_count DESC, $id LIMIT ?", LARGEST_PROFILES
        ),
        "samples": _samples(reader, config),
        "unresolved_counts": {r["reason"]: r["records"] for r in unresolved_counts},
        "unresolved": reader.rows(
            "SELECT source, record_key, reason, detail FROM $unresolved_records "
            "ORDER BY reason, source, record_key LIMIT ?",
            UNRESOLVED_SHOWN,
        ),
        "warnings": run_warnings(reader.connection, config, run["run_id"]),
        "data_json": _script_json(
            {
                "run": run,
                "metrics": [
                    {"metric": m, "dimension": d, "value": v}
                    for (m, d), v in sorted(metrics.items())
                ],
            }
        ),
    }


def _describe(criteria: tuple[Criterion, ...]) -> str:
    """A rule's criteria in words, as the run applies them.

    An exact group links on a value shared by any of its identifiers; a fuzzy group needs
    every position on both records (compared straight or swapped, the weaker position
    decides), and with `allow_missing` a record lacking any position counts as missing.
    """
    parts = []
    for criterion in criteria:
        if criterion.exact:
            parts.append("same " + " or ".join(criterion.identifiers))
            continue
        names = " and ".join(criterion.identifiers)
        order = ", straight or swapped" if len(criterion.identifiers) > 1 else ""
        text = f"similar {names} ({criterion.function} ≥ {criterion.threshold:g}{order})"
        if criterion.allow_missing:
            which = "any of them" if len(criterion.identifiers) > 1 else names
            text += f", or {which} missing on a record (unless the anchor is contested)"
        parts.append(text)
    return " and ".join(parts)


def _shared_values(reader: _Reader) -> list[dict[str, Any]]:
    """The values carried by most records per identifier, marked when the run made them hubs."""
    return reader.rows(
        "SELECT s.identifier, s.value, s.records, h.value IS NOT NULL AS is_hub FROM ("
        "SELECT identifier, value, count(*) AS records FROM (SELECT DISTINCT identifier, "
        "value, source, record_key FROM $lookup WHERE value IS NOT NULL AND NOT is_blocked) "
        "GROUP BY identifier, value HAVING count(*) > 1 "
        "QUALIFY row_number() OVER (PARTITION BY identifier ORDER BY count(*) DESC, value) <= ?"
        ") AS s LEFT JOIN $hub_values AS h ON h.identifier = s.identifier AND h.value = s.value "
        "ORDER BY s.identifier, s.records DESC, s.value",
        SHARED_VALUES_PER_IDENTIFIER,
    )


def _trend(reader: _Reader) -> list[dict[str, Any]]:
    rows = reader.rows(
        "SELECT r.run_seq, r.started_at, "
        "coalesce(max(CASE WHEN m.metric = 'profiles' THEN m.value END), 0) AS profiles, "
        "coalesce(max(CASE WHEN m.metric = 'resolution_rate' THEN m.value END), 0) "
        "AS resolution_rate "
        "FROM $runs AS r LEFT JOIN $run_metrics AS m ON m.run_id = r.run_id AND m.dimension = '' "
        "WHERE r.status = 'succeeded' GROUP BY r.run_seq, r.started_at "
        "ORDER BY r.run_seq DESC LIMIT ?",
        TREND_RUNS,
    )
    return rows[::-1]


def _samples(reader: _Reader, config: Config) -> dict[str, list[dict[str, Any]]]:
    """Matched profiles for review, picked by the hash of their id (stable, unbiased).

    Their golden rows, the identifier values of their first records and the pairs that
    touch them, each ordered for display; the template matches them by profile id.
    """
    sample = (
        "WITH sample AS (SELECT $id AS profile_id FROM $golden WHERE record_count > 1 "
        "ORDER BY md5(CAST($id AS VARCHAR)), $id LIMIT ?), "
        "members AS (SELECT source, record_key, $id AS profile_id, status FROM $match "
        "WHERE $id IN (SELECT profile_id FROM sample)) "
    )
    size = config.sample_profiles
    golden = reader.rows(
        sample + "SELECT * FROM $golden WHERE $id IN (SELECT profile_id FROM "
        "sample) ORDER BY md5(CAST($id AS VARCHAR)), $id",
        size,
    )
    records = reader.rows(
        sample + ", shown AS (SELECT * FROM members QUALIFY row_number() OVER (PARTITION BY "
        "profile_id ORDER BY source, record_key) <= ?) "
        "SELECT s.profile_id, s.source, s.record_key, s.status, list({'identifier': "
        "l.identifier, 'raw': l.raw_value, 'blocked': l.is_blocked} ORDER BY l.identifier, "
        "l.raw_value) FILTER (WHERE l.raw_value IS NOT NULL) AS identifier_values "
        "FROM shown AS s LEFT JOIN $lookup AS l ON l.source = s.source "
        "AND l.record_key = s.record_key GROUP BY ALL ORDER BY s.source, s.record_key",
        size,
        ROWS_PER_SAMPLE_PROFILE,
    )
    pairs = reader.rows(
        sample + ", touching AS (SELECT m.profile_id, p.* FROM $match_pairs AS p "
        "JOIN members AS m ON m.source = p.left_source AND m.record_key = p.left_key "
        "UNION SELECT m.profile_id, p.* FROM $match_pairs AS p "
        "JOIN members AS m ON m.source = p.right_source AND m.record_key = p.right_key) "
        "SELECT * FROM touching QUALIFY row_number() OVER (PARTITION BY profile_id ORDER BY "
        "CASE status WHEN 'merged' THEN 0 WHEN 'refused' THEN 1 ELSE 2 END, left_source, "
        "left_key, right_source, right_key, rule) <= ? "
        "ORDER BY CASE status WHEN 'merged' THEN 0 WHEN 'refused' THEN 1 ELSE 2 END, "
        "left_source, left_key, right_source, right_key, rule",
        size,
        ROWS_PER_SAMPLE_PROFILE,
    )
    return {"profiles": golden, "records": records, "pairs": pairs}


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _script_json(data: object) -> Markup:
    """JSON that can sit inside a <script> block: no character can close or open a tag."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return Markup(text.translate(_SCRIPT_SAFE))


def _format_count(value: float | None) -> str:
    return DASH if value is None else f"{round(value):,}"


def _format_pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def _format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
