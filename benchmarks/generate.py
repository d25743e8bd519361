"""Generate a synthetic customer dataset with ground truth.

python benchmarks/generate.py --records 1000000 --out benchmarks/data/1m [--seed 42]
    [--format parquet|csv] [--profile default|messy]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from idspine_synthetic.generator import NOISE_PROFILES, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True, help="number of records")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument(
        "--profile", choices=tuple(NOISE_PROFILES), default="default", help="noise profile"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    dataset = generate(
        args.records, args.out, seed=args.seed, file_format=args.format, noise=args.profile
    )
    elapsed = time.perf_counter() - start

    for source, count in dataset.counts.items():
        print(f"{source:<24} {count:>12,}  {dataset.paths[source]}")
    print(f"{'truth':<24} {dataset.n_records:>12,}  {dataset.truth_path}")
    print(f"persons: {dataset.n_people:,}  records: {dataset.n_records:,}")
    print(f"elapsed: {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
