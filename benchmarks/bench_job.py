"""Run ONE benchmark job in this process and write its timings as JSON.

python benchmarks/bench_job.py JOB DATA_DIR WORK_DIR RESULT_JSON

`run.py` starts this script once per job so that each job's peak memory is its own. Only the
job's own module is imported: an idspine job never loads Splink and vice versa.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

IDSPINE_JOBS = ("idspine-full", "idspine-like-for-like")
SPLINK_JOBS = ("splink-deterministic", "splink-probabilistic")
# Only with --jobs (or --profile messy): full config with DuckDB's memory capped; the config
# for the messy noise profile.
EXTRA_JOBS = ("idspine-full-capped", "idspine-messy")
JOBS = (*IDSPINE_JOBS, *SPLINK_JOBS, *EXTRA_JOBS)


def job_runner(job: str) -> Callable[[Path, Path], dict[str, Any]]:
    if job in IDSPINE_JOBS or job in EXTRA_JOBS:
        import bench_idspine

        return lambda data, work: bench_idspine.run(job, data, work)
    if job == "splink-deterministic":
        import bench_splink

        return bench_splink.run_deterministic
    if job == "splink-probabilistic":
        import bench_splink

        return bench_splink.run_probabilistic
    raise ValueError(f"unknown job {job!r}; jobs: {', '.join(JOBS)}")


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    job, data_dir, work_dir, result_path = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    runner = job_runner(job)
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    outcome = runner(data_dir, work_dir)
    after = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds of the job (all threads): far less sensitive to other load than wall time.
    outcome["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux: the kernel's high-water mark of this process.
    outcome["max_rss_bytes"] = after.ru_maxrss * 1024
    result_path.write_text(json.dumps(outcome, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
