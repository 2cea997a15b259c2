"""A fitted ManifoldClustering reused on a new scan, against refitting it.

The film of :func:`hyperspy_manifold.data.polycrystalline_film` (``--shape``
positions per side, 64 x 64 detector) is fitted once.  The new scan holds the
same grains in a new arrangement: the scan mirrored in both directions, with
fresh Poisson noise at the same dose.  Timed in the same process, alternately
(best of ``--repeat``, after one warm-up each): ``predict`` of the new scan by
the fitted model, and a refit on the new scan (what a user without a reusable
model does).  Reported: both times, their ratio and the agreement of the
predicted labels with the refit's (ARI), and with the ground truth.

Run: ``python benchmarks/bench_estimator.py [--shape 48] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _common import best_of_alternating, report

import hyperspy_manifold as hm
from hyperspy_manifold.data import polycrystalline_film
from hyperspy_manifold.learn.estimator import NOVEL


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    s, truth = polycrystalline_film(shape=(args.shape, args.shape), random_state=0)
    rng = np.random.default_rng(1)
    new = s.deepcopy()
    flipped = np.asarray(s.data)[::-1, ::-1]
    scale = 100.0 / max(float(flipped.mean()), 1e-12)  # ~100 counts per pixel
    new.data = (rng.poisson(flipped * scale) / scale).astype(s.data.dtype)
    new_truth = truth.labels[::-1, ::-1]

    quiet = {"show_progressbar": False}
    model = hm.ManifoldClustering(random_state=0).fit(s, **quiet)
    out = {}

    def predict():
        out["predicted"] = model.predict(new, **quiet).data

    def refit():
        refitted = hm.ManifoldClustering(random_state=0).fit(new, **quiet)
        out["refit"] = refitted.result_.labels.data

    best = best_of_alternating({"predict": predict, "refit": refit}, args.repeat)
    rows = [
        {
            "scan": f"{args.shape}x{args.shape}",
            "predict_s": best["predict"],
            "refit_s": best["refit"],
            "predict_over_refit": best["predict"] / best["refit"],
            "ari_predict_vs_refit": hm.adjusted_rand(out["refit"], out["predicted"]),
            "ari_predict_vs_truth": hm.adjusted_rand(new_truth, out["predicted"]),
            "ari_refit_vs_truth": hm.adjusted_rand(new_truth, out["refit"]),
            "novel_share": float(np.mean(out["predicted"] == NOVEL)),
        }
    ]
    report("estimator", rows)


if __name__ == "__main__":
    main()
