"""The benchmark harness end to end on a tiny dataset (idspine jobs only), so it keeps working."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def harness() -> object:
    pytest.importorskip("psutil")
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import run

        yield run
    finally:
        sys.path.remove(str(BENCH_DIR))


def test_harness_measures_and_renders(harness: object, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    argv = ["--sizes", "3k", "--no-febrl", "--output", str(output)]
    argv += ["--data-dir", str(tmp_path / "data")]
    assert harness.main(argv) == 0  # type: ignore[attr-defined]

    results = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    jobs = results["sizes"]["3k"]["jobs"]
    assert set(jobs) == {"idspine-full", "idspine-like-for-like"}
    for outcome in jobs.values():
        assert outcome["status"] == "ok", outcome.get("error")
        assert outcome["wall_seconds"] > 0
        assert outcome["process_seconds"] >= outcome["wall_seconds"]
        assert outcome["peak_rss_bytes"] > 0
        assert set(outcome["stages"]) >= {"read", "standardize", "candidates", "cluster"}
        quality = outcome["quality"]
        assert quality["n_records"] == 3000
        for name in ("pairwise_precision", "pairwise_recall", "pairwise_f1"):
            assert 0.0 <= quality[name] <= 1.0
        assert 0.0 < quality["bcubed_precision"] <= 1.0
        assert quality["largest_cluster"] >= 1

    text = output.read_text(encoding="utf-8")
    assert "| idspine-full |" in text
    assert "## Targets" in text
    # a second run reuses the cached dataset and keeps earlier sizes in the JSON
    marker = tmp_path / "data" / "3k" / "dataset.json"
    stamp = marker.stat().st_mtime_ns
    argv2 = [*argv[:1], "2k", *argv[2:], "--jobs", "idspine-like-for-like"]
    assert harness.main(argv2) == 0  # type: ignore[attr-defined]
    assert marker.stat().st_mtime_ns == stamp
    results = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(results["sizes"]) == {"2k", "3k"}


def test_messy_profile_runs_the_messy_config(harness: object, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS-messy.md"
    argv = ["--sizes", "2k", "--profile", "messy", "--no-febrl", "--output", str(output)]
    argv += ["--data-dir", str(tmp_path / "data")]
    assert harness.main(argv) == 0  # type: ignore[attr-defined]
    assert (tmp_path / "data" / "messy-2k" / "dataset.json").exists()
    jobs = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))["sizes"]["2k"]
    assert set(jobs["jobs"]) == {"idspine-full", "idspine-messy"}
    for outcome in jobs["jobs"].values():
        assert outcome["status"] == "ok", outcome.get("error")
        assert 0.5 < outcome["quality"]["pairwise_f1"] <= 1.0
