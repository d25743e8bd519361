"""Speed, memory and quality of idspine, side by side with Splink, written to RESULTS.md.

python benchmarks/run.py --sizes 100k 1m [10m] [--splink] [--profile default|messy]
    [--output benchmarks/RESULTS.md] [--data-dir benchmarks/data]

Per size the synthetic dataset is generated once (cached under DATA_DIR/<size>), then each
job runs in its own subprocess (peak RSS of that process tree sampled every 0.1 s) and its
clusters are scored against the generator's truth. Measurements accumulate in the JSON file
next to the output (`RESULTS.json`): a run replaces the sizes and jobs it measures and keeps
the others, and the Markdown is rendered from all of them (`--render-only` re-renders).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench_idspine import read_predicted
from bench_job import IDSPINE_JOBS, JOBS, SPLINK_JOBS
from bench_measure import ensure_dataset, machine, measure_job, parse_size, size_label
from bench_render import render
from idspine.commands.quality import score_clusters
from idspine_synthetic.generator import NOISE_PROFILES

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_PROBABILISTIC_MAX = "1m"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100k", "1m"], help="e.g. 100k 1m 10m")
    parser.add_argument("--splink", action="store_true", help="also run the Splink jobs")
    parser.add_argument("--jobs", nargs="+", choices=JOBS, help="only these jobs")
    parser.add_argument(
        "--profile",
        choices=tuple(NOISE_PROFILES),
        default="default",
        help="generator noise profile; messy runs idspine-full and idspine-messy and writes "
        "RESULTS-messy.md unless --output says otherwise",
    )
    parser.add_argument("--output", type=Path, help="default benchmarks/RESULTS.md")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument(
        "--probabilistic-max",
        default=DEFAULT_PROBABILISTIC_MAX,
        help="largest size the Splink probabilistic job runs at (default %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per job")
    parser.add_argument("--no-febrl", action="store_true", help="skip the FEBRL quality check")
    parser.add_argument("--fresh", action="store_true", help="forget earlier measurements")
    parser.add_argument("--render-only", action="store_true", help="re-render, measure nothing")
    return parser.parse_args(argv)


CAPPED_FROM = 10_000_000


def jobs_for(records: int, args: argparse.Namespace) -> list[str]:
    """The jobs to run at this size: --jobs, else idspine's (and Splink's with --splink)."""
    if args.jobs:
        jobs = [job for job in JOBS if job in args.jobs]
    elif args.profile == "messy":
        jobs = ["idspine-full", "idspine-messy", *(SPLINK_JOBS if args.splink else ())]
    else:
        jobs = [*IDSPINE_JOBS, *SPLINK_JOBS] if args.splink else list(IDSPINE_JOBS)
    if records > parse_size(args.probabilistic_max):
        jobs = [job for job in jobs if job != "splink-probabilistic"]
    if not args.jobs and records >= CAPPED_FROM and "idspine-full" in jobs:
        # Where DuckDB's buffer pool grows past what the run needs, also show a capped run.
        jobs.insert(jobs.index("idspine-full") + 1, "idspine-full-capped")
    return jobs


def read_clusters(job: str, work_dir: Path) -> pa.Table:
    if job in SPLINK_JOBS:
        from bench_splink import CLUSTERS_FILE

        return pq.read_table(work_dir / CLUSTERS_FILE)
    return read_predicted(job, work_dir)


def load_results(path: Path, fresh: bool) -> dict[str, Any]:
    if path.exists() and not fresh:
        results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return results
    return {"sizes": {}}


def save(results: dict[str, Any], json_path: Path, output: Path) -> None:
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    output.write_text(render(results, json_path.name), encoding="utf-8")


def measure_size(
    records: int, args: argparse.Namespace, command: str, results: dict[str, Any], save_all: Any
) -> None:
    label = size_label(records)
    started = time.perf_counter()
    data_dir = ensure_dataset(records, args.data_dir, args.profile)
    print(f"[{label}] data ready in {data_dir} ({time.perf_counter() - started:.1f} s)")
    truth = pq.read_table(data_dir / "truth.parquet")
    entry = results["sizes"].setdefault(label, {"records": records, "jobs": {}})
    entry["records"] = records
    for job in jobs_for(records, args):
        profiled = label if args.profile == "default" else f"{args.profile}-{label}"
        work_dir = args.data_dir / "work" / profiled / job
        outcome = measure_job(job, data_dir, work_dir, args.timeout)
        if outcome["status"] == "ok":
            outcome["quality"] = score_clusters(read_clusters(job, work_dir), truth).as_dict()
        outcome["command"] = command
        outcome["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        entry["jobs"][job] = outcome
        save_all()
        print(f"[{label}] {job}: {_summary(outcome)}")


def _summary(outcome: dict[str, Any]) -> str:
    if outcome["status"] != "ok":
        return f"{outcome['status']} {outcome.get('error', '')[-500:]}"
    quality = outcome["quality"]
    return (
        f"{outcome['wall_seconds']:.2f} s, peak {outcome['peak_rss_bytes'] / 2**30:.2f} GiB, "
        f"P {quality['pairwise_precision']:.4f} R {quality['pairwise_recall']:.4f} "
        f"F1 {quality['pairwise_f1']:.4f} (load {outcome['load_before']:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    words = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/run.py", *words])
    name = "RESULTS.md" if args.profile == "default" else f"RESULTS-{args.profile}.md"
    output: Path = args.output or BENCH_DIR / name
    json_path = output.with_suffix(".json")
    results = load_results(json_path, args.fresh)
    if args.render_only:
        output.write_text(render(results, json_path.name), encoding="utf-8")
        return 0
    results["machine"] = machine()
    output.parent.mkdir(parents=True, exist_ok=True)

    def save_all() -> None:
        save(results, json_path, output)

    for size in args.sizes:
        measure_size(parse_size(size), args, command, results, save_all)
    if not args.no_febrl:
        import febrl

        results["febrl"] = febrl.evaluate(args.data_dir / "work" / "febrl")
        results["febrl_command"] = command
        for row in results["febrl"]:
            print(f"[febrl] {row['dataset']}: F1 {row['quality']['pairwise_f1']:.4f}")
    save_all()
    print(f"wrote {output} and {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
