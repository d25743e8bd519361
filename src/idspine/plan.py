"""The plan as data: what a stage asks an engine to build.

A stage returns `Step`s and performs no I/O; an engine runs them. Stages import this
module, never the engine package.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp


@dataclass(frozen=True)
class Step:
    """One unit of planned work: a query and the table it becomes."""

    name: str
    query: exp.Expr
    materialize: bool = True
    # A table that will be published: an engine may write it straight to its staging area
    # (still readable under `name`) so that publishing does not copy it again.
    output: bool = False
