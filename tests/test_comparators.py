"""Every comparator's DuckDB SQL against its pure-Python reference (the oracle)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlglot import exp

from idspine.config.load import Criterion
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.sql import dialect
from idspine.sql.build import values_table
from idspine.sql.comparators import COMPARATORS, MATCH_LEVELS, reference_name_similarity
from idspine.stages.candidates import _value_similarity

TOLERANCE = 1e-9

PAIRS = [
    # identical
    ("martha", "martha"),
    ("a", "a"),
    ("jean pierre", "jean pierre"),
    # typos: substitution, insertion, deletion
    ("jonathan", "jonathon"),
    ("smith", "smyth"),
    ("catherine", "cathrine"),
    ("dixon", "dicksonx"),
    ("dwayne", "duane"),
    # transpositions
    ("martha", "marhta"),
    ("ab", "ba"),
    ("ca", "abc"),
    ("crate", "trace"),
    ("jones", "johnson"),
    # prefixes
    ("jean", "jeanne"),
    ("chris", "christopher"),
    ("j", "jean"),
    ("abcd", "abcdefghij"),
    # unicode (standardized values may keep non-ASCII letters)
    ("zoé", "zoe"),
    ("héloïse", "heloise"),
    ("müller", "mueller"),
    ("łukasz", "lukasz"),
    ("ольга", "olga"),
    ("日本語", "日本"),
    ("straße", "strasse"),
    # multi-token strings
    ("jean pierre", "pierre jean"),
    ("jean pierre dupont", "jean dupont"),
    ("anne marie", "anne"),
    ("a b a", "a b"),
    ("x", "x y z"),
    ("van der berg", "vandenberg"),
    # nothing in common
    ("a", "b"),
    ("abc", "xyz"),
    ("robert", "alice"),
]


def random_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Standardized-looking values: tokens of a small alphabet joined by single spaces."""
    generator = random.Random(seed)
    alphabet = "abcdeéü"

    def value() -> str:
        tokens = [
            "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 6)))
            for _ in range(generator.randint(1, 3))
        ]
        return " ".join(tokens)

    pairs = []
    for _ in range(count):
        left = value()
        # Half the pairs are near-copies, so high similarities are well covered.
        right = value() if generator.random() < 0.5 else left[: generator.randint(1, len(left))]
        pairs.append((left, right.strip() or left))
    return pairs


# Initials against names, for the name form of every comparator.
NAME_PAIRS = [
    ("j", "jean"),
    ("jean", "j"),
    ("j", "j"),
    ("j", "pierre"),
    ("m", "marie claire"),
    ("jean", "jeanne"),
    ("zoé", "z"),
]

ALL_PAIRS = sorted(set(PAIRS) | set(NAME_PAIRS) | set(random_pairs(300, seed=20240101)))


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    duckdb_engine = DuckDBEngine(":memory:")
    yield duckdb_engine
    duckdb_engine.close()


def sql_scores(engine: DuckDBEngine, similarity: exp.Expr) -> dict[tuple[str, str], float]:
    """Score every pair with `similarity`, an expression over columns `a.value`, `b.value`."""
    rows = [(index, left, right) for index, (left, right) in enumerate(ALL_PAIRS)]
    pairs = values_table(["id", "l", "r"], rows, "p")
    side_a = exp.select("id", exp.alias_(exp.column("l"), "value")).from_(pairs).subquery("a")
    side_b = exp.select("id", exp.alias_(exp.column("r"), "value")).from_(pairs.copy())
    query = (
        exp.select(exp.column("id", "a"), exp.alias_(similarity, "score"))
        .from_(side_a)
        .join(side_b.subquery("b"), on="a.id = b.id")
    )
    scores = {row["id"]: row["score"] for row in engine.fetch_arrow(query).to_pylist()}
    assert len(scores) == len(ALL_PAIRS)
    return {pair: scores[index] for index, pair in enumerate(ALL_PAIRS)}


def test_every_comparator_has_duckdb_sql() -> None:
    assert set(dialect.COMPARATOR_SQL["duckdb"]) == set(COMPARATORS)
    assert {function for function, _ in MATCH_LEVELS.values()} <= set(COMPARATORS)


@pytest.mark.parametrize("comparator", sorted(COMPARATORS))
def test_sql_matches_reference(engine: DuckDBEngine, comparator: str) -> None:
    similarity = dialect.similarity(
        "duckdb", comparator, exp.column("value", "a"), exp.column("value", "b")
    )
    scores = sql_scores(engine, similarity)
    reference = COMPARATORS[comparator].reference
    wrong = {
        pair: (score, reference(*pair))
        for pair, score in scores.items()
        if score is None or abs(score - reference(*pair)) > TOLERANCE
    }
    assert wrong == {}


@pytest.mark.parametrize("comparator", sorted(COMPARATORS))
@pytest.mark.parametrize(("left", "right"), PAIRS, ids=[f"{a}|{b}" for a, b in PAIRS])
def test_reference_bounds(comparator: str, left: str, right: str) -> None:
    score = COMPARATORS[comparator].reference(left, right)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(COMPARATORS[comparator].reference(right, left), abs=TOLERANCE)
    if left == right:
        assert score == 1.0
    else:
        assert score < 1.0 or comparator == "jaccard_tokens"


@pytest.mark.parametrize(
    ("comparator", "left", "right", "expected"),
    [
        ("jaro_winkler", "martha", "marhta", 0.9611111111111111),
        ("jaro_winkler", "dwayne", "duane", 0.84),
        ("levenshtein", "kitten", "sitting", 1 - 3 / 7),
        ("levenshtein", "ab", "ba", 0.0),
        ("damerau_levenshtein", "ab", "ba", 0.5),
        ("damerau_levenshtein", "martha", "marhta", 1 - 1 / 6),
        ("jaccard_tokens", "jean pierre", "pierre jean", 1.0),
        ("jaccard_tokens", "jean pierre dupont", "jean dupont", 2 / 3),
        ("jaccard_tokens", "a b a", "a b", 1.0),
    ],
)
def test_reference_known_values(comparator: str, left: str, right: str, expected: float) -> None:
    assert COMPARATORS[comparator].reference(left, right) == pytest.approx(expected, abs=TOLERANCE)


# --- names: initials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # an initial matching the first letter scores exactly the threshold, either side
        ("j", "jean", 0.92),
        ("jean", "j", 0.92),
        ("j", "j", 0.92),
        ("é", "élodie", 0.92),
        # an initial that does not match falls back to the comparator
        ("j", "pierre", COMPARATORS["jaro_winkler"].reference("j", "pierre")),
        ("p", "jean", COMPARATORS["jaro_winkler"].reference("p", "jean")),
        # full names are compared as usual, even with a shared first letter
        ("jean", "jeanne", COMPARATORS["jaro_winkler"].reference("jean", "jeanne")),
        ("jo", "jean", COMPARATORS["jaro_winkler"].reference("jo", "jean")),
        ("jean", "jean", 1.0),
    ],
)
def test_reference_name_similarity_initials(left: str, right: str, expected: float) -> None:
    assert reference_name_similarity(left, right, "jaro_winkler", 0.92) == pytest.approx(
        expected, abs=TOLERANCE
    )


def test_an_initial_never_outranks_a_real_match() -> None:
    initial = reference_name_similarity("j", "jean", "jaro_winkler", 0.85)
    real = reference_name_similarity("jean", "jean", "jaro_winkler", 0.85)
    typo = reference_name_similarity("jean", "jaen", "jaro_winkler", 0.85)
    assert initial == 0.85
    assert initial < typo < real


@pytest.mark.parametrize("comparator", sorted(COMPARATORS))
@pytest.mark.parametrize("threshold", [0.85, 0.92])
def test_name_sql_matches_reference_name_similarity(
    engine: DuckDBEngine, comparator: str, threshold: float
) -> None:
    criterion = Criterion(
        label="first_name",
        identifiers=("first_name",),
        exact=False,
        function=comparator,
        threshold=threshold,
        allow_missing=False,
        is_name=True,
    )
    scores = sql_scores(engine, _value_similarity("duckdb", criterion))
    for left, right in ALL_PAIRS:
        expected = reference_name_similarity(left, right, comparator, threshold)
        assert scores[(left, right)] == pytest.approx(expected, abs=TOLERANCE), (left, right)
