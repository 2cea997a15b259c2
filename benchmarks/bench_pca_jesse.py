"""PCA of a 192 x 192 scan of 96 x 96 patterns, lazily: Jesse et al. (2016) used 625 GB.

Jesse et al., Sci. Rep. 6, 26348 (2016) report 625 GB of RAM and 30 minutes for
the PCA of a 192 x 192 scan of 96 x 96 diffraction patterns (a 36864 x 9216
matrix).  Here the same size comes from the simulated film of
:mod:`hyperspy_manifold.data` (``detector=96``), rendered lazily and written once
as uint16 ``.zspy`` (0.68 GB; cached under ``--path``), then decomposed to
``--components`` components, each route in a fresh process (its own peak RSS):

- ``svd_compressed``: mean-centred randomised SVD with
  ``dask.array.linalg.svd_compressed`` (Halko et al.; two power iterations),
  threaded scheduler, ``compute=True`` so every pass re-reads the file instead of
  holding the matrix;
- ``hyperspy lazy``: HyperSpy's own lazy ``s.decomposition(output_dimension=k,
  centre="navigation")`` (``svd_compressed`` without power iterations, run with
  the synchronous scheduler);
- ``in memory``: the baseline, the whole float32 matrix loaded and
  ``sklearn.decomposition.PCA(svd_solver="randomized")``.

Reported: wall time, peak RSS, patterns/s and the largest relative difference of
the first 10 singular values from the in-memory PCA.

Run: ``python benchmarks/bench_pca_jesse.py [--components 50] [--path DIR]``.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import cached_film_scan, peak_rss_mb, report

SCAN, DETECTOR = 192, 96
DEFAULT_PATH = Path("/tmp/hyperspy_manifold_pca")
N_CHECK = 10


def pca_svd_compressed(path, k):
    import dask
    import dask.array as da
    import hyperspy.api as hs

    s = hs.load(path, lazy=True)
    n = SCAN * SCAN
    X = s.data.reshape(n, DETECTOR * DETECTOR).astype("float32")
    with dask.config.set(scheduler="threads"):
        mean = X.mean(axis=0).compute()
        u, sv, v = da.linalg.svd_compressed(
            X - mean, k=k, n_power_iter=2, seed=0, compute=True
        )
        u, sv, v = dask.compute(u, sv, v)
    return sv


def pca_hyperspy(path, k):
    import hyperspy.api as hs
    import numpy as np

    s = hs.load(path, lazy=True)
    s.change_dtype("float32")
    s.decomposition(output_dimension=k, centre="navigation", print_info=False)
    ev = np.asarray(s.learning_results.explained_variance)[:k]
    return np.sqrt(ev * SCAN * SCAN)


def pca_in_memory(path, k):
    import hyperspy.api as hs
    import numpy as np
    from sklearn.decomposition import PCA

    X = np.asarray(hs.load(path).data, dtype=np.float32).reshape(SCAN * SCAN, -1)
    pca = PCA(n_components=k, svd_solver="randomized", random_state=0).fit(X)
    return pca.singular_values_


ROUTES = {
    "svd_compressed": pca_svd_compressed,
    "hyperspy lazy": pca_hyperspy,
    "in memory": pca_in_memory,
}


def child(route, path, k):
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    sv = ROUTES[route](path, k)
    seconds = time.perf_counter() - t0
    return {
        "route": route,
        "matrix": f"{SCAN * SCAN} x {DETECTOR * DETECTOR}",
        "components": k,
        "seconds": seconds,
        "patterns_per_s": SCAN * SCAN / seconds,
        "peak_rss_MB": peak_rss_mb(),
        "singular_values": [float(x) for x in sv[:N_CHECK]],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--routes", nargs="+", default=list(ROUTES))
    parser.add_argument("--child", nargs=3, metavar=("ROUTE", "PATH", "K"))
    args = parser.parse_args()
    if args.child:
        route, path, k = args.child
        print("RESULT " + json.dumps(child(route, path, int(k))))
        return

    path, gen = cached_film_scan(args.path, SCAN, DETECTOR, chunk_rows=8)
    print("data:", gen, flush=True)
    rows = []
    for route in args.routes:
        command = [sys.executable, __file__, "--child", route]
        command += [str(path), str(args.components)]
        out = subprocess.run(command, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(out.stderr[-3000:])
        line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
        rows.append(json.loads(line[len("RESULT ") :]))
        print({k: v for k, v in rows[-1].items() if k != "singular_values"}, flush=True)
    values = {row["route"]: row.pop("singular_values") for row in rows}
    reference = next((r for r in rows if r["route"] == "in memory"), None)
    if reference is not None:
        ref = values["in memory"]
        for row in rows:
            sv = values[row["route"]]
            row["sv_max_rel_diff"] = max(abs(a - b) / b for a, b in zip(sv, ref))
            row["time_vs_in_memory"] = row["seconds"] / reference["seconds"]
            row["rss_vs_in_memory"] = row["peak_rss_MB"] / reference["peak_rss_MB"]
    rows.append({"route": "generation (not in the times above)", **gen})
    report("pca_jesse", rows)


if __name__ == "__main__":
    main()
