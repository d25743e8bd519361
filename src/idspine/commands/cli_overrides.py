"""The override verbs of the command line: `link`, `unlink`, `detach`, `overrides`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from idspine.config.load import load_config
from idspine.errors import IdspineError

Records = Annotated[
    list[str], typer.Option("--record", "-r", help="A record as source:key (from the last run).")
]
Reason = Annotated[str, typer.Option("--reason", help="Why: kept with the decision.")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: the OS user).")]
NoPreview = Annotated[
    bool, typer.Option("--no-preview", help="Skip the trial run that shows the effect.")
]


def register(app: typer.Typer, console: Console, fail: Any) -> None:
    """Add the override commands to `app`; `fail` maps an IdspineError to an exit."""

    def decide(
        kind: str, config: Path, records: list[str], reason: str, by: str | None, preview: bool
    ) -> None:
        from idspine.commands.diff import render_diff
        from idspine.commands.override_commands import record_override

        try:
            outcome = record_override(load_config(config), kind, records, reason, by, preview)
        except IdspineError as exc:
            raise fail(exc) from None
        row = outcome["override"]
        console.print(
            f"recorded {kind} {row['override_id']}: "
            + " ~ ".join(records)
            + " — every later run honours it",
            soft_wrap=True,
        )
        if outcome["preview"] is not None:
            console.print("The next run would change:")
            console.print(render_diff(outcome["preview"]), highlight=False, markup=False)

    @app.command()
    def link(
        config: Path, record: Records, reason: Reason, by: By = None, no_preview: NoPreview = False
    ) -> None:
        """Must-link two records: they end in one profile (unless a conflict limit refuses)."""
        decide("must_link", config, record, reason, by, not no_preview)

    @app.command()
    def unlink(
        config: Path, record: Records, reason: Reason, by: By = None, no_preview: NoPreview = False
    ) -> None:
        """Cannot-link two records: no chain of pairs may put them in one profile."""
        decide("cannot_link", config, record, reason, by, not no_preview)

    @app.command()
    def detach(
        config: Path, record: Records, reason: Reason, by: By = None, no_preview: NoPreview = False
    ) -> None:
        """Detach a record: it becomes a profile of its own (unresolved if it has no
        usable identifier)."""
        decide("detach", config, record, reason, by, not no_preview)

    @app.command()
    def overrides(
        config: Path,
        action: Annotated[str, typer.Argument(help="list, or remove")] = "list",
        override_id: Annotated[str | None, typer.Argument(help="The id to remove.")] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why it is removed.")] = "",
        by: By = None,
    ) -> None:
        """List the active overrides with what the last run did, or remove one."""
        from idspine.commands.override_commands import list_overrides, remove_override

        try:
            resolved = load_config(config)
            if action == "remove":
                if not override_id:
                    raise typer.BadParameter("give the id to remove")
                remove_override(resolved, override_id, reason or "removed", by)
                console.print(f"removed {override_id}; the next run no longer honours it")
                return
            if action != "list":
                raise typer.BadParameter("the action is list or remove")
            for row in list_overrides(resolved):
                refs = f"{row['left_source']}:{row['left_key']}"
                if row["right_source"] is not None:
                    refs += f" ~ {row['right_source']}:{row['right_key']}"
                last = row["last_status"] or "not run yet"
                if row["last_detail"]:
                    last += f" ({row['last_detail']})"
                console.print(
                    f"{row['override_id']}  {row['kind']:<11}  {refs}  — {row['reason']} "
                    f"[{row['created_by']}, {row['created_at']:%Y-%m-%d %H:%M}] last run: {last}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
        except IdspineError as exc:
            raise fail(exc) from None
