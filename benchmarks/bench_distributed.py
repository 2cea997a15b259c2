"""Feature transforms on a dask.distributed LocalCluster against the threaded scheduler.

Same data, same number of cores: a 128 x 128 scan of 128 x 128 uint16 patterns of
the simulated film (0.54 GB), written to ``.zspy`` once per chunking, with chunks
of 1, 8 and 16 scan rows (4 MB x 128, 34 MB x 16 and 67 MB x 8 chunks), and read
lazily, so every task reads its own chunk from disk, as on a real cluster.  Each transform
is called with ``lazy_output=False`` (its whole cost: pre-passes such as the
global minimum of the cepstrum or the automatic rings, the transform, and
bringing the result back to this process), once as a warm-up under each
scheduler and then ``--repeat`` times alternately under

- ``threads``: dask's threaded scheduler, 2 threads;
- ``distributed``: a Client on a LocalCluster of 2 worker processes x 1 thread

(alternating, so both meet the same load of a shared machine); the best time of
each is kept.

``--default-chunks`` adds (or, with ``--chunk-rows`` given no values, runs
only) the package's default chunking: the file written in the chunks of
:func:`hyperspy_manifold.io.navigation_chunks` (about 64 MiB along the scan
rows, detector whole), which ``hs.load(..., lazy=True)`` of a ``.zspy`` keeps
(16 rows of 128 x 128 uint16 patterns for a 128 x 128 scan).

On 2 cores the two cannot differ by more than the overhead of the distributed
scheduler: a few ms per task (messages, unpickling the task and the zarr array
it reads, moving results between processes), which small chunks pay many times.

Run: ``python benchmarks/bench_distributed.py [--shape 128] [--chunk-rows 1 8 16]
[--default-chunks]``.
"""

import argparse
import tempfile
import warnings
from pathlib import Path

from _common import best_of_alternating, report

DETECTOR = 128

QUIET = {"show_progressbar": False}
TRANSFORMS = {
    "cepstrum (full plane)": lambda hm, s: hm.get_cepstrum(
        s, lazy_output=False, **QUIET
    ),
    "cepstrum ring features": lambda hm, s: hm.get_cepstrum(
        s, lazy_output=True, **QUIET
    ).get_ring_features(3, 32, in_pixels=True, lazy_output=False, **QUIET),
    "radial variance": lambda hm, s: hm.get_radial_variance(
        s, lazy_output=False, **QUIET
    ),
    "angular average (auto rings)": lambda hm, s: hm.get_angular_average(
        s, lazy_output=False, **QUIET
    ),
    "bragg features": lambda hm, s: hm.get_bragg_features(
        s, lazy_output=False, **QUIET
    ),
}


def time_transforms(hm, s, client, workers, repeat):
    """``{name: (threads_s, distributed_s)}``: best of ``repeat`` alternating
    calls of every transform under each scheduler, after one warm-up call each."""
    import dask

    def under(config, transform):
        def run():
            with dask.config.set(**config):
                transform(hm, s)

        return run

    threads = dict(scheduler="threads", num_workers=workers)
    cluster = dict(scheduler=client.get)
    times = {}
    for name, transform in TRANSFORMS.items():
        best = best_of_alternating(
            {"threads": under(threads, transform), "dist": under(cluster, transform)},
            repeat,
        )
        times[name] = (best["threads"], best["dist"])
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, default=128, help="patterns per side")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        nargs="*",
        default=[1, 8, 16],
        help="scan rows per chunk of the file (one run each)",
    )
    parser.add_argument(
        "--default-chunks",
        action="store_true",
        help="also run the chunks of hyperspy_manifold.io.navigation_chunks",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import dask
    import distributed
    import hyperspy.api as hs
    import numpy as np

    import hyperspy_manifold as hm
    from hyperspy_manifold.data import polycrystalline_film
    from hyperspy_manifold.io import navigation_chunks

    n = args.shape
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        s, _ = polycrystalline_film(
            shape=(n, n), detector=DETECTOR, lazy=True, random_state=0
        )
        s.data = s.data.astype(np.uint16)
        scans = {}
        chunkings = {rows: (rows, -1, -1, -1) for rows in args.chunk_rows}
        if args.default_chunks:
            chunkings["default"] = navigation_chunks(s.data.shape, s.data.dtype)
        for key, chunks in chunkings.items():
            s.data = s.data.rechunk(chunks)
            path = Path(tmp) / f"film_{key}.zspy"
            with dask.config.set(scheduler="threads"):
                s.save(path, show_progressbar=False)
            scans[key] = hs.load(path, lazy=True)

        cluster = distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with distributed.Client(cluster, set_as_default=False) as client:
            times = {
                key: time_transforms(hm, scan, client, args.workers, args.repeat)
                for key, scan in scans.items()
            }
        cluster.close()

    for key, scan in scans.items():
        chunk_rows = scan.data.chunks[0][0]
        chunk_mb = scan.data.nbytes / np.prod(scan.data.numblocks) / 1e6
        label = "default, " if key == "default" else ""
        for name in TRANSFORMS:
            threads, dist = times[key][name]
            rows.append(
                {
                    "transform": name,
                    "patterns": n * n,
                    "chunk": f"{label}{chunk_rows} row(s), {chunk_mb:.0f} MB",
                    "n_chunks": int(np.prod(scan.data.numblocks[:2])),
                    "threads_s": threads,
                    "distributed_s": dist,
                    "threads_patterns_per_s": n * n / threads,
                    "distributed_patterns_per_s": n * n / dist,
                    "speed_up": threads / dist,
                    "overhead_pct": 100 * (dist / threads - 1),
                }
            )
    report("distributed", rows)


if __name__ == "__main__":
    main()
