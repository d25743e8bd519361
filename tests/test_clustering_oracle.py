"""Clustering equals a plain sequential union-find with limits, on random graphs (spec §4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idspine.config.load import Config, load_config
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.stages.cluster import cluster

IDENTIFIERS = ("a", "b", "c")


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(":memory:")
    yield engine
    engine.close()


def make_config(levels: int, limits: dict[str, int | None]) -> Config:
    return load_config(
        {
            "identifiers": {name: {"type": "id", "limit": limits[name]} for name in IDENTIFIERS},
            "sources": {
                "s": {"path": "unused.csv", "primary_key": "id", "order_by": "t", "map": {"a": "a"}}
            },
            "rules": [{"name": f"r{i}", "match": {"a": "exact"}} for i in range(levels)],
        }
    )


def sequential_oracle(
    nodes: int,
    pairs: list[tuple[int, int, int, float]],
    values: dict[int, dict[str, set[str]]],
    limits: dict[str, int | None],
    cannot_link: list[tuple[int, int]] = (),  # type: ignore[assignment]
    detached: frozenset[int] = frozenset(),
) -> tuple[list[int], dict[tuple[int, int], str]]:
    """The definition: take pairs in (priority, score desc, ids) order, refuse a union that
    is over a limit, joins both records of a cannot-link, or touches a detached record."""
    parent = list(range(nodes))
    held = {n: {k: set(v) for k, v in values.get(n, {}).items()} for n in range(nodes)}

    def find(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    status = {}
    for left, right, _, _ in sorted(pairs, key=lambda p: (p[2], -p[3], p[0], p[1])):
        root_left, root_right = find(left), find(right)
        if root_left == root_right:
            status[(left, right)] = "redundant"
            continue
        too_many = any(
            limit is not None
            and len(held[root_left].get(name, set()) | held[root_right].get(name, set())) > limit
            for name, limit in limits.items()
        )
        roots = {root_left, root_right}
        forbidden = any(find(a) in roots and find(b) in roots for a, b in cannot_link) or any(
            find(d) in roots for d in detached
        )
        if too_many or forbidden:
            status[(left, right)] = "refused"
            continue
        parent[root_right] = root_left
        for name, items in held[root_right].items():
            held[root_left].setdefault(name, set()).update(items)
        status[(left, right)] = "merged"
    return [find(n) for n in range(nodes)], status


def same_partition(first: list[int], second: list[int]) -> bool:
    def canonical(labels: list[int]) -> list[int]:
        seen: dict[int, int] = {}
        return [seen.setdefault(label, len(seen)) for label in labels]

    return canonical(first) == canonical(second)


@st.composite
def graphs(
    draw: Any,
) -> tuple[
    int,
    int,
    list[tuple[int, int, int, float]],
    dict[int, dict[str, set[str]]],
    dict[str, int | None],
    list[tuple[int, int]],
    frozenset[int],
]:
    nodes = draw(st.integers(2, 30))
    levels = draw(st.integers(1, 3))
    edge_count = draw(st.integers(0, nodes * 2))
    pairs: dict[tuple[int, int], tuple[int, float]] = {}
    for _ in range(edge_count):
        left, right = draw(st.integers(0, nodes - 1)), draw(st.integers(0, nodes - 1))
        if left != right:
            key = (min(left, right), max(left, right))
            pairs[key] = (
                draw(st.integers(1, levels)),
                draw(st.sampled_from([1.0, 0.95, 0.9, 0.87])),
            )
    values: dict[int, dict[str, set[str]]] = {}
    for node in range(nodes):
        for name in IDENTIFIERS:
            chosen = draw(st.sets(st.sampled_from("wxyz"), max_size=2))
            if chosen:
                values.setdefault(node, {})[name] = chosen
    limits = {name: draw(st.one_of(st.none(), st.integers(1, 3))) for name in IDENTIFIERS}
    node = st.integers(0, nodes - 1)
    # Overrides: must-link pairs come first (priority 0); cannot-link and detach refuse.
    for left, right in draw(st.lists(st.tuples(node, node), max_size=3)):
        if left != right:
            pairs[(min(left, right), max(left, right))] = (0, 1.0)
    cannot = [(a, b) for a, b in draw(st.lists(st.tuples(node, node), max_size=3)) if a != b]
    detached = frozenset(draw(st.sets(node, max_size=2)))
    return (
        nodes,
        levels,
        [(k[0], k[1], p, s) for k, (p, s) in pairs.items()],
        values,
        limits,
        cannot,
        detached,
    )


def register_overrides(
    engine: DuckDBEngine,
    pairs: list[tuple[int, int, int, float]],
    cannot: list[tuple[int, int]],
    detached: frozenset[int],
) -> None:
    """The tables `overrides.plan_overrides` gives the clustering."""
    must = [(a, b) for a, b, priority, _ in pairs if priority == 0]
    engine.register_arrow(
        "override_pairs",
        pa.table(
            {
                "left_id": pa.array([a for a, _ in must], pa.int64()),
                "right_id": pa.array([b for _, b in must], pa.int64()),
            }
        ),
    )
    rows = [(a, f"override:c{i}", "a") for i, (a, _) in enumerate(cannot)]
    rows += [(b, f"override:c{i}", "b") for i, (_, b) in enumerate(cannot)]
    rows += [(d, f"override:d{d}", "a") for d in detached]
    engine.register_arrow(
        "override_values",
        pa.table(
            {
                "record_id": pa.array([r[0] for r in rows], pa.int64()),
                "identifier": pa.array([r[1] for r in rows], pa.string()),
                "value": pa.array([r[2] for r in rows], pa.string()),
            }
        ),
    )
    limits = {f"override:c{i}": 1 for i in range(len(cannot))}
    limits |= {f"override:d{d}": 0 for d in detached}
    engine.register_arrow(
        "override_limits",
        pa.table(
            {
                "identifier": pa.array(list(limits), pa.string()),
                "max_values": pa.array(list(limits.values()), pa.int64()),
            }
        ),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_clustering_equals_sequential_union_find(engine: DuckDBEngine, graph: Any) -> None:
    nodes, levels, pairs, values, limits, cannot, detached = graph
    register_overrides(engine, pairs, cannot, detached)
    ordered = sorted(pairs, key=lambda p: (p[2], -p[3], p[0], p[1]))
    engine.register_arrow("records", pa.table({"record_id": pa.array(range(nodes), pa.int64())}))
    engine.register_arrow(
        "ranked_pairs",
        pa.table(
            {
                "left_id": pa.array([p[0] for p in ordered], pa.int64()),
                "right_id": pa.array([p[1] for p in ordered], pa.int64()),
                "priority": pa.array([p[2] for p in ordered], pa.int64()),
                "score": pa.array([p[3] for p in ordered], pa.float64()),
                "rank": pa.array(range(len(ordered)), pa.int64()),
            }
        ),
    )
    flat = [
        (node, name, value)
        for node, per in values.items()
        for name, items in per.items()
        for value in items
    ]
    engine.register_arrow(
        "usable_values",
        pa.table(
            {
                "record_id": pa.array([f[0] for f in flat], pa.int64()),
                "identifier": pa.array([f[1] for f in flat], pa.string()),
                "value": pa.array([f[2] for f in flat], pa.string()),
            }
        ),
    )
    cluster(make_config(levels, limits), engine)

    expected_labels, expected_status = sequential_oracle(
        nodes, pairs, values, limits, cannot, detached
    )
    profile_of = dict(engine.connection.sql("SELECT record_id, profile FROM profile_of").fetchall())
    labels = [profile_of[n] for n in range(nodes)]
    assert same_partition(labels, expected_labels)
    # Profiles are labelled by their smallest record.
    assert all(label == min(n for n in range(nodes) if labels[n] == label) for label in labels)
    statuses = dict(engine.connection.sql("SELECT rank, status FROM pair_status").fetchall())
    assert len(statuses) == len(ordered)
    assert {(p[0], p[1]): statuses[rank] for rank, p in enumerate(ordered)} == expected_status
    for name, limit in limits.items():
        if limit is None:
            continue
        held: dict[int, set[str]] = {}
        for node in range(nodes):
            held.setdefault(labels[node], set()).update(values.get(node, {}).get(name, set()))
        # A profile only exceeds a limit when one record alone already does.
        for label, items in held.items():
            members = [n for n in range(nodes) if labels[n] == label]
            assert len(items) <= limit or len(members) == 1
