"""Building blocks of the Spark engine that hold no engine state: the graph primitives, as
iterative DataFrame programs, and the file operations publishing needs.

Connected components use the alternating Large-Star / Small-Star algorithm of Kiveris,
Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected Components in MapReduce and Beyond"
(SoCC 2014): O(log² n) rounds, each a few shuffles of the edge list, the edge count never
growing. The graph is done when it is a set of stars, each centred on its smallest node.
Every round (one large-star and one small-star step) is materialized (checkpointed) so the
plan never grows with the round count, and no edge list is ever collected to the driver.

The ordered spanning forest sends each component's edges to one partition and runs Kruskal (as
a minimum spanning forest with weights rank + 1, unique, hence equal to Kruskal in rank order)
over each partition on the executors with `mapInPandas`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from idspine.errors import EngineError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

Materialize = Callable[["DataFrame"], "DataFrame"]

# A safety net far above the O(log² n) rounds the algorithm needs on any real graph.
MAX_ROUNDS = 200


def _columns() -> Any:
    from pyspark.sql import functions

    return functions


def _window() -> Any:
    from pyspark.sql import Window

    return Window


def undirected_edges(edges: DataFrame) -> DataFrame:
    """Each undirected edge once as (hi, lo) with hi > lo; self-loops dropped."""
    f = _columns()
    a, b = f.col("node_a").cast("long"), f.col("node_b").cast("long")
    return (
        edges.select(f.greatest(a, b).alias("hi"), f.least(a, b).alias("lo"))
        .where(f.col("hi") != f.col("lo"))
        .distinct()
    )


def large_star(edges: DataFrame) -> DataFrame:
    """Every node links its larger neighbours to the smallest node of its neighbourhood."""
    f, window = _columns(), _window()
    both = edges.select(f.col("hi").alias("u"), f.col("lo").alias("v")).unionByName(
        edges.select(f.col("lo").alias("u"), f.col("hi").alias("v"))
    )
    # A window, not an aggregate joined back: one shuffle by node instead of two.
    smallest = f.least(f.min("v").over(window.partitionBy("u")), f.col("u"))
    # Duplicates are left for the small-star step that always follows to remove.
    return (
        both.select("u", "v", smallest.alias("m"))
        .where(f.col("v") > f.col("u"))
        .select(f.col("v").alias("hi"), f.col("m").alias("lo"))
    )


def small_star(edges: DataFrame) -> DataFrame:
    """Every node and its smaller neighbours are linked to the smallest of them."""
    f, window = _columns(), _window()
    marked = edges.select("hi", "lo", f.min("lo").over(window.partitionBy("hi")).alias("m"))
    neighbours = marked.where(f.col("lo") != f.col("m")).select(
        f.col("lo").alias("hi"), f.col("m").alias("lo")
    )
    centres = marked.select(f.col("hi"), f.col("m").alias("lo"))
    return neighbours.unionByName(centres).distinct()


def is_star_forest(edges: DataFrame) -> bool:
    """Whether no node has two smaller neighbours, nor both a smaller and a larger one.

    Then each component is a star whose centre (only larger neighbours) is its smallest node.
    One aggregation over the node roles, no join.
    """
    f = _columns()
    roles = edges.select(
        f.col("hi").alias("node"), f.lit(1).alias("as_hi"), f.lit(0).alias("as_lo")
    ).unionByName(
        edges.select(f.col("lo").alias("node"), f.lit(0).alias("as_hi"), f.lit(1).alias("as_lo"))
    )
    per_node = roles.groupBy("node").agg(
        f.sum("as_hi").alias("as_hi"), f.sum("as_lo").alias("as_lo")
    )
    row = per_node.agg(
        f.sum(
            f.when(
                (f.col("as_hi") > 1) | ((f.col("as_hi") > 0) & (f.col("as_lo") > 0)), 1
            ).otherwise(0)
        ).alias("violations")
    ).first()
    return row is None or not row["violations"]


def connected_components(edges: DataFrame, materialize: Materialize) -> tuple[DataFrame, int]:
    """`(node, component)` for every node with an edge, component = its smallest node."""
    f = _columns()
    current = materialize(undirected_edges(edges))
    rounds = 0
    while not is_star_forest(current):
        if rounds >= MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
        current = materialize(small_star(large_star(current)))
        rounds += 1
    labels = current.select(f.col("hi").alias("node"), f.col("lo").alias("component"))
    centres = current.select(f.col("lo").alias("node"), f.col("lo").alias("component"))
    # A node whose only edge is a loop is a component of its own.
    loops = edges.where(f.col("node_a") == f.col("node_b")).select(
        f.col("node_a").cast("long").alias("node"), f.col("node_a").cast("long").alias("component")
    )
    return labels.unionByName(centres).unionByName(loops).groupBy("node").agg(
        f.min("component").alias("component")
    ), rounds


def kruskal_ranks(
    node_a: np.ndarray[Any, Any], node_b: np.ndarray[Any, Any], ranks: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """The ranks a sequential union-find taking edges by ascending rank keeps.

    Ranks are unique, so weights rank + 1 make the minimum spanning forest unique and equal
    to that sequential result. Of parallel edges only the first can be kept: the others go.
    """
    if len(ranks) == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(ranks, kind="stable")
    low = np.minimum(node_a, node_b)[order]
    high = np.maximum(node_a, node_b)[order]
    _, first = np.unique(np.stack([low, high], axis=1), axis=0, return_index=True)
    node_a, node_b, ranks = low[first], high[first], ranks[order][first]
    nodes, inverse = np.unique(np.concatenate([node_a, node_b]), return_inverse=True)
    count = len(nodes)
    graph = coo_matrix(
        (ranks.astype(np.float64) + 1.0, (inverse[: len(node_a)], inverse[len(node_a) :])),
        shape=(count, count),
    ).tocsr()
    forest = minimum_spanning_tree(graph).tocoo()
    return np.sort(np.rint(forest.data).astype(np.int64) - 1)


def _forest_of_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    import pandas as pd

    parts = list(batches)
    if not parts:
        return
    edges = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    kept = kruskal_ranks(
        edges["node_a"].to_numpy(np.int64),
        edges["node_b"].to_numpy(np.int64),
        edges["rank"].to_numpy(np.int64),
    )
    yield pd.DataFrame({"rank": kept})


def spanning_forest(edges: DataFrame, components: DataFrame) -> DataFrame:
    """`(rank)` of the edges Kruskal keeps, each partition of components solved at once.

    Components never share a node, so one minimum spanning forest over all the edges of a
    partition is the union of its components' forests: no per-component overhead, and a
    task holds only its partition's edges. `components` must give both ends of every edge
    the same label; any coarser grouping than the true components is as good.
    """
    f = _columns()
    labelled = (
        edges.select(
            f.col("node_a").cast("long").alias("node_a"),
            f.col("node_b").cast("long").alias("node_b"),
            f.col("rank").cast("long").alias("rank"),
        )
        .where(f.col("node_a") != f.col("node_b"))
        .join(components.select(f.col("node").alias("node_a"), "component"), "node_a")
    )
    return labelled.repartition("component").mapInPandas(_forest_of_partition, "rank long")


def labels_cover(edges: DataFrame, components: DataFrame) -> bool:
    """Whether `components` gives both ends of every (non-loop) edge one same label."""
    f = _columns()
    left = components.select(f.col("node").alias("node_a"), f.col("component").alias("ca"))
    right = components.select(f.col("node").alias("node_b"), f.col("component").alias("cb"))
    row = (
        edges.where(f.col("node_a") != f.col("node_b"))
        .join(left, "node_a", "left")
        .join(right, "node_b", "left")
        .agg(
            f.sum(
                f.when(
                    f.col("ca").isNull() | f.col("cb").isNull() | (f.col("ca") != f.col("cb")), 1
                ).otherwise(0)
            ).alias("bad")
        )
    ).first()
    return row is None or not row["bad"]


class Files:
    """Directory operations through Hadoop's FileSystem API: local disk, HDFS, S3, ABFS..."""

    def __init__(self, spark: SparkSession) -> None:
        jvm: Any = getattr(spark, "_jvm", None)
        context: Any = getattr(spark, "_jsc", None)
        if jvm is None or context is None:
            raise EngineError("publishing needs a classic SparkSession (not Spark Connect)")
        self._path: Any = jvm.org.apache.hadoop.fs.Path
        self._conf: Any = context.hadoopConfiguration()

    def _open(self, path: str) -> tuple[Any, Any]:
        target = self._path(path)
        return target, target.getFileSystem(self._conf)

    def exists(self, path: str) -> bool:
        target, fs = self._open(path)
        return bool(fs.exists(target))

    def matches(self, pattern: str) -> bool:
        target, fs = self._open(pattern)
        found = fs.globStatus(target)
        return found is not None and len(found) > 0

    def delete(self, path: str) -> None:
        target, fs = self._open(path)
        if fs.exists(target):
            fs.delete(target, True)

    def rename(self, source: str, destination: str) -> None:
        target, fs = self._open(source)
        if not fs.rename(target, self._path(destination)):
            raise EngineError(f"cannot rename {source} to {destination}")

    def touch(self, path: str) -> None:
        target, fs = self._open(path)
        fs.create(target, True).close()

    def children(self, path: str) -> list[str]:
        target, fs = self._open(path)
        return [str(status.getPath().getName()) for status in fs.listStatus(target)]
