"""Rich tables for `idspine evaluate` (the same answer is printed whole with --json)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["print_evaluation"]

_VERDICT = {True: "same entity", False: "DIFFERENT entities", None: "not labelled"}


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _scores_table(answer: dict[str, Any]) -> Table:
    scores = answer["scores"]
    table = Table(title="Scores", title_justify="left")
    for column in ("measure", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        "pairwise",
        _score(scores["pairwise_precision"]),
        _score(scores["pairwise_recall"]),
        _score(scores["pairwise_f1"]),
    )
    if answer["labels"]["format"] == "clusters":
        table.add_row(
            "B-cubed",
            _score(scores["bcubed_precision"]),
            _score(scores["bcubed_recall"]),
            _score(scores["bcubed_f1"]),
        )
    return table


def _coverage_line(answer: dict[str, Any]) -> str:
    c = answer["coverage"]
    if answer["labels"]["format"] == "pairs":
        head = (
            f"{c['scored_pairs']:,} of {c['labelled_pairs']:,} labelled pairs scored "
            f"({c['pairs_not_in_run']:,} with a record the run does not hold); "
        )
    else:
        head = f"{c['scored_records']:,} labelled records scored; "
    return head + (
        f"{c['labelled_not_in_run']:,} labelled records not in the run, "
        f"{c['run_records_not_labelled']:,} of {c['run_records']:,} run records without a label"
    )


def _counts_line(answer: dict[str, Any]) -> str:
    s = answer["scores"]
    if answer["labels"]["format"] == "pairs":
        return (
            f"true positives {s['true_positive_pairs']:,}, false positives "
            f"{s['false_positive_pairs']:,}, false negatives {s['false_negative_pairs']:,}"
        )
    return (
        f"pairs: {s['true_positive_pairs']:,} correct of {s['predicted_pairs']:,} predicted, "
        f"{s['true_pairs']:,} true; {s['n_clusters']:,} profiles for {s['n_persons']:,} "
        f"entities; {s['over_merged_clusters']:,} profiles over-merged, "
        f"{s['split_persons']:,} entities split"
    )


def _per_source_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Per source (pairs with a record of the source)", title_justify="left")
    for column in ("source", "precision", "recall", "F1", "correct", "predicted", "true"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for row in rows:
        table.add_row(
            escape(row["source"]),
            _score(row["pairwise_precision"]),
            _score(row["pairwise_recall"]),
            _score(row["pairwise_f1"]),
            f"{row['true_positive_pairs']:,}",
            f"{row['predicted_pairs']:,}",
            f"{row['true_pairs']:,}",
        )
    return table


def _per_rule_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Per rule (its merged pairs, judged by the labels)", title_justify="left")
    headers = ("rule", "merged", "correct", "wrong", "precision", "refused: same entity")
    for column in headers:
        table.add_column(column, justify="left" if column == "rule" else "right")
    for row in rows:
        table.add_row(
            escape(row["rule"]),
            f"{row['merged']:,}",
            f"{row['merged_correct']:,}",
            f"{row['merged_wrong']:,}",
            _score(row["precision"]),
            f"{row['refused_same_entity']:,}",
        )
    return table


def _worst_lines(worst: dict[str, Any]) -> list[str]:
    explained = worst["explain"]
    head = f"profile {worst['profile_id']}: {worst['wrong_pairs']:,} wrongly linked pair(s)"
    if "entities" in worst:
        head += f", {worst['entities']} entities in {worst['labelled_records']} labelled records"
    lines = [head]
    for record in explained["records"]:
        entity = record.get("entity")
        label = "" if entity is None else f"  entity {entity}"
        lines.append(f"    {record['source']}:{record['record_key']}{label}")
    for pair in explained["pairs"]:
        if pair["status"] != "merged":
            continue
        lines.append(
            f"    {pair['left_source']}:{pair['left_key']} ~ {pair['right_source']}:"
            f"{pair['right_key']}  rule {pair['rule']}  score {pair['score']:.3f}  "
            f"{_VERDICT[pair['same_entity']]}"
        )
    return lines


def print_evaluation(answer: dict[str, Any], console: Console) -> None:
    """The scores, breakdowns and worst profiles as tables and plain lines."""
    run = answer["run"]
    if run.get("held_note"):
        console.print(f"note: {run['held_note']}", markup=False, highlight=False)
    console.print(
        f"Run {run['run_id']} against {answer['labels']['format']} labels "
        f"{answer['labels']['path']}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(_coverage_line(answer), markup=False, highlight=False, soft_wrap=True)
    console.print(_scores_table(answer))
    console.print(_counts_line(answer), markup=False, highlight=False, soft_wrap=True)
    console.print(_per_source_table(answer["per_source"]))
    console.print(_per_rule_table(answer["per_rule"]))
    if answer["worst_profiles"]:
        console.print("Worst over-merged profiles (merged links with the labels' verdict):")
        for worst in answer["worst_profiles"]:
            for line in _worst_lines(worst):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("No profile links records the labels keep apart.")
