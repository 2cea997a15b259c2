"""End-to-end manifold clustering: cepstrum route against the raw-pattern route.

Pipeline timed (after a numba warm-up on a tiny scan, so UMAP's JIT compilation is
not counted): features -> min-max scaling -> randomised PCA (50) -> UMAP -> one
graph-bootstrap round -> HDBSCAN with automatic ``min_cluster_size`` -> cluster
mean/std patterns in one lazy pass -> ``learning_results``.

Data: the simulated polycrystalline film of :mod:`hyperspy_manifold.data`, a
64 x 64 scan of 128 x 128 patterns, written once to a temporary ``.zspy`` file and
loaded lazily (as a real scan on disk would be); ``--large``: 256 x 256 with
``n_fit=8192`` (fit on a subsample, embed and label the rest chunk by chunk),
rendered lazily on the fly instead of from disk.

Each route runs in its own process so that its peak resident memory
(``ru_maxrss``) is its own; the table gives the time, the peak RSS, the RSS before
the timed call (imports, warm-up, lazy signal) and the ARI against the truth
(HDBSCAN noise counted as a class of its own).

Run: ``python benchmarks/bench_manifold.py [--large] [--routes cepstrum raw]``.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import current_rss_mb, peak_rss_mb, report

DET = 128


def _film(nav, lazy):
    from hyperspy_manifold.data import polycrystalline_film

    return polycrystalline_film(
        shape=(nav, nav), detector=DET, n_grains=12, scan_step=2.0, lazy=lazy
    )


def run_route(route, nav, path, n_fit):
    """Child process: warm up, then time one ``manifold_decomposition``."""
    import warnings

    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    import hyperspy_manifold as hm

    warnings.simplefilter("ignore")
    # >= 4096 patterns, so UMAP's nearest-neighbour descent path gets compiled too;
    # transform (n_fit) compiles its own functions.
    warm = hs.signals.Signal2D(np.random.default_rng(0).random((72, 72, 4, 4)))
    hm.manifold_decomposition(
        warm, features="raw", random_state=0, n_fit=4096 if n_fit else None
    )

    if path:
        s = hs.load(path, lazy=True)
        truth_labels = np.load(Path(path).with_suffix(".npy"))
    else:
        s, truth = _film(nav, lazy=True)
        truth_labels = truth.labels
    rss_before = current_rss_mb()
    t0 = time.perf_counter()
    result = hm.manifold_decomposition(
        s,
        features=route,
        random_state=0,
        n_fit=n_fit or None,
        return_info=True,
        show_progressbar=False,
    )
    seconds = time.perf_counter() - t0
    return {
        "route": route,
        "scan": f"{nav}x{nav}x{DET}x{DET}",
        "n_fit": n_fit or "all",
        "seconds": seconds,
        "peak_rss_MB": peak_rss_mb(),
        "rss_before_MB": rss_before,
        "clusters": result.n_clusters,
        "noise": int((result.labels.data == -1).sum()),
        "ARI": adjusted_rand_score(truth_labels.ravel(), result.labels.data.ravel()),
        "min_cluster_size": result.parameters["min_cluster_size"],
        "k_rule": result.parameters.get("min_cluster_size_rule"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="256x256 scan with n_fit")
    parser.add_argument("--routes", nargs="+", default=["cepstrum", "raw"])
    parser.add_argument("--child", nargs=4, metavar=("ROUTE", "NAV", "PATH", "NFIT"))
    args = parser.parse_args()

    if args.child:
        route, nav, path, n_fit = args.child
        row = run_route(route, int(nav), path if path != "-" else None, int(n_fit))
        print("RESULT " + json.dumps(row))
        return

    nav, n_fit = (256, 8192) if args.large else (64, 0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = "-"
        if not args.large:
            import numpy as np

            t0 = time.perf_counter()
            s, truth = _film(nav, lazy=False)
            path = str(Path(tmp) / "film.zspy")
            s.save(path)
            np.save(Path(path).with_suffix(".npy"), truth.labels)
            print(f"simulated and saved the scan in {time.perf_counter() - t0:.1f} s")
            del s
        for route in args.routes:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    route,
                    str(nav),
                    path,
                    str(n_fit),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            rows.append(json.loads(line[len("RESULT ") :]))
            print(rows[-1], flush=True)
    if len(rows) == 2:
        rows.append(
            {
                "route": f"{rows[0]['route']}/{rows[1]['route']}",
                "seconds": rows[0]["seconds"] / rows[1]["seconds"],
                "peak_rss_MB": rows[0]["peak_rss_MB"] / rows[1]["peak_rss_MB"],
            }
        )
    report("manifold_large" if args.large else "manifold", rows)


if __name__ == "__main__":
    main()
