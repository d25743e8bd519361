"""`idspine evaluate`: hand-built labels with answers worked out below, bad label files, and
agreement with `quality.score_clusters` on the generator's truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from tests.conftest import ENGINES, project, write_csv
from typer.testing import CliRunner

import idspine
from idspine.commands.cli import app
from idspine.commands.evaluate import evaluate
from idspine.commands.evaluate_labels import read_labels
from idspine.commands.quality import score_clusters
from idspine_synthetic.generator import generate

IDENTIFIERS = {
    "email": {"type": "email"},
    "phone": {"type": "phone", "default_region": "FR"},
    "customer_id": {"type": "id", "limit": 1},
    "last_name": {"type": "name"},
}
RULES = [
    {"name": "same_email", "match": {"email": "exact"}},
    {"name": "phone_and_name", "match": {"phone": "exact", "last_name": "fuzzy_strong"}},
]
_BLANK = {"email": "", "phone": "", "customer_id": "", "last_name": "", "updated": "2024-01-01"}
CRM = [
    {**_BLANK, "id": "1", "email": "ann@mail.com", "last_name": "Lee"},
    {**_BLANK, "id": "2", "email": "ann@mail.com", "phone": "0611111111", "last_name": "Lee"},
    {**_BLANK, "id": "3", "email": "roy@mail.com", "last_name": "Roy"},  # a shared address:
    {**_BLANK, "id": "4", "email": "roy@mail.com", "last_name": "Roy"},  # two people
    {**_BLANK, "id": "5", "email": "kim@mail.com", "last_name": "Kim"},
    {**_BLANK, "id": "6", "email": "dan@mail.com", "last_name": "Day"},  # never labelled
    {**_BLANK, "id": "7", "email": "fam@mail.com", "customer_id": "C1", "last_name": "Fox"},
    {**_BLANK, "id": "8", "email": "fam@mail.com", "customer_id": "C2", "last_name": "Fox"},
]
SHOP = [
    {**_BLANK, "id": "1", "phone": "06 11 11 11 11", "last_name": "Lee"},
    {**_BLANK, "id": "2", "email": "kim.other@mail.com", "last_name": "Kim"},
]
# The run's profiles: {crm:1, crm:2, shop:1} (same_email, then phone_and_name),
# {crm:3, crm:4} (same_email), and singletons crm:5, crm:6, crm:7, crm:8, shop:2
# (crm:7 ~ crm:8 is refused: two customer ids over a limit of 1). 10 run records.
CLUSTER_LABELS = [
    ("crm", "1", "A"),
    ("crm", "2", "A"),
    ("shop", "1", "A"),
    ("crm", "3", "B"),
    ("crm", "4", "C"),
    ("crm", "5", "D"),
    ("shop", "2", "D"),
    ("crm", "7", "F"),
    ("crm", "8", "F"),
    ("shop", "9", "E"),  # not in the run
]
PAIR_LABELS = [
    ("crm", "1", "crm", "2", "true"),  # together: true positive
    ("shop", "1", "crm", "1", "1"),  # together (given right to left): true positive
    ("crm", "3", "crm", "4", "false"),  # together: false positive
    ("crm", "5", "shop", "2", "1"),  # apart: false negative
    ("crm", "5", "crm", "1", "0"),  # apart: true negative
    ("crm", "7", "crm", "8", "TRUE"),  # apart (refused pair): false negative
    ("crm", "1", "shop", "9", "true"),  # shop:9 is not in the run: not scored
]


def _run(tmp_path: Path, engine: str = "duckdb") -> idspine.Config:
    raw = project(
        tmp_path, {"crm": CRM, "shop": SHOP}, identifiers=IDENTIFIERS, rules=RULES, engine=engine
    )
    config = idspine.load_config(raw, base_dir=tmp_path)
    idspine.resolve(config).close()
    return config


def _labels_csv(tmp_path: Path, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Path:
    return write_csv(tmp_path / "labels.csv", [dict(zip(columns, r, strict=True)) for r in rows])


def _rule(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in answer["per_rule"] if r["rule"] == name)


@pytest.mark.parametrize("engine", ENGINES)
def test_cluster_labels(tmp_path: Path, engine: str) -> None:
    config = _run(tmp_path, engine)
    path = _labels_csv(tmp_path, ("source", "record_key", "entity"), CLUSTER_LABELS)
    answer = evaluate(config, read_labels(path))
    assert answer["coverage"] == {
        "labelled_records": 10,
        "labelled_not_in_run": 1,  # shop:9
        "run_records": 10,
        "run_records_not_labelled": 1,  # crm:6
        "scored_records": 9,
    }
    s = answer["scores"]
    # cells (profile, entity): ({c1,c2,s1}, A)=3, ({c3,c4}, B)=1, (.., C)=1, then singletons
    # c5:D, s2:D, c7:F, c8:F. TP = C(3,2) = 3; predicted = 3 + 1 = 4; true = A 3 + D 1 + F 1 = 5
    assert (s["true_positive_pairs"], s["predicted_pairs"], s["true_pairs"]) == (3, 4, 5)
    assert s["pairwise_precision"] == pytest.approx(3 / 4)
    assert s["pairwise_recall"] == pytest.approx(3 / 5)
    # B-cubed precision: sum n^2/|profile| = 9/3 + 1/2 + 1/2 + 1 + 1 + 1 + 1 = 8, over 9
    # B-cubed recall: sum n^2/|entity| = 9/3 + 1 + 1 + 1/2 + 1/2 + 1/2 + 1/2 = 7, over 9
    assert s["bcubed_precision"] == pytest.approx(8 / 9)
    assert s["bcubed_recall"] == pytest.approx(7 / 9)
    assert s["over_merged_clusters"] == 1
    assert s["split_persons"] == 2  # D and F
    # crm: 7 records; every predicted and correct pair touches crm; true pairs 3 + 1 + 1
    # shop: s1~c1, s1~c2 predicted and correct; true pairs s1~c1, s1~c2, s2~c5
    per_source = {r["source"]: r for r in answer["per_source"]}
    assert per_source["crm"]["records"] == 7
    crm_counts = [per_source["crm"][k] for k in ("true_positive_pairs", "predicted_pairs")]
    assert [*crm_counts, per_source["crm"]["true_pairs"]] == [3, 4, 5]
    assert per_source["shop"]["pairwise_precision"] == 1.0
    assert per_source["shop"]["pairwise_recall"] == pytest.approx(2 / 3)
    # same_email merged c1~c2 (A = A) and c3~c4 (B != C); crm:7 ~ crm:8 (F = F) was refused
    email = _rule(answer, "same_email")
    assert (email["merged"], email["merged_correct"], email["merged_wrong"]) == (2, 1, 1)
    assert email["precision"] == 0.5
    assert email["refused_same_entity"] == 1
    phone = _rule(answer, "phone_and_name")
    assert (phone["merged"], phone["merged_correct"], phone["precision"]) == (1, 1, 1.0)
    # the one over-merged profile, explained, its link marked wrong
    (worst,) = answer["worst_profiles"]
    assert (worst["entities"], worst["wrong_pairs"], worst["labelled_records"]) == (2, 1, 2)
    assert {r["entity"] for r in worst["explain"]["records"]} == {"B", "C"}
    assert [p["same_entity"] for p in worst["explain"]["pairs"]] == [False]


def test_pair_labels(tmp_path: Path) -> None:
    config = _run(tmp_path)
    columns = ("left_source", "left_key", "right_source", "right_key", "is_match")
    answer = evaluate(config, read_labels(_labels_csv(tmp_path, columns, PAIR_LABELS)))
    assert answer["coverage"] == {
        "labelled_pairs": 7,
        "pairs_not_in_run": 1,
        "scored_pairs": 6,
        "labelled_records": 10,
        "labelled_not_in_run": 1,
        "run_records": 10,
        "run_records_not_labelled": 1,
    }
    s = answer["scores"]
    # TP 2 (c1~c2, s1~c1), FP 1 (c3~c4), FN 2 (c5~s2, c7~c8): P = 2/3, R = 2/4
    assert (s["true_positive_pairs"], s["false_positive_pairs"], s["false_negative_pairs"]) == (
        2,
        1,
        2,
    )
    assert s["pairwise_precision"] == pytest.approx(2 / 3)
    assert s["pairwise_recall"] == pytest.approx(1 / 2)
    assert "bcubed_precision" not in s  # needs every record's entity
    per_source = {r["source"]: r for r in answer["per_source"]}
    assert per_source["crm"]["pairs"] == 6
    # shop: s1~c1 (TP) and c5~s2 (FN)
    assert per_source["shop"]["pairwise_precision"] == 1.0
    assert per_source["shop"]["pairwise_recall"] == 0.5
    email = _rule(answer, "same_email")
    assert (email["merged_correct"], email["merged_wrong"], email["refused_same_entity"]) == (
        1,
        1,
        1,
    )
    phone = _rule(answer, "phone_and_name")  # its one merge (c2~s1) is not a labelled pair
    assert (phone["merged"], phone["merged_correct"], phone["precision"]) == (1, 0, None)
    (worst,) = answer["worst_profiles"]
    assert worst["wrong_pairs"] == 1
    assert [p["same_entity"] for p in worst["explain"]["pairs"]] == [False]


def test_cli_table_and_json(tmp_path: Path) -> None:
    _run(tmp_path)
    config_path = tmp_path / "idspine.yml"
    raw = project(tmp_path, {"crm": CRM, "shop": SHOP}, identifiers=IDENTIFIERS, rules=RULES)
    config_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    labels = tmp_path / "labels.parquet"
    columns = ("source", "record_key", "entity")
    rows = [dict(zip(columns, r, strict=True)) for r in CLUSTER_LABELS]
    pq.write_table(pa.Table.from_pylist(rows), labels)
    runner = CliRunner()
    shown = runner.invoke(app, ["evaluate", str(config_path), "--labels", str(labels)])
    assert shown.exit_code == 0, shown.output
    assert "B-cubed" in shown.output
    assert "DIFFERENT entities" in shown.output
    printed = runner.invoke(app, ["evaluate", str(config_path), "-l", str(labels), "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["scores"]["pairwise_precision"] == 0.75


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("source,record_key\ncrm,1\n", "missing column(s) entity"),
        ("left_source,left_key,right_source,right_key\ncrm,1,crm,2\n", "missing column(s) is_"),
        ("source,record_key,entity\ncrm,1,A\ncrm,1,B\n", "1 duplicate record(s), e.g. crm:1"),
        ("source,record_key,entity\ncrm,,A\n", "column record_key: 1 empty"),
        (
            "left_source,left_key,right_source,right_key,is_match\ncrm,1,crm,2,1\ncrm,2,crm,1,0\n",
            "1 duplicate pair(s)",
        ),
        ("left_source,left_key,right_source,right_key,is_match\ncrm,1,crm,2,maybe\n", "'maybe'"),
        ("left_source,left_key,right_source,right_key,is_match\ncrm,1,crm,1,1\n", "itself"),
        ("source,record_key,entity\n", "no labels"),
        ('source,record_key,entity\n"crm,1,A\n', "cannot be read"),
    ],
)
def test_bad_label_files_exit_2(tmp_path: Path, content: str, message: str) -> None:
    config_path = tmp_path / "idspine.yml"
    raw = project(tmp_path, {"crm": CRM}, identifiers=IDENTIFIERS, rules=RULES)
    config_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    labels = tmp_path / "bad.csv"
    labels.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(config_path), "--labels", str(labels)])
    assert result.exit_code == 2
    assert str(labels) in result.output
    assert message in result.output


def test_unreadable_and_absent_files(tmp_path: Path) -> None:
    not_parquet = tmp_path / "labels.parquet"
    not_parquet.write_text("source,record_key,entity\n", encoding="utf-8")
    with pytest.raises(idspine.errors.InputError, match=r"labels\.parquet: cannot be read"):
        read_labels(not_parquet)
    with pytest.raises(idspine.errors.InputError, match=r"missing\.csv: no such file"):
        read_labels(tmp_path / "missing.csv")


def test_generator_truth_reproduces_score_clusters(tmp_path: Path) -> None:
    dataset = generate(3_000, tmp_path / "data", seed=5)
    config_file = Path(__file__).resolve().parents[1] / "benchmarks" / "configs" / "full.yml"
    raw = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    for source in raw["sources"].values():
        source["path"] = str(dataset.out_dir / source["path"].removeprefix("DATA/"))
    raw["output"]["database"] = str(tmp_path / "out.duckdb")
    config = idspine.load_config(raw, base_dir=tmp_path)
    with idspine.resolve(config) as result:
        match = result.arrow("identity_match")
    predicted = pa.table(
        {
            "source": match.column("source"),
            "record_key": match.column("record_key"),
            "cluster_id": match.column("profile_id").cast(pa.string()),
        }
    )
    truth = pq.read_table(dataset.truth_path)
    expected = score_clusters(predicted, truth).as_dict()
    labels = tmp_path / "labels.parquet"
    pq.write_table(truth.rename_columns(["source", "record_key", "entity"]), labels)
    answer = evaluate(config, read_labels(labels))
    assert answer["scores"] == expected
    assert answer["coverage"]["run_records_not_labelled"] == 0
    # per-source counts add up: every predicted pair touches one or two sources
    assert sum(r["records"] for r in answer["per_source"]) == expected["n_records"]
    assert all(r["predicted_pairs"] <= expected["predicted_pairs"] for r in answer["per_source"])
