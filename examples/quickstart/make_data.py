"""Write the quickstart's three source files of a fictional shop (deterministic).

    python examples/quickstart/make_data.py

A CRM export (CSV, local date format), e-commerce customers (Parquet) and app users (CSV,
epoch seconds), with the duplicates, typos, format variations and junk values of real
exports. The ground truth (which records are the same person) goes to truth.csv.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from idspine_synthetic.generator import generate

HERE = Path(__file__).resolve().parent
RECORDS = 4000
SEED = 7


def main() -> None:
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        dataset = generate(RECORDS, Path(scratch), seed=SEED, file_format="parquet")
        for name in ("crm_contacts", "app_users"):
            pacsv.write_csv(pq.read_table(dataset.paths[name]), data / f"{name}.csv")
        shutil.copyfile(dataset.paths["shop_customers"], data / "shop_customers.parquet")
        kept = {"crm_contacts", "shop_customers", "app_users"}
        truth = pq.read_table(dataset.truth_path).to_pandas()
        pacsv.write_csv(
            pq.read_table(dataset.truth_path).filter(truth["source"].isin(kept).to_numpy()),
            data / "truth.csv",
        )
    for path in sorted(data.iterdir()):
        print(f"wrote {path.relative_to(HERE)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
