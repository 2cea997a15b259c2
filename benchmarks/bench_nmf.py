"""Wall time and accuracy of iterative NMF with merging (``bragg_nmf``).

Two cases, each with 25 random starts per round (the paper's setting):

* ``film``: the simulated polycrystalline Ag film
  (:func:`hyperspy_manifold.data.polycrystalline_film`, a 100 x 100 scan), angular
  average features (:func:`hyperspy_manifold.get_angular_average`), merge
  threshold 0.4 (paper, AA: 0.4-0.5);
* ``synthetic``: a 100 x 100 scan of 400 non-negative features made directly as
  12 grain maps times sparse grain signatures, with a bending ramp inside every
  grain (two intensity sets, so each grain is rank 2) and Poisson noise
  (independent of the simulator), merge threshold 0.3.

Both linkages of the merge step are run: ``"single"`` (connected groups, the
papers' rule) and ``"average"``.

Timed: ``bragg_nmf`` alone (scaling, scree, all NMF rounds, class patterns), not
the simulation or the feature transform.  Accuracy: component maps split into
regions (``separate_regions``, Yen threshold), then mean TPR_G (each true grain
against its best-overlapping region) and precision_A ("any grain" against
amorphous), at scan positions where the probe sees one grain only.  For the film
also with the amorphous component left out: the component whose class pattern has
the lowest radial variance (the crystalline/amorphous criterion of Bruefach 2022).
Target: <= 60 s on 2 cores.

Run: ``python benchmarks/bench_nmf.py [--quick] [--cases film synthetic]``.
"""

from __future__ import annotations

import argparse
import time

import hyperspy.api as hs
import numpy as np
from _common import peak_rss_mb, report

import hyperspy_manifold as hm


def synthetic_features(shape, n_grains, n_features, seed=0):
    """Grain-map features ``(ny, nx, n_features)`` and labels (-1 = no grain)."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    n_cells = n_grains + max(n_grains // 5, 1)
    centres = rng.uniform(0, 1, (n_cells, 2)) * (ny, nx)
    yy, xx = np.mgrid[:ny, :nx]
    cell = np.full(shape, -1)
    best = np.full(shape, np.inf)
    for i, (cy, cx) in enumerate(centres):
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        cell = np.where(d2 < best, i, cell)
        best = np.minimum(best, d2)
    labels = np.where(cell < n_grains, cell, -1)
    owner = rng.permutation(n_features) % n_grains
    clean = np.zeros((ny, nx, n_features), dtype=np.float32)
    for g in range(n_grains):
        spots = owner == g
        h1, h2 = np.zeros(n_features), np.zeros(n_features)
        h1[spots] = rng.uniform(0.3, 1.0, spots.sum())
        h2[spots] = rng.uniform(0.3, 1.0, spots.sum())
        inside = labels == g
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * yy + np.sin(angle) * xx
        t = (ramp - ramp[inside].min()) / max(np.ptp(ramp[inside]), 1)
        idx = np.nonzero(inside)
        clean[idx] = t[idx][:, None] * h1 + (1 - t[idx][:, None]) * h2
    clean += 0.3 * np.exp(-np.linspace(0, 3, n_features, dtype=np.float32))
    X = (rng.poisson(200 * clean) / 200).astype(np.float32)
    return X, labels


def scores(info, truth_labels, truth_background, exclude=None):
    regions = hm.separate_regions(info.maps, exclude_components=exclude)
    _, tpr = hm.tpr_per_grain(
        regions.labels, truth_labels, truth_background=truth_background
    )
    _, tpr_1to1 = hm.tpr_per_grain(
        regions.labels,
        truth_labels,
        truth_background=truth_background,
        matching="one_to_one",
    )
    precision = hm.precision_any(
        regions.labels, truth_labels, truth_background=truth_background
    )
    return {
        "regions": len(regions.table),
        "TPR_G": tpr,
        "TPR_G_1to1": tpr_1to1,
        "precision_A": precision,
    }


def run(
    s, features, truth_labels, truth_background, merge_threshold, n_models, linkage
):
    t0 = time.perf_counter()
    info = hm.bragg_nmf(
        s,
        features=features,
        merge_threshold=merge_threshold,
        linkage=linkage,
        n_models=n_models,
        random_state=0,
        return_info=True,
        show_progressbar=False,
    )
    seconds = time.perf_counter() - t0
    row = {
        "linkage": linkage,
        "n_features": int(np.prod(features.data.shape[2:])),
        "n_models": n_models,
        "seconds": seconds,
        "rounds": " -> ".join(str(h["n_components"]) for h in info.history),
        **scores(info, truth_labels, truth_background),
    }
    return row, info


def film_case(shape, n_grains, n_models, linkages):
    from hyperspy_manifold.data import polycrystalline_film

    s, truth = polycrystalline_film(shape=shape, n_grains=n_grains, random_state=0)
    features = hm.get_angular_average(s, show_progressbar=False)
    single = np.where(truth.boundary_weight == 0, truth.labels, -2)
    case = f"film {shape[0]}x{shape[1]}, {n_grains} grains, AA"
    rows = []
    for linkage in linkages:
        row, info = run(
            s, features, single, truth.amorphous_label, 0.4, n_models, linkage
        )
        rows.append({"case": case, **row})
        # Least crystalline class pattern = the amorphous component.
        patterns = info.class_patterns
        patterns.set_signal_type("manifold")
        rv = hm.get_radial_variance(patterns, normalize=True, show_progressbar=False)
        amorphous = int(np.argmin(rv.data.mean(axis=1)))
        excluded = scores(info, single, truth.amorphous_label, exclude=[amorphous])
        kept = ("linkage", "n_features", "n_models", "seconds", "rounds")
        rows.append(
            {
                "case": "  same, amorphous component left out",
                **{k: row[k] for k in kept},
                **excluded,
            }
        )
    return rows


def synthetic_case(shape, n_grains, n_features, n_models, linkages):
    X, labels = synthetic_features(shape, n_grains, n_features)
    features = hs.signals.Signal1D(X)
    rows = []
    for linkage in linkages:
        # No patterns here: the class patterns are the weighted mean features.
        row, _ = run(features, features, labels, -1, 0.3, n_models, linkage)
        rows.append(
            {"case": f"synthetic {shape[0]}x{shape[1]}, {n_grains} grains", **row}
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="48 x 48 scans")
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["film", "synthetic"],
        choices=["film", "synthetic"],
    )
    parser.add_argument("--n-models", type=int, default=25)
    parser.add_argument(
        "--linkages",
        nargs="+",
        default=["single", "average"],
        choices=["single", "average", "complete"],
    )
    args = parser.parse_args()
    shape = (48, 48) if args.quick else (100, 100)
    n_grains = 8 if args.quick else 30
    # Each synthetic grain is rank 2 (bending), so the scree start is ~6x the grains.
    synthetic_grains = 8 if args.quick else 12
    rows = []
    if "film" in args.cases:
        rows += film_case(shape, n_grains, args.n_models, args.linkages)
    if "synthetic" in args.cases:
        rows += synthetic_case(
            shape, synthetic_grains, 400, args.n_models, args.linkages
        )
    for row in rows:
        row["peak_rss_MB"] = peak_rss_mb()
    report("nmf_quick" if args.quick else "nmf", rows)


if __name__ == "__main__":
    main()
