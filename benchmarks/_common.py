"""Shared helpers of the benchmark scripts: timing, peak memory, a results table."""

import json
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def best_of(func, repeat=3):
    """Best wall time of ``repeat`` calls (shared machines: the minimum is the
    least disturbed run)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mb():
    """Peak resident memory of this process so far, in MB (Linux: ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name, rows):
    """Print rows (dicts) as a table and save them as JSON in benchmarks/results."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2, default=str))
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print(" | ".join(keys))
    for r in rows:
        print(
            " | ".join(
                f"{r.get(k):.4g}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                for k in keys
            )
        )
