"""Nicknames as pairs compared at matching time, not rewritten at standardization.

Nicknames are many-to-many: `alex` is short for alexander, alexandra and alexis. A
standardization that maps each name to one canonical form would have to pick one and lose
the others, so values keep their own form and fuzzy name criteria score 1.0 for a pair of
values listed here (in either direction). The pairs come from the `nicknames` package's
dataset (~2,700 English pairs) and a few French ones, plus and minus the pairs a config adds
or removes; they are cleaned by the name standardization, so `Bob` and `bob` are one entry.

The table is small (a few thousand rows), so it travels as literals; candidate generation
LEFT JOINs it on the two compared values, a hash probe per compared pair.
"""

from __future__ import annotations

from functools import lru_cache

from nicknames import name_triplets
from sqlglot import exp

from idspine.config.load import Config, Criterion, Identifier
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table
from idspine.stages.standardize import base_clean, finish_value

PAIRS_TABLE = "nickname_pairs"
# Common French short forms the English dataset does not know.
EXTRA_PAIRS: tuple[tuple[str, str], ...] = (
    ("frederic", "fred"),
    ("emmanuel", "manu"),
    ("sebastien", "seb"),
    ("nicolas", "nico"),
    ("christophe", "chris"),
    ("alexandre", "alex"),
    ("guillaume", "guigui"),
    ("stephane", "steph"),
    ("stephanie", "steph"),
    ("benjamin", "ben"),
    ("maximilien", "max"),
    ("maxime", "max"),
    ("dominique", "dom"),
    ("catherine", "cathy"),
    ("isabelle", "isa"),
    ("jean-baptiste", "jb"),
)


@lru_cache(maxsize=1)
def builtin_pairs() -> tuple[tuple[str, str], ...]:
    """(full name, nickname) pairs of the built-in dataset."""
    dataset = [(t.name1, t.name2) for t in name_triplets() if t.relationship == "has_nickname"]
    return tuple(sorted(set(dataset) | set(EXTRA_PAIRS)))


def _rows(identifier: Identifier) -> list[tuple[str | int | float | None, ...]]:
    """(name, name, keep) entries as configured: kept pairs, then removed ones."""
    nicknames = identifier.nicknames
    assert nicknames is not None
    listed = [*(builtin_pairs() if nicknames.builtin else ()), *nicknames.add]
    rows: list[tuple[str | int | float | None, ...]] = [(a, b, True) for a, b in listed]
    return rows + [(a, b, False) for a, b in nicknames.remove]


def plan_nickname_pairs(config: Config, engine: str) -> list[Step]:
    """`nickname_pairs(identifier, name_a, name_b)`, both directions, cleaned like values.

    Only planned when a fuzzy criterion compares names with nicknames."""
    if not any(c.nicknames for rule in config.rules for c in rule.fuzzy):
        return []
    parts: list[exp.Expr] = []
    for identifier in config.identifiers:
        if identifier.type != "name" or identifier.nicknames is None:
            continue
        entries = values_table(["name_a", "name_b", "keep"], _rows(identifier), "e")

        def clean(column: str, identifier: Identifier = identifier) -> exp.Expr:
            raw = exp.column(column, "e")
            return finish_value(identifier, base_clean(raw, identifier.case_sensitive), engine)

        for first, second in (("name_a", "name_b"), ("name_b", "name_a")):
            parts.append(
                exp.select(
                    exp.alias_(lit(identifier.name), "identifier"),
                    exp.alias_(clean(first), "name_a"),
                    exp.alias_(clean(second), "name_b"),
                    "e.keep",
                ).from_(entries.copy())
            )
    # A removed pair goes whichever way it was written, and wins over an added one.
    return [
        Step(
            PAIRS_TABLE,
            sql(
                "SELECT identifier, name_a, name_b FROM $pairs WHERE name_a IS NOT NULL "
                "AND name_b IS NOT NULL AND name_a <> name_b GROUP BY identifier, name_a, name_b "
                "HAVING bool_and(keep)",
                pairs=exp.union(*parts, distinct=False).subquery("p"),
            ),
        )
    ]


def nickname_relation(criterion: Criterion) -> exp.Expr:
    """The nickname pairs that apply to a criterion, aliased `k`: those of any member, so
    that the swapped comparison of a group (first name against last name) knows them too."""
    members = exp.In(
        this=exp.column("identifier"), expressions=[lit(m) for m in criterion.identifiers]
    )
    return (
        exp.select("name_a", "name_b")
        .distinct()
        .from_(exp.to_table(PAIRS_TABLE))
        .where(members)
        .subquery("k")
    )
