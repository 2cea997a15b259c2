"""Shared helpers of the benchmark scripts: timing, peak memory, a results table."""

import json
import os
import resource
import shutil
import threading
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


def best_of_alternating(funcs, repeat=5, warmup=True):
    """``{name: best wall time}`` of the callables ``funcs`` (a dict), called in
    turn ``repeat`` times (after one untimed warm-up round): on a shared machine
    every contender then meets the same load, so their ratio is fair."""
    best = {}
    for round_ in range(repeat + bool(warmup)):
        for name, func in funcs.items():
            t0 = time.perf_counter()
            func()
            seconds = time.perf_counter() - t0
            if round_ or not warmup:
                best[name] = min(best.get(name, seconds), seconds)
    return best


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


def current_rss_mb():
    """Resident memory of this process now, in MB (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb(pid) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # the process has just ended
        return 0.0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb() -> float:
    """Resident memory of this process and all its descendants now, in MB (the
    package's worker process for UMAP runs included)."""
    children = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += _rss_mb(pid)
        todo.extend(children.get(pid, []))
    return total


class RSSSampler(threading.Thread):
    """Peak resident memory of this process, sampled every ``interval`` s (sees
    peaks that ``ru_maxrss`` of a process started earlier would hide), and of
    the process with its descendants (``tree_peak``)."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True)
        self.interval, self.peak, self._done = interval, 0.0, threading.Event()
        self.tree_peak = 0.0

    def run(self):
        while not self._done.is_set():
            self.peak = max(self.peak, current_rss_mb())
            self.tree_peak = max(self.tree_peak, tree_rss_mb())
            time.sleep(self.interval)

    def stop(self):
        self._done.set()
        self.join()
        return self.peak


def film_scan_path(folder, n, detector) -> Path:
    """Where :func:`cached_film_scan` keeps the ``n x n`` scan."""
    return Path(folder) / f"film_{n}x{n}_{detector}x{detector}_uint16.zspy"


def cached_film_scan(folder, n, detector, chunk_rows=None, uncompressed=False):
    """A simulated ``n x n`` film scan of uint16 patterns as ``.zspy`` (``Path``,
    generation info), made once and reused by later runs.

    The lazy film of :mod:`hyperspy_manifold.data` (12 grains, seed 0) is
    rendered and written chunk by chunk under a temporary name, renamed when
    complete; its ground-truth labels go beside it (``.npy``).  ``chunk_rows``
    scan rows per chunk (default: dask's); ``uncompressed`` writes Blosc level
    0, since the simulated patterns are mostly zeros and would shrink 20-fold,
    which real detector noise does not allow.
    """
    import dask.array as da
    import numcodecs
    import numpy as np

    from hyperspy_manifold.data import polycrystalline_film

    path = film_scan_path(folder, n, detector)
    info_file = path.with_suffix(".json")
    if path.exists() and info_file.exists():
        return path, json.loads(info_file.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".partial-" + path.name)
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    s, truth = polycrystalline_film(
        shape=(n, n), detector=detector, n_grains=12, lazy=True, random_state=0
    )
    # Poisson counts: integers, far below the uint16 range; clip for safety.
    data = da.clip(s.data, 0, np.iinfo(np.uint16).max).astype(np.uint16)
    s.data = data if chunk_rows is None else data.rechunk((chunk_rows, -1, -1, -1))
    kwargs = {}
    if uncompressed:
        kwargs["compressor"] = numcodecs.Blosc(cname="zstd", clevel=0)
    s.save(tmp, **kwargs)
    tmp.rename(path)
    seconds = time.perf_counter() - t0
    np.save(path.with_suffix(".npy"), truth.labels)
    info = {
        "scan": f"{n}x{n}x{detector}x{detector} uint16",
        "raw_GB": n * n * detector * detector * 2 / 1e9,
        "on_disk_GB": sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        / 1e9,
        "generation_s": seconds,
        "generation_peak_rss_MB": peak_rss_mb(),
    }
    info_file.write_text(json.dumps(info, indent=2))
    return path, info


def run_child(script, args) -> dict:
    """Run ``python script --child *args`` in a fresh process (its own peak RSS)
    and return the JSON it prints on a line starting with ``RESULT ``."""
    import subprocess
    import sys

    command = [sys.executable, str(script), "--child", *map(str, args)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])
