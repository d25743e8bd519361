"""Measurement helpers: cached datasets, one subprocess per job with its peak memory sampled,
and a description of the machine."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
SAMPLE_SECONDS = 0.1
SEED = 42
PACKAGES = (
    "idspine",
    "duckdb",
    "splink",
    "recordlinkage",
    "pyarrow",
    "numpy",
    "scipy",
    "pandas",
    "sqlglot",
    "phonenumbers",
    "psutil",
)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([km]?)$")


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1m`` -> 1000000, ``3000`` -> 3000."""
    match = _SIZE.match(text.strip().lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (examples: 3000, 100k, 1m, 10m)")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


def size_label(records: int) -> str:
    for factor, unit in ((1_000_000, "m"), (1_000, "k")):
        if records % factor == 0:
            return f"{records // factor}{unit}"
    return str(records)


def ensure_dataset(records: int, data_dir: Path, profile: str = "default") -> Path:
    """Generate the dataset once (in a subprocess) and reuse it when its marker matches."""
    default = profile == "default"
    out = data_dir / (size_label(records) if default else f"{profile}-{size_label(records)}")
    marker = out / "dataset.json"
    wanted: dict[str, object] = {"records": records, "seed": SEED, "format": "parquet"}
    if not default:  # the default profile's markers stay as they were: caches remain valid
        wanted["profile"] = profile
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
        return out
    command = [sys.executable, str(BENCH_DIR / "generate.py"), "--records", str(records)]
    command += ["--out", str(out), "--seed", str(SEED), "--profile", profile]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return out


def _tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants (threads are inside them)."""
    total = 0
    for member in (process, *process.children(recursive=True)):
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def measure_job(
    job: str, data_dir: Path, work_dir: Path, timeout: float | None = None
) -> dict[str, Any]:
    """Run `bench_job.py` for one job; sample the RSS of its process tree every 0.1 s."""
    result_path = work_dir.parent / f"{work_dir.name}.result.json"
    log_path = work_dir.parent / f"{work_dir.name}.log"
    work_dir.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH_DIR / "bench_job.py"), job, str(data_dir)]
    command += [str(work_dir), str(result_path)]
    source = source_state()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    peak, timed_out = 0, False
    with log_path.open("wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        process = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                peak = max(peak, _tree_rss(process))
            except psutil.NoSuchProcess:
                break
            if timeout is not None and time.perf_counter() - started > timeout:
                child.kill()
                timed_out = True
                break
            time.sleep(SAMPLE_SECONDS)
        child.wait()
    process_seconds = time.perf_counter() - started
    base = {
        "job": job,
        "process_seconds": process_seconds,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "source": source,
    }
    if timed_out:
        return {**base, "status": "timeout", "timeout_seconds": timeout, "peak_rss_bytes": peak}
    if child.returncode != 0 or not result_path.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        return {**base, "status": "failed", "error": tail, "peak_rss_bytes": peak}
    outcome: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    # The sampled tree peak can miss a short spike; the kernel's high-water mark cannot.
    outcome["sampled_peak_rss_bytes"] = peak
    outcome["peak_rss_bytes"] = max(peak, int(outcome.get("max_rss_bytes", 0)))
    return {**base, "status": "ok", **outcome}


def source_state() -> str:
    """The commit the package was measured at, and whether src/ had uncommitted changes."""
    root = BENCH_DIR.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=10", "HEAD")
    if not commit:
        return "unknown"
    return commit + (" + uncommitted src/ changes" if git("status", "--porcelain", "src") else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_bytes": psutil.virtual_memory().total,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
