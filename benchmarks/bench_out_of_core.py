"""Out of core, end to end: a scan bigger than the memory allowed, from file to label map.

The scan (default 512 x 512 patterns of 128 x 128 uint16, 8.6 GB) is simulated
once with the lazy film of :mod:`hyperspy_manifold.data`, one block of scan rows
at a time, and written chunk by chunk, uncompressed, to ``.zspy`` under ``--path`` (default
``/tmp/hyperspy_manifold_ooc``; kept for later runs, written under a temporary
name and renamed when complete).  Then, in a fresh process (so its peak resident
memory is its own), with dask's threaded scheduler:

    hs.load(lazy=True) -> manifold_decomposition(features="cepstrum", n_fit=...)
    (cepstrum ring features of every pattern in one pass, spilled to a temporary
    file when larger than the memory budget; scaler, PCA, UMAP, HDBSCAN fitted
    on n_fit patterns; the rest labelled from the spilled features; cluster
    means in one streaming pass) -> get_similarity_loadings (one more pass)

Recorded: wall time of each step, peak RSS (``ru_maxrss`` and a 20 Hz sampler;
the sampler's alone when ``ru_maxrss`` is the one inherited from the parent that
wrote the scan), patterns/s, and the share of time spent reading: every chunk
read is counted, so the number of passes over the file times the time of a pure
read pass (read and decompress every chunk, nothing else) gives the I/O time.  The same pipeline on a
128 x 128 scan loaded whole into memory, scaled by the number of patterns, is the
baseline.  UMAP's numba compilation is done on a tiny scan first and not counted.

``--agreement`` then labels the same scan loaded whole into memory (it needs
the scan's size in RAM; not counted in the peak) and reports the adjusted Rand
index between the out-of-core and the in-memory answers.

Run: ``python benchmarks/bench_out_of_core.py [--shape 512] [--n-fit 8192]
[--path DIR] [--agreement]``; ``--shape 256`` for a 2.1 GB scan.
"""

import argparse
import json
import threading
import time
from pathlib import Path

from _common import (
    RSSSampler,
    cached_film_scan,
    current_rss_mb,
    peak_rss_mb,
    report,
    run_child,
)

DETECTOR = 128
#: The in-memory baseline scan (patterns per side).
IN_MEMORY = 128
DEFAULT_PATH = Path("/tmp/hyperspy_manifold_ooc")


def _counted(s):
    """``s`` with every chunk read counted (a thread-safe counter)."""
    lock, count = threading.Lock(), [0]

    def count_read(block):
        with lock:
            count[0] += 1
        return block

    out = s.deepcopy() if s._lazy else s
    if s._lazy:
        out.data = s.data.map_blocks(count_read, dtype=s.data.dtype)
    return out, count


def read_pass_seconds(path) -> float:
    """Time to read and decompress every chunk once (nothing else)."""
    import dask.array as da
    import hyperspy.api as hs

    data = hs.load(path, lazy=True).data
    tiny = da.map_blocks(
        lambda b: b[..., :1, :1].astype("float64"),
        data,
        chunks=data.chunks[:-2] + ((1,), (1,)),
        dtype="float64",
    )
    t0 = time.perf_counter()
    tiny.sum().compute()
    return time.perf_counter() - t0


def run(path, n_fit, lazy, agreement=False):
    """Child process: warm up UMAP, then time the pipeline on ``path``; with
    ``agreement``, afterwards (its memory not counted) the same call on the
    scan loaded whole into memory, and the adjusted Rand between the two."""
    import warnings

    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    import hyperspy_manifold as hm

    warnings.simplefilter("ignore")
    # Linux keeps ru_maxrss across fork + exec: a parent that has just written
    # the scan hands its own peak to this process, which then reads it as its own
    inherited_peak = peak_rss_mb()
    warm = hs.signals.Signal2D(np.random.default_rng(0).random((72, 72, 4, 4)))
    hm.manifold_decomposition(warm, features="raw", random_state=0, n_fit=4096)
    del warm

    sampler = RSSSampler()
    sampler.start()
    rss_start = current_rss_mb()
    t0 = time.perf_counter()
    s = hs.load(path, lazy=lazy)
    t_load = time.perf_counter() - t0
    n_patterns = int(np.prod(s.axes_manager.navigation_shape))
    n_chunks = int(np.prod(s.data.numblocks[:-2])) if lazy else 0
    s, reads = _counted(s)
    t0 = time.perf_counter()
    result = hm.manifold_decomposition(
        s,
        features="cepstrum",
        n_fit=n_fit if n_fit < n_patterns else None,
        random_state=0,
        return_info=True,
        show_progressbar=False,
    )
    t_manifold = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = hm.get_similarity_loadings(s, show_progressbar=False, lazy_output=False)
    t_similarity = time.perf_counter() - t0
    sampled_peak = sampler.stop()
    total = t_load + t_manifold + t_similarity
    truth = np.load(Path(path).with_suffix(".npy"))
    row = {
        "scan": f"{s.data.shape[0]}x{s.data.shape[1]}",
        "data": "zspy, lazy" if lazy else "in memory",
        "n_fit": min(n_fit, n_patterns),
        "load_s": t_load,
        "manifold_s": t_manifold,
        "similarity_s": t_similarity,
        "total_s": total,
        "patterns_per_s": n_patterns / total,
        "peak_rss_MB": peak_rss_mb()
        if peak_rss_mb() > inherited_peak
        else sampled_peak,
        "sampled_peak_rss_MB": sampled_peak,
        # with the worker process of the UMAP runs (and its helpers)
        "process_tree_peak_rss_MB": sampler.tree_peak,
        "rss_after_warmup_MB": rss_start,
        "clusters": int(result.n_clusters),
        "ARI": float(
            adjusted_rand_score(truth.ravel(), np.asarray(result.labels.data).ravel())
        ),
        "similarity_shape": list(sim.data.shape),
    }
    if agreement:
        t0 = time.perf_counter()
        whole = hm.manifold_decomposition(
            hs.load(path, lazy=False),
            features="cepstrum",
            n_fit=n_fit if n_fit < n_patterns else None,
            random_state=0,
            return_info=True,
            show_progressbar=False,
        )
        row["in_memory_s"] = time.perf_counter() - t0
        row["ARI_vs_in_memory"] = float(
            adjusted_rand_score(
                np.asarray(whole.labels.data).ravel(),
                np.asarray(result.labels.data).ravel(),
            )
        )
    if lazy:
        read_s = read_pass_seconds(path)
        passes = reads[0] / n_chunks
        row.update(
            {
                "read_pass_s": read_s,
                "passes_over_file": passes,
                "io_share": min(1.0, passes * read_s / total),
            }
        )
    return row


def child(args) -> dict:
    return run_child(__file__, args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, default=512, help="patterns per side")
    parser.add_argument("--n-fit", type=int, default=8192)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="also label the scan loaded whole into memory (needs its size in RAM) "
        "and report the adjusted Rand between the two answers",
    )
    parser.add_argument("--child", nargs=4, metavar=("PATH", "NFIT", "LAZY", "AGREE"))
    args = parser.parse_args()
    if args.child:
        path, n_fit, lazy, agree = args.child
        print("RESULT " + json.dumps(run(path, int(n_fit), lazy == "1", agree == "1")))
        return

    rows = []
    path, gen = cached_film_scan(args.path, args.shape, DETECTOR, uncompressed=True)
    print("scan:", gen, flush=True)
    big = child([path, args.n_fit, 1, int(args.agreement)])
    rows.append(big)
    print(big, flush=True)
    if not args.no_baseline:
        path, _ = cached_film_scan(args.path, IN_MEMORY, DETECTOR, uncompressed=True)
        small = child([path, args.n_fit, 0, 0])
        rows.append(small)
        print(small, flush=True)
        scale = args.shape**2 / IN_MEMORY**2
        rows.append(
            {
                "scan": f"{big['scan']} / ({small['scan']} x {scale:g})",
                "data": "out-of-core / scaled in-memory",
                "total_s": big["total_s"] / (small["total_s"] * scale),
                "patterns_per_s": big["patterns_per_s"] / small["patterns_per_s"],
                "peak_rss_MB": big["peak_rss_MB"] / small["peak_rss_MB"],
            }
        )
    rows.append({"scan": gen["scan"], "data": "generation", **gen})
    report(f"out_of_core_{args.shape}", rows)


if __name__ == "__main__":
    main()
