"""The Python API: `resolve(config) -> Result`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from idspine.config.checks import check_output_folder
from idspine.config.load import Config, load_config
from idspine.engines import Engine, open_engine
from idspine.errors import IdspineError, RunError
from idspine.pipeline import Progress, RunInfo, run_pipeline
from idspine.stages.outputs import APPENDED, PUBLISHED

if TYPE_CHECKING:
    import pandas

TABLES = (*PUBLISHED, *APPENDED)


class Result:
    """The outcome of a run: its info and the published tables, read on demand."""

    def __init__(self, config: Config, engine: Engine, run: RunInfo) -> None:
        self.config = config
        self.engine = engine
        self.run = run

    @property
    def tables(self) -> tuple[str, ...]:
        return TABLES

    def _check(self, name: str) -> str:
        full = name if name.startswith("identity_") else f"identity_{name}"
        if full not in TABLES:
            raise KeyError(f"no output table {name!r}; tables: {', '.join(TABLES)}")
        return full

    def arrow(self, name: str) -> pa.Table:
        """A published table as Arrow (`golden` or `identity_golden`)."""
        table = exp.table_(self._check(name), db=self.config.output.schema, quoted=True)
        return self.engine.fetch_arrow(exp.select("*").from_(table))

    def pandas(self, name: str) -> pandas.DataFrame:
        """A published table as a pandas DataFrame (needs the `pandas` extra)."""
        try:
            import pandas  # noqa: F401 - only checks that it is installed
        except ImportError:
            raise IdspineError(
                "Result.pandas needs pandas: pip install 'idspine[pandas]' "
                "(or use Result.arrow, which needs nothing more)"
            ) from None
        frame: pandas.DataFrame = self.arrow(name).to_pandas()
        return frame

    def relation(self, name: str) -> Any:
        """The table as the engine's own relation (DuckDB relation or Spark DataFrame)."""
        return self.engine.relation(self.config.output.schema, self._check(name))

    def metrics(self) -> dict[tuple[str, str], float]:
        """This run's metrics keyed by (metric, dimension)."""
        rows = self.arrow("identity_run_metrics").to_pylist()
        return {
            (r["metric"], r["dimension"]): r["value"]
            for r in rows
            if r["run_id"] == self.run.run_id
        }

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Result:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def resolve(
    config: Config | str | Path,
    *,
    engine: Engine | None = None,
    progress: Progress | None = None,
    force: bool = False,
    full: bool = False,
) -> Result:
    """Run the whole pipeline for a config (a `Config` or a path to its YAML file).

    A run is incremental when the last run can be its base (same config, engine and
    version); `full` forces a full run.

    Returns a `Result` whose engine stays open so the tables can be read; close it when
    done (or use it as a context manager). Raises `HeldRun` when a publish check fails
    (nothing published) unless `force`.
    """
    resolved = config if isinstance(config, Config) else load_config(config)
    if engine is None:
        check_output_folder(resolved)
    active = engine or open_engine(resolved)
    try:
        info = run_pipeline(resolved, active, progress, force=force, full=full)
        info.warnings[:0] = resolved.warnings
    except IdspineError:
        active.close()
        raise
    except Exception as exc:
        active.close()
        raise RunError(
            f"the run failed ({type(exc).__name__}: {exc}); the previous outputs are unchanged"
        ) from exc
    return Result(resolved, active, info)
