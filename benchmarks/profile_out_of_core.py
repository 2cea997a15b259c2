"""Where the time of the out-of-core pipeline goes, stage by stage.

Runs the pipeline of ``bench_out_of_core.py`` (``hs.load(lazy=True)`` ->
``manifold_decomposition(features="cepstrum", n_fit=...)`` ->
``get_similarity_loadings``) on a scan it has written (run it first), with
timers around the stages, installed from outside (the library is not changed):

- ``features``: the pass that computes every pattern's cepstrum ring features
  into the feature store (kept in memory when they fit
  ``FEATURES_IN_MEMORY_BYTES``, else spilled to a temporary file);
- ``fit``: scaler, PCA, UMAP and HDBSCAN on ``n_fit`` patterns, with the
  selection of ``min_cluster_size`` ("auto");
- ``label rest``: labelling the patterns outside the fit (read from the store);
- ``cluster statistics``: the pass over the data for the cluster means;
- ``centroid patterns``: reading the pattern nearest each embedded centroid;
- ``similarity``: the ``get_similarity_loadings`` pass;

plus a pure read pass (every chunk read, nothing else) for reference, and the
process's peak RSS when each stage ended (where the peak is reached).

Run: ``python benchmarks/profile_out_of_core.py [--shape 256] [--n-fit 8192]``.
"""

import argparse
import functools
import json
import time
import warnings
from collections import defaultdict

from _common import film_scan_path, peak_rss_mb
from bench_out_of_core import DEFAULT_PATH, DETECTOR, read_pass_seconds

TIMES = defaultdict(float)
#: Peak RSS (MB) of the process when each stage last ended: where it rises.
PEAKS = {}


def timed(name, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - t0
            PEAKS[name] = round(peak_rss_mb())

    return wrapper


def install_timers():
    """Wrap the stage functions where the estimator looks them up."""
    from hyperspy_manifold.learn import (
        _features,
        clustering,
        embedding,
        estimator,
        manifold,
        similarity,
    )

    def staged(module):
        compute = module.compute

        def stage_compute(*args, **kwargs):
            import sys

            caller = sys._getframe(1).f_code.co_name
            name = {
                "_stream_rows": "label rest: streamed features",
                "feature_rows": "features (one pass)",
                "store": "features (one pass, into the store)",
                "store_features": "features (one pass, into the store)",
                "manifold_decomposition": "centroid patterns",
            }.get(caller, f"compute in {caller}")
            return timed(name, compute)(*args, **kwargs)

        module.compute = stage_compute

    for module in (_features, estimator, manifold):
        staged(module)
    estimator.choose_partition = timed(
        "fit (UMAP, HDBSCAN, selection)", estimator.choose_partition
    )
    estimator.cluster_embedding = timed("fit: cluster", estimator.cluster_embedding)
    emb = embedding.ManifoldEmbedder
    emb.fit_transform = timed("fit: embed (UMAP runs)", emb.fit_transform)
    emb.neighbours = timed("fit: shared kNN", emb.neighbours)
    emb.reduce = timed("reduce (scaling + PCA)", emb.reduce)
    emb.transform = timed("label rest: transform", emb.transform)
    vote = clustering.NeighbourVote
    vote.place = timed("label rest: place", vote.place)
    estimator.cluster_statistics = timed(
        "cluster statistics pass", estimator.cluster_statistics
    )
    manifold.write_learning_results = timed(
        "write learning results", manifold.write_learning_results
    )
    similarity.compute = timed("similarity pass", similarity.compute)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, default=256)
    parser.add_argument("--n-fit", type=int, default=8192)
    parser.add_argument("--path", default=str(DEFAULT_PATH))
    args = parser.parse_args()
    path = film_scan_path(args.path, args.shape, DETECTOR)
    if not path.exists():
        raise SystemExit(f"{path} missing: run bench_out_of_core.py --shape first")

    import hyperspy.api as hs
    import numpy as np

    import hyperspy_manifold as hm

    warnings.simplefilter("ignore")
    warm = hs.signals.Signal2D(np.random.default_rng(0).random((72, 72, 4, 4)))
    hm.manifold_decomposition(warm, features="raw", random_state=0, n_fit=4096)
    install_timers()
    t0 = time.perf_counter()
    s = hs.load(path, lazy=True)
    TIMES["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = hm.manifold_decomposition(
        s,
        features="cepstrum",
        n_fit=args.n_fit,
        random_state=0,
        return_info=True,
        show_progressbar=False,
    )
    TIMES["manifold_decomposition (total)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hm.get_similarity_loadings(s, show_progressbar=False, lazy_output=False)
    TIMES["get_similarity_loadings (total)"] = time.perf_counter() - t0
    TIMES["pure read pass (reference)"] = read_pass_seconds(path)
    print(
        "RESULT "
        + json.dumps(
            {
                "scan": f"{args.shape}x{args.shape}",
                "chunks": [len(c) for c in s.data.chunks],
                "clusters": int(result.n_clusters),
                "data_reads": result.parameters.get("data_reads"),
                "peak_rss_MB": peak_rss_mb(),
                **{k: round(v, 2) for k, v in TIMES.items()},
                "peak RSS (MB) at the end of": PEAKS,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
