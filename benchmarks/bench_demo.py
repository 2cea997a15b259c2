"""The 64 x 64 demo pipeline: fresh-process and warm time of a default
``manifold_decomposition``, old code against new (issue 15, target 2: 10 s warm,
20 s from a fresh process).

Every run is a fresh Python process that imports ``hyperspy_manifold``,
simulates the film of the examples (4096 patterns of 128 x 128, 12 grains,
``hyperspy_manifold.data.polycrystalline_film``) and calls
``manifold_decomposition(s, random_state=0)`` twice: the first call is what a
new notebook kernel or CLI run pays (numba compilation included), the second
what a warm process pays (``fresh_s`` is process start to the first result).
The adjusted Rand index of both calls against the simulated grains and a hash
of the labels (the same labels before and after?) are reported.

The two code trees (``--before``, default /work/main, and ``--after``, default
the checkout this script is in) are run alternately, each through its own
``PYTHONPATH``, so that both meet the same machine load; the table gives the
best of the rounds and the ratios after / before. The load average is printed
at the start and at the end (the machine is shared).

Run: ``python benchmarks/bench_demo.py [--rounds 2] [--quick]``; ``--quick`` is
one round on a 32 x 32 film (1024 patterns).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _common import report

CHILD = """
import hashlib, json, sys, time, warnings
t0 = time.perf_counter()
import numpy as np
import hyperspy_manifold as hm
from hyperspy_manifold.data import polycrystalline_film
from sklearn.metrics import adjusted_rand_score
t1 = time.perf_counter()
nav = int(sys.argv[1])
s, truth = polycrystalline_film(
    shape=(nav, nav), detector=128, n_grains=12, scan_step=2.0
)
t2 = time.perf_counter()
warnings.simplefilter("ignore")
row = {"import_s": t1 - t0, "simulate_s": t2 - t1, "path": hm.__file__}
for name in ("first", "second"):
    t = time.perf_counter()
    res = hm.manifold_decomposition(
        s, random_state=0, return_info=True, show_progressbar=False
    )
    row[name + "_call_s"] = time.perf_counter() - t
    row[name + "_ARI"] = adjusted_rand_score(
        truth.labels.ravel(), res.labels.data.ravel()
    )
    row[name + "_clusters"] = int(res.n_clusters)
    row[name + "_labels"] = hashlib.sha1(
        np.ascontiguousarray(res.labels.data, dtype=np.int64).tobytes()
    ).hexdigest()[:12]
    if name == "first":  # process start to the first result
        row["fresh_s"] = time.perf_counter() - t0
print("RESULT " + json.dumps(row))
"""


def run(tree, nav):
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(nav)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=str(tree),
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main():
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="/work/main")
    parser.add_argument("--after", default=str(here))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nav", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="one round, 32 x 32")
    args = parser.parse_args()
    rounds, nav = (1, 32) if args.quick else (args.rounds, args.nav)

    print(f"load average at start: {os.getloadavg()}", flush=True)
    runs = {"before": [], "after": []}
    for _ in range(rounds):
        for name in ("before", "after"):
            row = run(getattr(args, name), nav)
            runs[name].append(row)
            print(name, row, flush=True)
    print(f"load average at end: {os.getloadavg()}", flush=True)

    keys = ("import_s", "simulate_s", "first_call_s", "fresh_s", "second_call_s")
    rows = []
    for name, got in runs.items():
        best = {k: min(r[k] for r in got) for k in keys}
        last = got[-1]
        rows.append(
            {
                "code": name,
                **best,
                "ARI_first": last["first_ARI"],
                "ARI_second": last["second_ARI"],
                "clusters": last["second_clusters"],
                "labels": last["second_labels"],
            }
        )
    rows.append(
        {
            "code": "after/before",
            **{k: rows[1][k] / rows[0][k] for k in keys},
        }
    )
    report(f"bench_demo_{nav}", rows)


if __name__ == "__main__":
    main()
