"""`idspine evaluate`: how well the last published run agrees with a user's labels.

The labels (see `evaluate_labels`) are registered in the run's engine and joined with the
published tables there, so only labelled rows and grouped counts ever leave the engine and
the command works on every engine. Scoring then follows `quality`: counts per group, never
an enumeration of record pairs.

* Cluster labels: pairwise and B-cubed scores of the labelled records that are in the run
  (`quality.score_clusters`; an unresolved record is its own cluster). Labelled records the
  run does not hold, and run records without a label, are counted and left out.
* Pair labels: over the labelled pairs whose two records are in the run, a match predicted
  in one profile is a true positive, a non-match in one profile a false positive, a match
  apart a false negative. B-cubed needs every record's entity and is not computed.
* Per source: pairwise scores over the pairs with at least one record of the source.
* Per rule: the rule's merged pairs (the links that united two profiles) whose two records
  are labelled, split into the same entity (correct) and different entities (wrong): the
  rule's precision on the merges it made. Refused pairs of the same entity show what a
  conflict limit or an override cost in recall.
* Worst profiles: the profiles holding most wrongly linked labelled pairs, each with its
  `explain --profile` answer, records tagged with their entity and links with their verdict.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from idspine.commands.evaluate_labels import Labels
from idspine.commands.explain import explain_profile
from idspine.commands.published import open_published
from idspine.commands.quality import score_clusters
from idspine.config.load import Config
from idspine.engines import Engine
from idspine.sql.build import lit, sql

__all__ = ["DEFAULT_WORST", "evaluate"]

Answer = dict[str, Any]
DEFAULT_WORST = 3
LABELS_VIEW = "evaluate_labels"

# Pairs of a group of `total` records with at least one of its `n` records of one source.
_TOUCHING = "total * (total - 1) // 2 - (total - n) * (total - n - 1) // 2"
_PER_SOURCE = f"""
WITH cps AS (
    SELECT cluster_id AS cid, entity, source, count(*) AS n FROM $scored
    GROUP BY cluster_id, entity, source
), cells AS (
    SELECT source, n, sum(n) OVER (PARTITION BY cid, entity) AS total FROM cps
    WHERE cid IS NOT NULL
), clusters AS (
    SELECT source, n, sum(n) OVER (PARTITION BY cid) AS total
    FROM (SELECT cid, source, sum(n) AS n FROM cps WHERE cid IS NOT NULL GROUP BY cid, source)
), entities AS (
    SELECT source, n, sum(n) OVER (PARTITION BY entity) AS total
    FROM (SELECT entity, source, sum(n) AS n FROM cps GROUP BY entity, source)
), touching AS (
    SELECT source, 0 AS records, {_TOUCHING} AS tp, 0 AS predicted, 0 AS truth FROM cells
    UNION ALL SELECT source, 0, 0, {_TOUCHING}, 0 FROM clusters
    UNION ALL SELECT source, n, 0, 0, {_TOUCHING} FROM entities
)
SELECT source, sum(records)::BIGINT AS records, sum(tp)::BIGINT AS tp,
       sum(predicted)::BIGINT AS predicted, sum(truth)::BIGINT AS truth
FROM touching GROUP BY source ORDER BY source
"""
_WORST_CLUSTERS = """
SELECT cid AS profile_id, sum(n)::BIGINT AS labelled_records, count(*) AS entities,
       ((sum(n) * (sum(n) - 1) - sum(n * (n - 1))) // 2)::BIGINT AS wrong_pairs
FROM (SELECT cluster_id AS cid, entity, count(*) AS n FROM $scored
      WHERE cluster_id IS NOT NULL GROUP BY cluster_id, entity)
GROUP BY cid HAVING count(*) > 1
ORDER BY wrong_pairs DESC, entities DESC, profile_id LIMIT $k
"""
# A labelled pair's two records in the published match (aliases a and b; labels l).
_LEFT = "a.source = l.left_source AND a.record_key = l.left_key"
_RIGHT = "b.source = l.right_source AND b.record_key = l.right_key"


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


def _ratio(numerator: int, denominator: int) -> float:
    """As in `quality`: 1.0 when nothing was claimed (or nothing was there to find)."""
    return numerator / denominator if denominator > 0 else 1.0


def _pairwise(tp: int, predicted: int, truth: int) -> dict[str, Any]:
    precision, recall = _ratio(tp, predicted), _ratio(tp, truth)
    return {
        "true_positive_pairs": tp,
        "predicted_pairs": predicted,
        "true_pairs": truth,
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": _f1(precision, recall),
    }


class _Reader:
    """Reads of the published tables, joined with the registered labels, through the engine."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config, self.engine = config, engine
        self.pid = exp.column(config.output.id_column, quoted=True)

    def table(self, name: str) -> exp.Table:
        return exp.table_(f"identity_{name}", db=self.config.output.schema, quoted=True)

    def fetch(self, template: str, **params: Any) -> pa.Table:
        tables = {n: self.table(n) for n in ("match", "match_pairs", "runs")}
        values = {k: v if isinstance(v, exp.Expr) else lit(v) for k, v in params.items()}
        labels = exp.table_(LABELS_VIEW, quoted=True)
        return self.engine.fetch_arrow(
            sql(template, **tables, labels=labels, pid=self.pid.copy(), **values)
        )

    def run(self) -> dict[str, Any]:
        published = self.fetch(
            "SELECT run_id, run_seq FROM $runs WHERE status = 'succeeded' "
            "ORDER BY run_seq DESC LIMIT 1"
        ).to_pylist()
        latest = self.fetch("SELECT max(run_seq) AS seq FROM $runs").to_pylist()[0]["seq"]
        run: dict[str, Any] = dict(published[0]) if published else {"run_id": None, "run_seq": None}
        run["held_note"] = (
            f"the latest run (#{latest}) was held by the publish checks: these scores are "
            "about the last published run"
            if published and latest != run["run_seq"]
            else None
        )
        return run

    def run_records(self) -> int:
        return int(self.fetch("SELECT count(*) AS n FROM $match").column("n")[0].as_py())

    def per_rule(self, kind: str) -> list[dict[str, Any]]:
        """Merged and refused pairs per rule, split by the labels' verdict on them."""
        totals = self.fetch(
            "SELECT rule, count(*) AS pairs FROM $match_pairs WHERE status = 'merged' GROUP BY rule"
        ).to_pylist()
        if kind == "clusters":
            template = (
                "SELECT rule, status, same_entity, count(*) AS pairs FROM (SELECT p.rule, "
                "p.status, a.entity = b.entity AS same_entity FROM $match_pairs AS p "
                "JOIN $labels AS a ON a.source = p.left_source AND a.record_key = p.left_key "
                "JOIN $labels AS b ON b.source = p.right_source AND b.record_key = p.right_key "
                "WHERE p.status IN ('merged', 'refused')) AS j GROUP BY rule, status, same_entity"
            )
        else:  # the labels are registered in both orientations: one equi-join finds a pair
            template = (
                "SELECT p.rule, p.status, l.is_match AS same_entity, count(*) AS pairs "
                "FROM $match_pairs AS p JOIN $labels AS l ON l.left_source = p.left_source "
                "AND l.left_key = p.left_key AND l.right_source = p.right_source "
                "AND l.right_key = p.right_key WHERE p.status IN ('merged', 'refused') "
                "GROUP BY p.rule, p.status, l.is_match"
            )
        judged = self.fetch(template).to_pylist()
        # Config order first; overrides' links carry their own rule names and come after.
        names = [r.name for r in self.config.rules]
        names += sorted({r["rule"] for r in totals + judged} - set(names))
        counts = ("merged", "merged_correct", "merged_wrong", "refused_same_entity")
        rules: dict[str, dict[str, Any]] = {
            name: {"rule": name} | dict.fromkeys((*counts, "refused_different"), 0)
            for name in names
        }
        for row in totals:
            rules[row["rule"]]["merged"] = int(row["pairs"])
        for row in judged:
            entry = rules[row["rule"]]
            verdict = "correct" if row["same_entity"] else "wrong"
            if row["status"] == "refused":
                verdict = "same_entity" if row["same_entity"] else "different"
            entry[f"{row['status']}_{verdict}"] += int(row["pairs"])
        for entry in rules.values():
            labelled = entry["merged_correct"] + entry["merged_wrong"]
            entry["precision"] = entry["merged_correct"] / labelled if labelled else None
        return list(rules.values())


def _scored_clusters(reader: _Reader, labels: pa.Table, worst: int) -> Answer:
    reader.engine.register_arrow(LABELS_VIEW, labels)
    joined = reader.fetch(
        "SELECT l.source, l.record_key, l.entity, CAST(m.$pid AS VARCHAR) AS cluster_id, "
        "m.source IS NOT NULL AS in_run FROM $labels AS l LEFT JOIN $match AS m "
        "ON m.source = l.source AND m.record_key = l.record_key"
    )
    scored = joined.filter(pc.field("in_run")).drop_columns(["in_run"])
    run_records = reader.run_records()
    truth = scored.select(["source", "record_key", "entity"]).rename_columns(
        ["source", "record_key", "person_id"]
    )
    scores = score_clusters(scored.select(["source", "record_key", "cluster_id"]), truth)
    # The labelled records are few: their breakdowns run in the run's own engine.
    reader.engine.register_arrow("evaluate_scored", scored)
    table = exp.to_table("evaluate_scored")
    sources = reader.engine.fetch_arrow(sql(_PER_SOURCE, scored=table))
    worst_rows = reader.engine.fetch_arrow(sql(_WORST_CLUSTERS, scored=table.copy(), k=lit(worst)))
    return {
        "coverage": {
            "labelled_records": labels.num_rows,
            "labelled_not_in_run": labels.num_rows - scored.num_rows,
            "run_records": run_records,
            "run_records_not_labelled": run_records - scored.num_rows,
            "scored_records": scored.num_rows,
        },
        "scores": scores.as_dict(),
        "per_source": [
            {"source": r["source"], "records": r["records"]}
            | _pairwise(r["tp"], r["predicted"], r["truth"])
            for r in sources.to_pylist()
        ],
        "per_rule": reader.per_rule("clusters"),
        "worst_profiles": worst_rows.to_pylist(),
    }


def _both_orientations(labels: pa.Table) -> pa.Table:
    flipped = labels.select(["right_source", "right_key", "left_source", "left_key", "is_match"])
    flipped = flipped.rename_columns(labels.column_names)
    stacked = pa.concat_tables([labels, flipped])
    side = [False] * labels.num_rows + [True] * labels.num_rows
    return stacked.append_column("flipped", pa.array(side, pa.bool_()))


def _pair_counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp = sum(r["pairs"] for r in rows if r["is_match"] and r["together"])
    fp = sum(r["pairs"] for r in rows if not r["is_match"] and r["together"])
    fn = sum(r["pairs"] for r in rows if r["is_match"] and not r["together"])
    counts = _pairwise(tp, tp + fp, tp + fn)
    counts.update(pairs=sum(r["pairs"] for r in rows), false_positive_pairs=fp)
    counts.update(false_negative_pairs=fn)
    return counts


def _scored_pairs(reader: _Reader, labels: pa.Table, worst: int) -> Answer:
    reader.engine.register_arrow(LABELS_VIEW, _both_orientations(labels))
    grouped = reader.fetch(
        "SELECT left_source, right_source, is_match, in_run, together, count(*) AS pairs "
        "FROM (SELECT l.left_source, l.right_source, l.is_match, "
        "a.source IS NOT NULL AND b.source IS NOT NULL AS in_run, "
        "coalesce(CAST(a.$pid AS VARCHAR) = CAST(b.$pid AS VARCHAR), FALSE) AS together "
        "FROM $labels AS l LEFT JOIN $match AS a ON " + _LEFT + " "
        "LEFT JOIN $match AS b ON " + _RIGHT + " WHERE NOT l.flipped) AS j "
        "GROUP BY left_source, right_source, is_match, in_run, together"
    ).to_pylist()
    records = reader.fetch(
        "SELECT count(*) AS labelled, count(m.source) AS in_run FROM (SELECT DISTINCT "
        "left_source AS source, left_key AS record_key FROM $labels) AS l "
        "LEFT JOIN $match AS m ON m.source = l.source AND m.record_key = l.record_key"
    ).to_pylist()[0]
    worst_rows = reader.fetch(
        "SELECT CAST(a.$pid AS VARCHAR) AS profile_id, count(*) AS wrong_pairs "
        "FROM $labels AS l JOIN $match AS a ON " + _LEFT + " JOIN $match AS b ON " + _RIGHT + " "
        "WHERE NOT l.flipped AND NOT l.is_match AND a.$pid = b.$pid "
        "GROUP BY CAST(a.$pid AS VARCHAR) ORDER BY wrong_pairs DESC, profile_id LIMIT $k",
        k=worst,
    ).to_pylist()
    run_records = reader.run_records()
    scored = [r for r in grouped if r["in_run"]]
    sources = sorted({r["left_source"] for r in scored} | {r["right_source"] for r in scored})
    return {
        "coverage": {
            "labelled_pairs": labels.num_rows,
            "pairs_not_in_run": labels.num_rows - sum(r["pairs"] for r in scored),
            "scored_pairs": sum(r["pairs"] for r in scored),
            "labelled_records": int(records["labelled"]),
            "labelled_not_in_run": int(records["labelled"] - records["in_run"]),
            "run_records": run_records,
            "run_records_not_labelled": run_records - int(records["in_run"]),
        },
        "scores": _pair_counts(scored),
        "per_source": [
            {"source": s}
            | _pair_counts([r for r in scored if s in (r["left_source"], r["right_source"])])
            for s in sources
        ],
        "per_rule": reader.per_rule("pairs"),
        "worst_profiles": worst_rows,
    }


def _annotated(config: Config, labels: Labels, worst: dict[str, Any]) -> dict[str, Any]:
    """The profile's `explain` answer with each record's entity and each link's verdict."""
    answer = explain_profile(config, worst["profile_id"])
    members = pa.Table.from_pylist(
        [{"source": r["source"], "record_key": r["record_key"]} for r in answer["records"]],
        schema=pa.schema([("source", pa.string()), ("record_key", pa.string())]),
    )
    if labels.kind == "clusters":
        found = members.join(labels.table, ["source", "record_key"]).to_pylist()
        entity = {(r["source"], r["record_key"]): r["entity"] for r in found}
        for record in answer["records"]:
            record["entity"] = entity.get((record["source"], record["record_key"]))
        for pair in answer["pairs"]:
            left = entity.get((pair["left_source"], pair["left_key"]))
            right = entity.get((pair["right_source"], pair["right_key"]))
            pair["same_entity"] = None if left is None or right is None else left == right
    else:
        keys = ["left_source", "left_key", "right_source", "right_key"]
        judged = _both_orientations(labels.table).select([*keys, "is_match"])
        in_profile = pa.Table.from_pylist(
            [{k: p[k] for k in keys} for p in answer["pairs"]],
            schema=pa.schema([(k, pa.string()) for k in keys]),
        )
        verdict = {
            tuple(r[k] for k in keys): r["is_match"]
            for r in in_profile.join(judged, keys).to_pylist()
        }
        for pair in answer["pairs"]:
            pair["same_entity"] = verdict.get(tuple(pair[k] for k in keys))
    return worst | {"explain": answer}


def evaluate(config: Config, labels: Labels, worst: int = DEFAULT_WORST) -> Answer:
    """Score the last published run against ``labels``; see the module docstring."""
    engine = open_published(config, "identity_match")
    try:
        reader = _Reader(config, engine)
        answer: Answer = {
            "labels": {"path": str(labels.path), "format": labels.kind},
            "run": reader.run(),
        }
        score = _scored_clusters if labels.kind == "clusters" else _scored_pairs
        answer.update(score(reader, labels.table, worst))
    finally:
        engine.close()
    # explain opens the engine itself: only once this command's connection is closed.
    answer["worst_profiles"] = [_annotated(config, labels, w) for w in answer["worst_profiles"]]
    return answer
