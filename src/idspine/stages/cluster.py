"""Stage 4 — cluster: apply ranked pairs under conflict limits (spec §4).

The result equals a sequential union-find that takes pairs in rank order and refuses a
union that would give a profile more distinct values of an identifier than its limit. It is
computed in the scalable form: per rule level, connected components over the current
profiles; a component within every limit is accepted whole (distinct counts only grow under
union, so the sequential form would accept each of its pairs too) and its merged pairs are
the ordered spanning forest; only components that break a limit are replayed pair by pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot import exp

from idspine.config.load import Config
from idspine.engines.base import Engine
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table
from idspine.stages.overrides import MUST_LINK_PRIORITY

# Work tables rebuilt at every rule level.
LEVEL_TABLES = [
    "level_edges",
    "level_cross_edges",
    "level_components",
    "broken_components",
    "accepted_edges",
    "level_forest",
    "replay_status",
    "replay_mapping",
]


@dataclass
class ClusterStats:
    levels: int = 0
    conflict_components: int = 0
    largest_conflict_component: int = 0  # profiles in the largest replayed component
    replayed_pairs: int = 0
    refused_pairs: int = 0


@dataclass
class ReplayResult:
    statuses: list[tuple[int, str, str | None]] = field(default_factory=list)
    mapping: dict[int, int] = field(default_factory=dict)


def replay(
    edges: Iterable[tuple[int, int, int]],
    values: dict[int, dict[str, set[str]]],
    limits: dict[str, int],
) -> ReplayResult:
    """Sequential union-find with limits over (rank, node_a, node_b) sorted by rank.

    `values` holds the limited identifiers' values of each node (a current profile). Only
    called on the few components that break a limit.
    """
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    held = {node: {k: set(v) for k, v in per.items()} for node, per in values.items()}
    result = ReplayResult()
    for rank, node_a, node_b in edges:
        root_a, root_b = find(node_a), find(node_b)
        if root_a == root_b:
            result.statuses.append((rank, "redundant", None))
            continue
        values_a, values_b = held.get(root_a, {}), held.get(root_b, {})
        broken = next(
            (
                name
                for name in sorted(limits)
                if len(values_a.get(name, set()) | values_b.get(name, set())) > limits[name]
            ),
            None,
        )
        if broken is not None:
            result.statuses.append((rank, "refused", broken))
            continue
        keep, gone = (root_a, root_b) if root_a < root_b else (root_b, root_a)
        parent[gone] = keep
        merged = held.setdefault(keep, {})
        for name, items in held.pop(gone, {}).items():
            merged.setdefault(name, set()).update(items)
        result.statuses.append((rank, "merged", None))
    for node in list(parent):
        result.mapping[node] = find(node)
    return result


def cluster(config: Config, engine: Engine) -> ClusterStats:
    """From `ranked_pairs` to `profile_of(record_id, profile)` and `pair_status`.

    Overrides (see `overrides.py`) enter as what the clustering already knows: must-link
    pairs form level 0, cannot-link and detach add private limited identifiers
    (`override_values`, `override_limits`).
    """
    stats = ClusterStats()
    limits = {i.name: i.limit for i in config.identifiers if i.limit is not None}
    limits |= {
        row["identifier"]: int(row["max_values"])
        for row in engine.fetch_arrow(sql("SELECT * FROM override_limits")).to_pylist()
    }
    engine.run(Step("profiles_start", sql("SELECT record_id, record_id AS profile FROM records")))
    if limits:
        engine.run(
            Step(
                "limited_values",
                sql(
                    "SELECT u.record_id, u.identifier, u.value FROM usable_values AS u "
                    "JOIN $limits ON u.identifier = l.identifier "
                    "UNION ALL SELECT record_id, identifier, value FROM override_values",
                    limits=limits_table(limits),
                ),
            )
        )
    must_links = engine.fetch_arrow(sql("SELECT count(*) AS n FROM override_pairs"))
    levels = [r.priority for r in config.rules]
    if must_links.column("n")[0].as_py():
        levels.insert(0, MUST_LINK_PRIORITY)
    current = "profiles_start"
    for level in levels:
        stats.levels += 1
        _apply_level(engine, level, current, limits, stats)
        engine.drop(current)
        current = f"profiles_after_{level}"
    engine.run(
        Step("profile_of", sql("SELECT record_id, profile FROM $t", t=exp.to_table(current)))
    )
    engine.drop(current)
    statuses = [
        sql("SELECT rank, status, conflict_identifier FROM $t", t=exp.to_table(f"pair_status_{n}"))
        for n in levels
    ]
    engine.run(
        Step(
            "pair_status",
            exp.union(*statuses, distinct=False) if len(statuses) > 1 else statuses[0],
        )
    )
    for level in levels:
        engine.drop(f"pair_status_{level}")
    engine.release(LEVEL_TABLES + (["limited_values"] if limits else []))
    return stats


def _apply_level(
    engine: Engine, priority: int, current: str, limits: dict[str, int], stats: ClusterStats
) -> None:
    """Apply the pairs of one priority to the profiles in `current`; writes
    `profiles_after_<priority>` and `pair_status_<priority>`."""
    profiles = exp.to_table(current, quoted=True)
    engine.run(
        Step(
            "level_edges",
            sql(
                "SELECT p.rank, least(a.profile, b.profile) AS node_a, "
                "greatest(a.profile, b.profile) AS node_b FROM ranked_pairs AS p "
                "JOIN $profiles AS a ON a.record_id = p.left_id "
                "JOIN $profiles AS b ON b.record_id = p.right_id WHERE p.priority = $priority",
                priority=lit(priority),
                profiles=profiles,
            ),
        )
    )
    engine.run(
        Step(
            "level_cross_edges",
            sql("SELECT node_a, node_b, rank FROM level_edges WHERE node_a <> node_b"),
        )
    )
    engine.connected_components("level_cross_edges", "level_components")
    broken: list[int] = []
    if limits:
        broken_rows = engine.fetch_arrow(
            sql(
                "SELECT DISTINCT c.component FROM level_components AS c "
                "JOIN $profiles AS p ON p.profile = c.node "
                "JOIN limited_values AS v ON v.record_id = p.record_id "
                "JOIN $limits ON v.identifier = l.identifier "
                "GROUP BY c.component, v.identifier "
                "HAVING count(DISTINCT v.value) > max(l.max_values)",
                limits=limits_table(limits),
                profiles=profiles,
            )
        )
        broken = sorted(broken_rows.column("component").to_pylist())
    engine.register_arrow(
        "broken_components", pa.table({"component": pa.array(broken, pa.int64())})
    )
    replayed = _replay_broken(engine, profiles, limits, stats) if broken else ReplayResult()
    stats.conflict_components += len(broken)
    # Components within limits: merged pairs are the spanning forest in rank order.
    engine.run(
        Step(
            "accepted_edges",
            sql(
                "SELECT e.node_a, e.node_b, min(e.rank) AS rank FROM level_cross_edges AS e "
                "JOIN level_components AS c ON c.node = e.node_a "
                "LEFT JOIN broken_components AS b ON b.component = c.component "
                "WHERE b.component IS NULL GROUP BY e.node_a, e.node_b"
            ),
        )
    )
    engine.spanning_forest("accepted_edges", "level_forest")
    engine.register_arrow(
        "replay_status",
        pa.table(
            {
                "rank": pa.array([s[0] for s in replayed.statuses], pa.int64()),
                "status": pa.array([s[1] for s in replayed.statuses], pa.string()),
                "conflict_identifier": pa.array([s[2] for s in replayed.statuses], pa.string()),
            }
        ),
    )
    engine.register_arrow(
        "replay_mapping",
        pa.table(
            {
                "node": pa.array(list(replayed.mapping), pa.int64()),
                "profile": pa.array(list(replayed.mapping.values()), pa.int64()),
            }
        ),
    )
    engine.run(
        Step(
            f"pair_status_{priority}",
            sql(
                "SELECT e.rank, CASE WHEN r.status IS NOT NULL THEN r.status "
                "WHEN f.rank IS NOT NULL THEN 'merged' ELSE 'redundant' END AS status, "
                "r.conflict_identifier FROM level_edges AS e "
                "LEFT JOIN level_forest AS f ON f.rank = e.rank "
                "LEFT JOIN replay_status AS r ON r.rank = e.rank"
            ),
        )
    )
    engine.run(
        Step(
            f"profiles_after_{priority}",
            sql(
                "SELECT p.record_id, coalesce(m.profile, CASE WHEN b.component IS NULL "
                "THEN c.component END, p.profile) AS profile FROM $profiles AS p "
                "LEFT JOIN level_components AS c ON c.node = p.profile "
                "LEFT JOIN broken_components AS b ON b.component = c.component "
                "LEFT JOIN replay_mapping AS m ON m.node = p.profile",
                profiles=profiles,
            ),
        )
    )


def _replay_broken(
    engine: Engine, profiles: exp.Table, limits: dict[str, int], stats: ClusterStats
) -> ReplayResult:
    edges = engine.fetch_arrow(
        sql(
            "SELECT e.rank, e.node_a, e.node_b, c.component FROM level_cross_edges AS e "
            "JOIN level_components AS c ON c.node = e.node_a "
            "JOIN broken_components AS b ON b.component = c.component ORDER BY e.rank"
        )
    )
    held = engine.fetch_arrow(
        sql(
            "SELECT DISTINCT p.profile AS node, v.identifier, v.value FROM level_components AS c "
            "JOIN broken_components AS b ON b.component = c.component "
            "JOIN $profiles AS p ON p.profile = c.node "
            "JOIN limited_values AS v ON v.record_id = p.record_id",
            profiles=profiles,
        )
    )
    values: dict[int, dict[str, set[str]]] = {}
    for node, identifier, value in zip(
        *(held.column(n).to_pylist() for n in ("node", "identifier", "value")), strict=True
    ):
        values.setdefault(node, {}).setdefault(identifier, set()).add(value)
    components: dict[int, set[int]] = {}
    for node_a, node_b, component in zip(
        *(edges.column(n).to_pylist() for n in ("node_a", "node_b", "component")), strict=True
    ):
        components.setdefault(component, set()).update((node_a, node_b))
    stats.largest_conflict_component = max(
        [stats.largest_conflict_component, *(len(v) for v in components.values())]
    )
    stats.replayed_pairs += edges.num_rows
    result = replay(
        zip(*(edges.column(n).to_pylist() for n in ("rank", "node_a", "node_b")), strict=True),
        values,
        limits,
    )
    stats.refused_pairs += sum(1 for s in result.statuses if s[1] == "refused")
    return result


def limits_table(limits: dict[str, int]) -> exp.Expr:
    return values_table(["identifier", "max_values"], sorted(limits.items()), "l")
