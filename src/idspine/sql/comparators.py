"""Similarity functions: one registry entry per comparator.

Each entry has a pure-Python reference (rapidfuzz) that tests use as the oracle for the SQL
each engine runs. The SQL itself lives in `dialect.py`, one table per engine, so that a
comparator an engine cannot run is refused when the config is validated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein


def _jaccard_tokens(left: str, right: str) -> float:
    left_tokens, right_tokens = set(left.split(" ")), set(right.split(" "))
    union = left_tokens | right_tokens
    return len(left_tokens & right_tokens) / len(union) if union else 0.0


def _normalized(distance: Callable[[str, str], int]) -> Callable[[str, str], float]:
    def similarity(left: str, right: str) -> float:
        longest = max(len(left), len(right))
        return 1.0 - distance(left, right) / longest if longest else 1.0

    return similarity


@dataclass(frozen=True)
class Comparator:
    """A similarity in [0, 1] between two standardized, non-empty values."""

    name: str
    description: str
    reference: Callable[[str, str], float]


COMPARATORS: dict[str, Comparator] = {
    c.name: c
    for c in (
        Comparator(
            "jaro_winkler",
            "Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4 characters)",
            JaroWinkler.similarity,
        ),
        Comparator(
            "levenshtein",
            "1 - Levenshtein distance / length of the longer value",
            _normalized(Levenshtein.distance),
        ),
        Comparator(
            "damerau_levenshtein",
            "1 - Damerau-Levenshtein distance (transpositions count 1) / longer length",
            _normalized(DamerauLevenshtein.distance),
        ),
        Comparator(
            "jaccard_tokens",
            "shared space-separated tokens / all distinct tokens",
            _jaccard_tokens,
        ),
    )
}

# What the named match levels mean. Chosen on the benchmark generator's data: typos and
# accents survive at 0.92, while distinct common first names (e.g. "marie" / "maria" at 0.92)
# need the exact anchor to be merged at the medium level.
MATCH_LEVELS: dict[str, tuple[str, float]] = {
    "fuzzy_strong": ("jaro_winkler", 0.92),
    "fuzzy_medium": ("jaro_winkler", 0.85),
}


def reference_name_similarity(left: str, right: str, comparator: str, threshold: float) -> float:
    """Similarity of two standardized names, initials included (the oracle of the SQL form).

    An initial ("j") matches a name starting with it ("jean") and then scores exactly the
    criterion's threshold: it passes, but never outranks a real match.
    """
    if (len(left) == 1 or len(right) == 1) and left[:1] == right[:1]:
        return threshold
    return COMPARATORS[comparator].reference(left, right)
