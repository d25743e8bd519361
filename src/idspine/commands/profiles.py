"""`idspine profiles`: list profile ids (biggest first), optionally searched, to explain them.

Reads the published tables through the engine, read-only, like `explain`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from idspine.commands.published import open_published
from idspine.config.load import Config
from idspine.sql.build import lit, sql

SHOWN_VALUES = 3  # golden values printed next to each id


def list_profiles(config: Config, search: str | None = None, limit: int = 20) -> dict[str, Any]:
    """Profiles with their record count and a few golden values, largest first.

    `search` keeps the profiles whose id, a golden value or a matched id value contains the
    text (case-insensitive).
    """
    schema = config.output.schema
    engine = open_published(config, "identity_golden")
    try:
        shown = [i.name for i in config.identifiers][:SHOWN_VALUES]
        pid = exp.column(config.output.id_column, quoted=True)
        golden = exp.table_("identity_golden", db=schema, quoted=True)
        condition: exp.Expr = exp.true()
        if search:
            text = lit(search.lower())
            searched = [pid, *[exp.column(name, quoted=True) for name in shown]]
            condition = exp.or_(
                *[
                    sql("strpos(lower(CAST($c AS VARCHAR)), $t) > 0", c=c.copy(), t=text.copy())
                    for c in searched
                ],
                sql(
                    "$pid IN (SELECT $pid FROM $ids WHERE strpos(lower(value), $t) > 0)",
                    pid=pid.copy(),
                    ids=exp.table_("identity_matched_ids", db=schema, quoted=True),
                    t=text.copy(),
                ),
            )
        query = (
            exp.select(
                exp.alias_(pid.copy(), "profile_id", quoted=True),
                exp.column("record_count", quoted=True),
                *[exp.column(name, quoted=True) for name in shown],
            )
            .from_(golden)
            .where(condition)
            .order_by(exp.column("record_count").desc(), exp.column("profile_id", quoted=True))
            .limit(limit)
        )
        found = engine.fetch_arrow(query).to_pylist()
    finally:
        engine.close()
    return {"columns": shown, "profiles": found}


def render_profiles(answer: dict[str, Any]) -> str:
    profiles = answer["profiles"]
    if not profiles:
        return "no profile found"
    lines = []
    for row in profiles:
        values = ", ".join(
            f"{name}={row[name]}" for name in answer["columns"] if row.get(name) is not None
        )
        lines.append(f"{row['profile_id']}  {row['record_count']:>5} records  {values}")
    return "\n".join(lines)
