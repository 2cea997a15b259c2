"""Feature transforms on a dask.distributed LocalCluster against the threaded scheduler.

Same data, same number of cores: a 64 x 64 scan of 128 x 128 uint16 patterns of
the simulated film (134 MB), written once to ``.zspy`` and read lazily, so every
task reads its own chunk from disk, as on a real cluster.  Each transform is
called with ``lazy_output=False`` (its whole cost: pre-passes such as the global
minimum of the cepstrum or the automatic rings, the transform, and bringing the
result back to this process), once as a warm-up and then best of three, under

- ``threads``: dask's threaded scheduler, 2 threads;
- ``distributed``: a Client on a LocalCluster of 2 worker processes x 1 thread.

On 2 cores the two should be about as fast; the ratio is the overhead of the
distributed scheduler (task messages, pickling, moving results between processes).

Run: ``python benchmarks/bench_distributed.py [--shape 64] [--workers 2]``.
"""

import argparse
import tempfile
import warnings
from pathlib import Path

from _common import best_of, report

DETECTOR = 128

TRANSFORMS = {
    "cepstrum (full plane)": lambda hm, s: hm.get_cepstrum(s, lazy_output=False),
    "cepstrum ring features": lambda hm, s: hm.get_cepstrum(
        s, lazy_output=True
    ).get_ring_features(3, 32, in_pixels=True, lazy_output=False),
    "radial variance": lambda hm, s: hm.get_radial_variance(s, lazy_output=False),
    "angular average (auto rings)": lambda hm, s: hm.get_angular_average(
        s, lazy_output=False
    ),
    "bragg features": lambda hm, s: hm.get_bragg_features(s, lazy_output=False),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, default=64, help="patterns per side")
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

    n = args.shape
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        s, _ = polycrystalline_film(
            shape=(n, n), detector=DETECTOR, lazy=True, random_state=0
        )
        s.data = s.data.astype(np.uint16)
        path = Path(tmp) / "film.zspy"
        with dask.config.set(scheduler="threads"):
            s.save(path)
        s = hs.load(path, lazy=True)
        n_chunks = int(np.prod(s.data.numblocks[:2]))
        print(f"{n}x{n} scan, {n_chunks} chunks of {s.data.chunksize}", flush=True)

        times = {}
        with dask.config.set(scheduler="threads", num_workers=args.workers):
            for name, transform in TRANSFORMS.items():
                transform(hm, s)
                times[name, "threads"] = best_of(
                    lambda t=transform: t(hm, s), args.repeat
                )
        cluster = distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with distributed.Client(cluster):
            for name, transform in TRANSFORMS.items():
                transform(hm, s)
                times[name, "distributed"] = best_of(
                    lambda t=transform: t(hm, s), args.repeat
                )
        cluster.close()

    for name in TRANSFORMS:
        threads, dist = times[name, "threads"], times[name, "distributed"]
        rows.append(
            {
                "transform": name,
                "patterns": n * n,
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
