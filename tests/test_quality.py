from __future__ import annotations

from itertools import combinations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idspine.commands.quality import QualityScores, score_clusters
from idspine.errors import InputError


def _tables(persons: list[int], clusters: list[str | None]) -> tuple[pa.Table, pa.Table]:
    keys = [f"r{i}" for i in range(len(persons))]
    sources = ["crm_contacts"] * len(persons)
    truth = pa.table(
        {
            "source": sources,
            "record_key": keys,
            "person_id": pa.array(persons, pa.int64()),
        }
    )
    predicted = pa.table(
        {
            "source": sources,
            "record_key": keys,
            "cluster_id": pa.array(clusters, pa.string()),
        }
    )
    return predicted, truth


def _brute_force(persons: list[int], clusters: list[str | None]) -> tuple[float, float]:
    labels = [c if c is not None else f"\0singleton{i}" for i, c in enumerate(clusters)]
    pairs = list(combinations(range(len(persons)), 2))
    same_cluster = {(i, j) for i, j in pairs if labels[i] == labels[j]}
    same_person = {(i, j) for i, j in pairs if persons[i] == persons[j]}
    tp = len(same_cluster & same_person)
    precision = tp / len(same_cluster) if same_cluster else 1.0
    recall = tp / len(same_person) if same_person else 1.0
    return precision, recall


def test_perfect_clustering_scores_one_everywhere() -> None:
    persons = [1, 1, 1, 2, 2, 3]
    predicted, truth = _tables(persons, ["a", "a", "a", "b", "b", "c"])
    s = score_clusters(predicted, truth)
    for name in ("pairwise_precision", "pairwise_recall", "pairwise_f1"):
        assert getattr(s, name) == 1.0
    for name in ("bcubed_precision", "bcubed_recall", "bcubed_f1"):
        assert getattr(s, name) == pytest.approx(1.0)
    assert s.n_clusters == 3
    assert s.n_persons == 3
    assert s.over_merged_clusters == 0
    assert s.split_persons == 0
    assert s.largest_cluster == 3
    assert s.true_positive_pairs == s.predicted_pairs == s.true_pairs == 4


def test_everything_in_one_cluster() -> None:
    persons = [1, 1, 1, 2, 2, 3]  # true pairs: 3 + 1 = 4
    predicted, truth = _tables(persons, ["x"] * 6)
    s = score_clusters(predicted, truth)
    assert s.predicted_pairs == 15
    assert s.true_positive_pairs == 4
    assert s.pairwise_precision == pytest.approx(4 / 15)
    assert s.pairwise_recall == 1.0
    assert s.pairwise_f1 == pytest.approx(2 * (4 / 15) / (4 / 15 + 1))
    # B-cubed precision: (3 * 3/6 + 2 * 2/6 + 1 * 1/6) / 6 = 14/36
    assert s.bcubed_precision == pytest.approx(14 / 36)
    assert s.bcubed_recall == pytest.approx(1.0)
    assert s.n_clusters == 1
    assert s.over_merged_clusters == 1
    assert s.largest_cluster == 6


def test_all_singletons_including_nulls() -> None:
    persons = [1, 1, 1, 2, 2, 3]
    predicted, truth = _tables(persons, [None, None, "s3", "s4", None, "s6"])
    s = score_clusters(predicted, truth)
    assert s.n_clusters == 6
    assert s.predicted_pairs == 0
    assert s.true_positive_pairs == 0
    assert s.pairwise_precision == 1.0  # no predicted pair: nothing wrong was claimed
    assert s.pairwise_recall == 0.0
    assert s.pairwise_f1 == 0.0
    assert s.bcubed_precision == pytest.approx(1.0)
    # B-cubed recall: (3 * 1/3 + 2 * 1/2 + 1 * 1) / 6 = 3/6
    assert s.bcubed_recall == pytest.approx(0.5)
    assert s.split_persons == 2
    assert s.largest_cluster == 1


def test_worked_example() -> None:
    # person 1: r0 r1 r2 r3; person 2: r4 r5; person 3: r6
    # clusters: A = {r0, r1, r4}, B = {r2, r3}, C = {r5, r6}
    persons = [1, 1, 1, 1, 2, 2, 3]
    clusters: list[str | None] = ["A", "A", "B", "B", "A", "C", "C"]
    predicted, truth = _tables(persons, clusters)
    s = score_clusters(predicted, truth)
    # cells: (A,1)=2 (A,2)=1 (B,1)=2 (C,2)=1 (C,3)=1 -> TP = 1 + 0 + 1 + 0 + 0 = 2
    # predicted pairs: C(3,2) + C(2,2) + C(2,2) = 3 + 1 + 1 = 5
    # true pairs: C(4,2) + C(2,2) + C(1,2) = 6 + 1 + 0 = 7
    assert s.true_positive_pairs == 2
    assert s.predicted_pairs == 5
    assert s.true_pairs == 7
    assert s.pairwise_precision == pytest.approx(2 / 5)
    assert s.pairwise_recall == pytest.approx(2 / 7)
    assert s.pairwise_f1 == pytest.approx(2 * (2 / 5) * (2 / 7) / (2 / 5 + 2 / 7))
    # B-cubed precision: sum n^2/|c| = 4/3 + 1/3 + 4/2 + 1/2 + 1/2 = 14/3, over 7 records
    assert s.bcubed_precision == pytest.approx((14 / 3) / 7)
    # B-cubed recall: sum n^2/|p| = 4/4 + 1/2 + 4/4 + 1/2 + 1/1 = 4, over 7 records
    assert s.bcubed_recall == pytest.approx(4 / 7)
    bp, br = (14 / 3) / 7, 4 / 7
    assert s.bcubed_f1 == pytest.approx(2 * bp * br / (bp + br))
    assert s.n_clusters == 3
    assert s.n_persons == 3
    assert s.over_merged_clusters == 2  # A (persons 1, 2) and C (persons 2, 3)
    assert s.split_persons == 2  # person 1 in A and B, person 2 in A and C
    assert s.largest_cluster == 3


def test_records_missing_from_predicted_are_singletons() -> None:
    persons = [1, 1, 2]
    predicted, truth = _tables(persons, ["a", "a", "b"])
    s_full = score_clusters(predicted, truth)
    s_partial = score_clusters(predicted.slice(0, 1), truth)
    assert s_full.pairwise_recall == 1.0
    assert s_partial.n_clusters == 3
    assert s_partial.pairwise_recall == 0.0
    assert s_partial.n_records == 3


def test_as_dict_and_frozen() -> None:
    predicted, truth = _tables([1, 2], ["a", "b"])
    s = score_clusters(predicted, truth)
    d = s.as_dict()
    assert d["n_records"] == 2
    assert set(d) == set(QualityScores.__dataclass_fields__)
    with pytest.raises(AttributeError):
        s.n_records = 3  # type: ignore[misc]


def test_duplicate_keys_and_missing_columns_are_rejected() -> None:
    predicted, truth = _tables([1, 2], ["a", "b"])
    with pytest.raises(InputError, match="duplicate"):
        score_clusters(pa.concat_tables([predicted, predicted]), truth)
    with pytest.raises(InputError, match="truth: 1 duplicate"):
        score_clusters(predicted, pa.concat_tables([truth, truth.slice(0, 1)]))
    with pytest.raises(InputError, match="cluster_id"):
        score_clusters(predicted.drop_columns(["cluster_id"]), truth)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.one_of(st.none(), st.sampled_from("abcde"))),
        min_size=0,
        max_size=25,
    )
)
def test_pairwise_matches_brute_force(rows: list[tuple[int, str | None]]) -> None:
    persons = [p for p, _ in rows]
    clusters = [c for _, c in rows]
    predicted, truth = _tables(persons, clusters)
    s = score_clusters(predicted, truth)
    precision, recall = _brute_force(persons, clusters)
    assert s.pairwise_precision == pytest.approx(precision)
    assert s.pairwise_recall == pytest.approx(recall)
    assert s.n_records == len(rows)
