"""The engine interface: a handful of operations every engine implements.

Stages build sqlglot trees and hand them over as `Step`s; an engine renders and runs them.
Work tables live in the engine's scratch space (`schema=None`); published tables live in the
output schema. Two graph primitives get native implementations per engine because SQL alone
does them poorly: connected components and the ordered spanning forest.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import pyarrow as pa
from sqlglot import exp

from idspine.config.load import Source
from idspine.plan import Step


class Engine(ABC):
    """What a stage may ask of an engine."""

    name: str
    # Seconds spent per step name (accumulated), for benchmarks and profiling.
    step_seconds: dict[str, float]

    def run(self, step: Step) -> None:
        """Create the work table (or view) `step.name` from `step.query`."""
        started = time.perf_counter()
        self._run(step)
        timings = self.__dict__.setdefault("step_seconds", {})
        timings[step.name] = timings.get(step.name, 0.0) + time.perf_counter() - started

    @abstractmethod
    def _run(self, step: Step) -> None: ...

    def run_all(self, steps: list[Step]) -> None:
        for step in steps:
            self.run(step)

    @abstractmethod
    def fetch_arrow(self, query: exp.Expr) -> pa.Table:
        """Run a query and return its rows (only for small results or final exports)."""

    @abstractmethod
    def register_arrow(self, name: str, data: pa.Table) -> None:
        """Make an Arrow table available as the work table `name`."""

    @abstractmethod
    def exists(self, name: str, schema: str | None = None) -> bool: ...

    @abstractmethod
    def drop(self, name: str, schema: str | None = None) -> None: ...

    @abstractmethod
    def columns(self, name: str) -> list[str]:
        """Column names of a work table or view."""

    @abstractmethod
    def register_source(self, source: Source, name: str) -> None:
        """Expose a configured source as the work view `name` (no data copied if possible)."""

    @abstractmethod
    def connected_components(self, edges: str, output: str) -> None:
        """Label nodes of the undirected graph `edges(node_a, node_b)` (BIGINT).

        Writes `output(node, component)` where component is the smallest node of its
        component; nodes without edges are not listed.
        """

    @abstractmethod
    def spanning_forest(self, edges: str, output: str) -> None:
        """Kruskal in a given order: `edges(node_a, node_b, rank)` with unique ranks.

        Writes `output(rank)`: the edges a sequential union-find taking edges by ascending
        rank would use to join two components (the others close a cycle).
        """

    def release(self, names: list[str]) -> None:
        """Drop work tables or views no later step needs (frees memory on large runs)."""
        for name in names:
            self.drop(name)

    def begin_run(self, schema: str) -> None:  # noqa: B027 - optional hook
        """Prepare the output area (e.g. remove staging left by an interrupted run)."""

    @abstractmethod
    def publish(self, schema: str, tables: dict[str, str], appends: dict[str, str]) -> None:
        """Atomically replace `schema.<target>` by work table for each `tables` item and
        append each `appends` work table to `schema.<target>` — all or nothing."""

    @abstractmethod
    def read_published(self, schema: str, name: str) -> str | None:
        """Expose a published table as a work view; None if it does not exist yet."""

    @abstractmethod
    def relation(self, schema: str, name: str) -> object:
        """A published table as the engine's native relation object."""

    @abstractmethod
    def close(self) -> None: ...

    def qualified(self, name: str, schema: str | None = None) -> exp.Table:
        return exp.table_(name, db=schema, quoted=True)
