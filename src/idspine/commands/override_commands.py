"""`idspine link / unlink / detach / overrides`: record a steward's decision.

Each command checks that its records exist in the last run, previews what the next run
will change (a trial run through the same machinery as `diff`, with the decision added),
then appends the decision to the ledger `identity_overrides` (see `overrides.py`).
"""

from __future__ import annotations

import getpass
import hashlib
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlglot import exp

from idspine.commands.diff import diff_configs
from idspine.config.load import Config
from idspine.engines import Engine, open_engine
from idspine.errors import InputError, Problem, RunError
from idspine.sql.build import lit, sql
from idspine.stages.overrides import LEDGER, LEDGER_SCHEMA, all_decisions, current_ledger

NEW_ROWS = "override_new_rows"


def _reference(text: str) -> tuple[str, str]:
    source, _, key = text.partition(":")
    if not source or not key:
        raise InputError([Problem("--record", f"'{text}' is not source:key")])
    return source, key


def _check_records(config: Config, engine: Engine, refs: list[tuple[str, str]]) -> None:
    match = engine.read_published(config.output.schema, "identity_match")
    if match is None:
        raise RunError("no published run yet: run `idspine run` first")
    for source, key in refs:
        found = engine.fetch_arrow(
            sql(
                "SELECT count(*) AS n FROM $t WHERE source = $s AND record_key = $k",
                t=exp.to_table(match, quoted=True),
                s=lit(source),
                k=lit(key),
            )
        ).column("n")[0]
        if not found.as_py():
            raise InputError([Problem("--record", f"no record {source}:{key} in the last run")])


def _row(
    override_id: str,
    action: str,
    kind: str,
    refs: list[tuple[str, str]],
    reason: str,
    by: str | None,
    now: datetime,
) -> dict[str, Any]:
    (left_source, left_key), *rest = refs
    right_source, right_key = rest[0] if rest else (None, None)
    return {
        "override_id": override_id,
        "action": action,
        "kind": kind,
        "left_source": left_source,
        "left_key": left_key,
        "right_source": right_source,
        "right_key": right_key,
        "reason": reason,
        "created_by": by or _user(),
        "created_at": now,
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _append(config: Config, engine: Engine, row: dict[str, Any]) -> None:
    engine.register_arrow(NEW_ROWS, pa.Table.from_pylist([row], schema=LEDGER_SCHEMA))
    engine.publish(config.output.schema, {}, {LEDGER: NEW_ROWS})


def record_override(
    config: Config,
    kind: str,
    references: list[str],
    reason: str,
    by: str | None = None,
    preview: bool = True,
) -> dict[str, Any]:
    """Validate, preview and record one decision; returns the row and the preview."""
    refs = [_reference(r) for r in references]
    wanted = 1 if kind == "detach" else 2
    if len(refs) != wanted or len(set(refs)) != wanted:
        raise InputError(
            [Problem("--record", f"{kind} takes {wanted} different record(s) (-r SOURCE:KEY)")]
        )
    if not reason.strip():
        raise InputError([Problem("--reason", "say why: the reason is kept with the decision")])
    now = datetime.now(UTC).replace(tzinfo=None)
    digest = hashlib.md5(f"{kind}|{refs}|{now.isoformat()}".encode(), usedforsecurity=False)
    row = _row("o" + digest.hexdigest()[:11], "add", kind, refs, reason, by, now)
    engine = open_engine(config)
    try:
        _check_records(config, engine, refs)
        ledger = current_ledger(config.output.schema, engine)
    finally:
        engine.close()
    change = None
    if preview:
        trial = pa.concat_tables([ledger, pa.Table.from_pylist([row], schema=LEDGER_SCHEMA)])
        change = diff_configs(config, config, overrides=trial)
    engine = open_engine(config)
    try:
        _append(config, engine, row)
    finally:
        engine.close()
    return {"override": row, "preview": change}


def remove_override(
    config: Config, override_id: str, reason: str, by: str | None = None
) -> dict[str, Any]:
    engine = open_engine(config)
    try:
        active = [r for r in list_overrides(config, engine) if r["override_id"] == override_id]
        if not active:
            raise InputError([Problem("ID", f"no active override {override_id}")])
        if str(active[0]["created_by"]).startswith("file:"):
            raise InputError(
                [Problem("ID", f"{override_id} comes from {config.overrides_file}: delete its row")]
            )
        found = active[0]
        refs = [(found["left_source"], found["left_key"])]
        if found["right_source"] is not None:
            refs.append((found["right_source"], found["right_key"]))
        now = datetime.now(UTC).replace(tzinfo=None)
        row = _row(override_id, "remove", found["kind"], refs, reason, by, now)
        _append(config, engine, row)
        return row
    finally:
        engine.close()


def list_overrides(config: Config, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Active decisions, with what the last run did with each."""
    owned = engine is None
    engine = engine or open_engine(config)
    try:
        engine.register_arrow("override_ledger_now", all_decisions(config, engine))
        status = engine.read_published(config.output.schema, "identity_override_status")
        last = (
            sql(
                "SELECT override_id, status, detail, first_applied_run FROM $t",
                t=exp.to_table(status, quoted=True),
            )
            if status
            else sql(
                "SELECT CAST(NULL AS VARCHAR) AS override_id, CAST(NULL AS VARCHAR) AS status, "
                "CAST(NULL AS VARCHAR) AS detail, CAST(NULL AS BIGINT) AS first_applied_run "
                "WHERE false"
            )
        )
        rows: list[dict[str, Any]] = engine.fetch_arrow(
            sql(
                "SELECT o.*, s.status AS last_status, s.detail AS last_detail, "
                "s.first_applied_run FROM override_ledger_now AS o LEFT JOIN $last_s "
                "ON s.override_id = o.override_id WHERE o.action = 'add' AND o.override_id "
                "NOT IN (SELECT override_id FROM override_ledger_now WHERE action = 'remove') "
                "ORDER BY o.created_at, o.override_id",
                last_s=exp.Subquery(this=last, alias=exp.TableAlias(this=exp.to_identifier("s"))),
            )
        ).to_pylist()
        return rows
    finally:
        if owned:
            engine.close()
