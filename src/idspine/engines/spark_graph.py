"""Graph primitives of the Spark engine, as iterative DataFrame programs.

Connected components use the alternating Large-Star / Small-Star algorithm of Kiveris,
Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected Components in MapReduce and Beyond"
(SoCC 2014): O(log² n) rounds, each a few shuffles of the edge list, the edge count never
growing. The graph is done when it is a set of stars, each centred on its smallest node.
Every round is materialized (checkpointed) so the plan never grows with the round count, and
no edge list is ever collected to the driver.

The ordered spanning forest groups edges by component and runs Kruskal (as a minimum spanning
forest with weights rank + 1, unique, hence equal to Kruskal in rank order) per component on
the executors with `applyInPandas`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

Materialize = Callable[["DataFrame"], "DataFrame"]

# A safety net far above the O(log² n) rounds the algorithm needs on any real graph.
MAX_ROUNDS = 200


def _columns() -> Any:
    from pyspark.sql import functions

    return functions


def undirected_edges(edges: DataFrame) -> DataFrame:
    """Each undirected edge once as (hi, lo) with hi > lo; self-loops dropped."""
    f = _columns()
    a, b = f.col("node_a").cast("long"), f.col("node_b").cast("long")
    return (edges.select(f.greatest(a, b).alias("hi"), f.least(a, b).alias("lo"))
            .where(f.col("hi") != f.col("lo")).distinct())


def large_star(edges: DataFrame) -> DataFrame:
    """Every node links its larger neighbours to the smallest node of its neighbourhood."""
    f = _columns()
    both = edges.select(f.col("hi").alias("u"), f.col("lo").alias("v")).unionByName(
        edges.select(f.col("lo").alias("u"), f.col("hi").alias("v"))
    )
    smallest = both.groupBy("u").agg(f.least(f.min("v"), f.col("u")).alias("m"))
    return (both.join(smallest, "u").where(f.col("v") > f.col("u"))
            .select(f.col("v").alias("hi"), f.col("m").alias("lo")).distinct())


def small_star(edges: DataFrame) -> DataFrame:
    """Every node and its smaller neighbours are linked to the smallest of them."""
    f = _columns()
    smallest = edges.groupBy("hi").agg(f.min("lo").alias("m"))
    neighbours = (edges.join(smallest, "hi").where(f.col("lo") != f.col("m"))
                  .select(f.col("lo").alias("hi"), f.col("m").alias("lo")))
    centres = smallest.select(f.col("hi"), f.col("m").alias("lo"))
    return neighbours.unionByName(centres).distinct()


def is_star_forest(edges: DataFrame) -> bool:
    """Whether every node has one smaller neighbour at most and no larger node has one.

    Then each component is a star whose centre (only larger neighbours) is its smallest node.
    """
    f = _columns()
    degrees = edges.groupBy("hi").agg(f.count(f.lit(1)).alias("degree"))
    centre_has_smaller = degrees.select(f.col("hi").alias("lo"), f.lit(1).alias("bad"))
    row = (edges.join(degrees, "hi").join(centre_has_smaller, "lo", "left")
           .agg(f.sum(f.when((f.col("degree") > 1) | f.col("bad").isNotNull(), 1)
                      .otherwise(0)).alias("violations"))).first()
    return row is None or not row["violations"]


def connected_components(edges: DataFrame, materialize: Materialize) -> tuple[DataFrame, int]:
    """`(node, component)` for every node with an edge, component = its smallest node."""
    f = _columns()
    current = materialize(undirected_edges(edges))
    rounds = 0
    while not is_star_forest(current):
        if rounds >= MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
        current = materialize(small_star(materialize(large_star(current))))
        rounds += 1
    labels = current.select(f.col("hi").alias("node"), f.col("lo").alias("component"))
    centres = current.select(f.col("lo").alias("node"), f.col("lo").alias("component"))
    return labels.unionByName(centres).distinct(), rounds


def kruskal_ranks(node_a: np.ndarray[Any, Any], node_b: np.ndarray[Any, Any],
                  ranks: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The ranks a sequential union-find taking edges by ascending rank keeps.

    Ranks are unique, so weights rank + 1 make the minimum spanning forest unique and equal
    to that sequential result.
    """
    if len(ranks) == 0:
        return np.empty(0, dtype=np.int64)
    nodes, inverse = np.unique(np.concatenate([node_a, node_b]), return_inverse=True)
    count = len(nodes)
    graph = coo_matrix(
        (ranks.astype(np.float64) + 1.0, (inverse[: len(node_a)], inverse[len(node_a):])),
        shape=(count, count),
    ).tocsr()
    forest = minimum_spanning_tree(graph).tocoo()
    return np.sort(np.rint(forest.data).astype(np.int64) - 1)


def _forest_of_group(group: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    kept = kruskal_ranks(group["node_a"].to_numpy(np.int64), group["node_b"].to_numpy(np.int64),
                         group["rank"].to_numpy(np.int64))
    return pd.DataFrame({"rank": kept})


def spanning_forest(edges: DataFrame, components: DataFrame) -> DataFrame:
    """`(rank)` of the edges Kruskal keeps, one component per executor task group.

    `components` must give both ends of every edge the same label (any coarser grouping than
    the true components is as good: Kruskal on disjoint parts is Kruskal on their union).
    """
    f = _columns()
    labelled = edges.select(
        f.col("node_a").cast("long").alias("node_a"), f.col("node_b").cast("long").alias("node_b"),
        f.col("rank").cast("long").alias("rank"),
    ).where(f.col("node_a") != f.col("node_b")).join(
        components.select(f.col("node").alias("node_a"), "component"), "node_a"
    )
    return labelled.groupBy("component").applyInPandas(_forest_of_group, "rank long")


def labels_cover(edges: DataFrame, components: DataFrame) -> bool:
    """Whether `components` gives both ends of every (non-loop) edge one same label."""
    f = _columns()
    left = components.select(f.col("node").alias("node_a"), f.col("component").alias("ca"))
    right = components.select(f.col("node").alias("node_b"), f.col("component").alias("cb"))
    row = (edges.where(f.col("node_a") != f.col("node_b"))
           .join(left, "node_a", "left").join(right, "node_b", "left")
           .agg(f.sum(f.when(f.col("ca").isNull() | f.col("cb").isNull()
                             | (f.col("ca") != f.col("cb")), 1).otherwise(0)).alias("bad"))
           ).first()
    return row is None or not row["bad"]
