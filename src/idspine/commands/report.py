"""The HTML report of a run (spec §8): one self-contained file that works offline.

It reads the published tables of the latest successful run (a later run held by the publish
checks is announced at the top, see `report_sections.py`) and renders
`templates/report.html.j2` with autoescaping on. Charts are inline SVG drawn by the template,
so the file loads nothing and runs no script. Every value from the data goes through Jinja's
escaping; the metrics embedded as JSON are escaped for a `<script>` block as well.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from idspine.commands.published import TABLES, open_published
from idspine.commands.published import Reader as _Reader
from idspine.commands.report_sections import (
    annotate_pairs,
    checks_of,
    held_run,
    nothing_published,
    overrides_of,
)
from idspine.commands.run_warnings import metrics_of as _metrics
from idspine.commands.run_warnings import run_warnings
from idspine.config.load import Config, Criterion
from idspine.engines import Engine
from idspine.errors import EngineError, RunError

STATUSES = ("unique", "matched", "conflict", "missing")
PAIR_STATUSES = ("merged", "redundant", "refused")
SIZE_BUCKETS = ("1", "2", "3", "4-5", "6-10", "11-50", "51+")
SHARED_VALUES_PER_IDENTIFIER = 5
ROWS_PER_SAMPLE_PROFILE = 25
LARGEST_PROFILES = 10
UNRESOLVED_SHOWN = 20
TREND_RUNS = 30
DASH = "\u2013"
# Characters that could end a <script> block or start markup, as JSON \u escapes.
_SCRIPT_SAFE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&'\u2028\u2029"})


def build_report(config: Config, output_path: Path, *, engine: Engine | None = None) -> Path:
    """Write the HTML report of the latest successful run and return its path.

    Args:
        config: the resolved configuration of the project.
        output_path: where to write the HTML file; missing folders are created.
        engine: an open engine on the outputs (e.g. a run's). Without one, the configured
            engine opens them read-only.

    Raises:
        RunError: the database cannot be read or holds no successful run yet.
    """
    owned = engine is None
    if engine is None:
        engine = open_published(config, "identity_runs")
    try:
        context = _collect(_Reader(engine, config), config)
    except EngineError as exc:
        raise RunError(f"cannot read the published tables: {exc}") from exc
    finally:
        if owned:
            engine.close()
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("idspine.commands", "templates"),
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


def _collect(reader: _Reader, config: Config) -> dict[str, Any]:
    schema = config.output.schema
    found = reader.published()
    missing = [f"identity_{name}" for name in TABLES if f"identity_{name}" not in found]
    runs = (
        reader.rows("SELECT * FROM $runs WHERE status = 'succeeded' ORDER BY run_seq DESC LIMIT 1")
        if not missing
        else []
    )
    if not runs and (held := nothing_published(reader, found)):
        raise RunError(held)
    if missing:
        raise RunError(f"no {', '.join(missing)} in schema '{schema}': run `idspine run` first")
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
    overrides = overrides_of(reader, found)
    samples = _samples(reader, config)
    annotate_pairs(samples["pairs"], overrides)
    unresolved_counts = reader.rows(
        "SELECT reason, count(*) AS records FROM $unresolved_records GROUP BY reason"
    )
    return {
        "project": run["project"] or config.project,
        "run": run,
        "held": held_run(reader, run),
        "checks": checks_of(metrics),
        "overrides": overrides,
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
        "samples": samples,
        "unresolved_counts": {r["reason"]: r["records"] for r in unresolved_counts},
        "unresolved": reader.rows(
            "SELECT source, record_key, reason, detail FROM $unresolved_records "
            "ORDER BY reason, source, record_key LIMIT ?",
            UNRESOLVED_SHOWN,
        ),
        "warnings": run_warnings(reader.engine, config, run["run_id"]),
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
        "AND h.rule IS NULL "
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
