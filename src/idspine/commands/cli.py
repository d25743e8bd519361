"""The `idspine` command line: a thin layer over the Python API.

Exit codes: 0 ok, 1 the run failed, 2 bad configuration, input or usage, 3 the run was
held by a publish check (nothing published).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from idspine._version import __version__
from idspine.commands.cli_overrides import register as register_override_commands
from idspine.config.load import load_config
from idspine.errors import ConfigError, HeldRun, IdspineError, InputError, describe_os_error

app = typer.Typer(
    name="idspine",
    help="Identity resolution: one stable profile per person from your customer tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped or redirected output has no width to fit: a wide one keeps names and figures whole
# (rich would fall back to 80 columns and cut them).
PIPED_WIDTH = 200
console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

ConfigArgument = Annotated[Path, typer.Argument(help="The YAML configuration file.")]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HELD = 3


def _fail(exc: IdspineError | OSError) -> typer.Exit:
    if isinstance(exc, HeldRun):
        errors.print(
            f"[bold yellow]held:[/] {escape(str(exc))}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        return typer.Exit(EXIT_HELD)
    # A file idspine cannot read or write (permissions, a folder where a file is expected)
    # is the user's to fix, like a bad config: no traceback, exit code 2.
    usage = isinstance(exc, ConfigError | InputError | OSError)
    message = str(exc) if isinstance(exc, IdspineError) else describe_os_error(exc)
    # Escaped: messages quote user input, where `[/x]` would be read as markup and fail.
    errors.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(EXIT_USAGE if usage else EXIT_FAILED)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"idspine {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version),
    ] = False,
) -> None:
    """Identity resolution: one stable profile per person from your customer tables."""


@app.command()
def validate(config: ConfigArgument) -> None:
    """Check a configuration and the columns of its sources, without running anything."""
    from idspine.commands.validate import source_warnings, stage_for_validation

    try:
        resolved = load_config(config)
        staged = stage_for_validation(resolved)
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    counts = {item.source.name: item.row_count for item in staged}
    console.print(
        f"[green]ok[/]: {config} is valid "
        f"({len(resolved.sources)} sources, {len(resolved.identifiers)} identifiers, "
        f"{len(resolved.rules)} rules)"
    )
    for name, count in counts.items():
        console.print(f"  {name}: {count:,} records")
    for warning in [*resolved.warnings, *source_warnings(staged)]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


@app.command()
def run(
    config: ConfigArgument,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Publish even when a publish check fails.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option("--full", help="Recompute everything instead of only what changed."),
    ] = False,
) -> None:
    """Run the pipeline and publish the output tables (exit 3: held by a check).

    A run recomputes only what changed since the last run (incremental), unless the config,
    engine or idspine version changed, the overrides changed, or --full is given.
    """
    from idspine.api import resolve
    from idspine.commands.summary import print_summary

    try:
        resolved = load_config(config)
        with console.status("starting", spinner="dots") as status:

            def progress(stage: str) -> None:
                if not quiet:
                    status.update(f"[bold]{stage}[/] …")

            result = resolve(resolved, progress=progress, force=force, full=full)
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    with result:
        if not quiet:
            print_summary(result, console)


@app.command()
def report(
    config: ConfigArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the HTML file.")
    ] = None,
) -> None:
    """Write a self-contained HTML report of the latest run."""
    from idspine.commands.report import build_report

    try:
        resolved = load_config(config)
        target = output or Path(resolved.output.database).with_suffix(".report.html")
        path = build_report(resolved, target)
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"report written to {path}")


@app.command()
def explain(
    config: ConfigArgument,
    record: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="A record as source:key; give two to compare them."),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="A profile id to show.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why two records share a profile (or not), or how a profile was built."""
    from idspine.commands.explain import explain_profile, explain_records, render_text

    records = record or []
    if (profile is None) == (len(records) != 2):
        errors.print("error: give two --record source:key, or one --profile ID")
        raise typer.Exit(EXIT_USAGE)
    try:
        resolved = load_config(config)
        answer = (
            explain_profile(resolved, profile)
            if profile
            else explain_records(resolved, records[0], records[1])
        )
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps(answer, default=str))
    else:
        console.print(render_text(answer), highlight=False, markup=False, soft_wrap=True)


@app.command()
def evaluate(
    config: ConfigArgument,
    labels: Annotated[
        Path, typer.Option("--labels", "-l", help="CSV or Parquet of clusters or of pairs.")
    ],
    worst: Annotated[
        int, typer.Option("--worst", min=0, help="Over-merged profiles to explain.")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score the last published run against labelled data (pairwise, B-cubed, per rule)."""
    from idspine.commands.evaluate import evaluate as evaluate_run
    from idspine.commands.evaluate_labels import read_labels
    from idspine.commands.evaluate_render import print_evaluation

    try:
        answer = evaluate_run(load_config(config), read_labels(labels), worst)
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps(answer, default=str))
    else:
        print_evaluation(answer, console)


@app.command()
def profiles(
    config: ConfigArgument,
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Keep profiles whose id or values contain this."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many to list.")] = 20,
) -> None:
    """List profile ids (largest first) with a few golden values, to pick one to explain."""
    from idspine.commands.profiles import list_profiles, render_profiles

    try:
        answer = list_profiles(load_config(config), search, limit)
    except IdspineError as exc:
        raise _fail(exc) from None
    console.print(render_profiles(answer), highlight=False, markup=False, soft_wrap=True)


@app.command()
def diff(
    config: ConfigArgument,
    changed: Annotated[Path, typer.Argument(help="The changed configuration.")],
) -> None:
    """What a config change would merge and split, computed before it is applied."""
    from idspine.commands.diff import diff_configs, render_diff

    try:
        outcome = diff_configs(load_config(config), load_config(changed))
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    console.print(render_diff(outcome), highlight=False, markup=False)


@app.command()
def init(
    output: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path(
        "idspine.yml"
    ),
    source: Annotated[
        list[Path] | None,
        typer.Option("--source", "-s", help="A CSV or Parquet file to sample; repeat for several."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config, guessed from sample files when given."""
    from idspine.commands.starter import starter_config

    if output.exists() and not force:
        errors.print(f"error: {output} exists (use --force to overwrite)")
        raise typer.Exit(EXIT_USAGE)
    try:
        text = starter_config(source or [], output.parent)
        output.write_text(text, encoding="utf-8")
    except (IdspineError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"wrote {output}; edit it, then run: idspine validate {output}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the configuration file (for editors)."""
    from idspine.config.model import ProjectSpec

    sys.stdout.write(json.dumps(ProjectSpec.model_json_schema(by_alias=True), indent=2) + "\n")


register_override_commands(app, console, _fail)


def main() -> None:
    app()
