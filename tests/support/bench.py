"""Helpers the benchmarks share: where results go, peak memory, percentiles."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def write_result(path: Path, data) -> None:
    """Save a benchmark's result as JSON (under ``RESULTS`` by convention) and say where."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path}")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), for benchmarks.

    Not ``getrusage``: Linux carries ``ru_maxrss`` across exec, so a child
    started by a parent holding the model would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` by nearest rank (0.0 for none), for benchmark tables."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


FIT_REPORT = Path(__file__).resolve().parent.parent.parent / "assistant" / "fit-report.json"


def record_fit(section: str, provenance: dict, path: Path = FIT_REPORT) -> None:
    """Store how a fit chose what it wrote into params.json (its data, rule,
    grid and numbers) under ``section`` of the report beside that file: read
    by people, never by askdoc."""
    import json

    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    report[section] = provenance
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
