"""What the first call of a new Python process costs: numba compilation of
umap-learn's kernels, with and without the package's on-disk JIT cache.

Every run is a fresh process (as a CLI run, a notebook kernel or a dask worker
is) timing ``import hyperspy_manifold`` and one default
``manifold_decomposition`` of a small 12 x 12 scan.  All runs share one empty
temporary ``NUMBA_CACHE_DIR``:

* ``uncached``: ``HYPERSPY_MANIFOLD_NO_JIT_CACHE=1``, umap-learn as shipped
  (what every process paid before the cache);
* ``cold``: the cache on, first run on the machine (compiles and writes it);
* ``warm``: the cache on, every later process (loads it).

The table gives the wall times and the ratio warm / uncached (same machine,
same load, runs interleaved).  Run: ``python benchmarks/bench_first_call.py``.
"""

import os
import subprocess
import sys
import tempfile

from _common import report

SCRIPT = """
import time
t0 = time.perf_counter()
import numpy as np, hyperspy.api as hs
import hyperspy_manifold as hm
t1 = time.perf_counter()
rng = np.random.default_rng(0)
data = rng.poisson(2.0, (12, 12, 32, 32)).astype(float)
data[:, 6:, 10, 10] += 50
s = hs.signals.Signal2D(data)
s.set_signal_type("manifold")
hm.manifold_decomposition(s, random_state=0, show_progressbar=False)
print(t1 - t0, time.perf_counter() - t1)
"""


def run(env):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    imported, call = map(float, out.stdout.split()[-2:])
    return imported, call


def main():
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        base = dict(os.environ, NUMBA_CACHE_DIR=cache)
        off = dict(base, HYPERSPY_MANIFOLD_NO_JIT_CACHE="1")
        plan = [("uncached", off), ("cold", base), ("warm", base)]
        plan += [("uncached", off), ("warm", base)]
        for name, env in plan:
            imported, call = run(env)
            rows.append({"run": name, "import_s": imported, "first_call_s": call})
    best = {}
    for row in rows:
        best[row["run"]] = min(best.get(row["run"], 1e9), row["first_call_s"])
    rows.append(
        {"run": "warm / uncached", "first_call_s": best["warm"] / best["uncached"]}
    )
    report("first_call", rows)


if __name__ == "__main__":
    main()
