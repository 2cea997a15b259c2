"""Accuracy benchmark: labelled scenarios x methods -> ARI, NMI, TPR_G, k, time.

    python benchmarks/accuracy/run.py --split tune
    python benchmarks/accuracy/run.py --split report --out report.json
    python benchmarks/accuracy/run.py --split tune --methods default \\
        raw_pca_kmeans_truek --scenarios film px-si --repeat-seeds 3
    python benchmarks/accuracy/run.py --split tune --check-data

Tune only on the ``tune`` split; run the ``report`` split once, to report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import methods as registry  # noqa: E402
import scenarios as grid  # noqa: E402

RESULTS = HERE.parent / "results"
#: default counts as matching the best baseline within this ARI margin ...
TIE = 0.02
#: ... and as never far behind it when within this one (worst seed).
FAR = 0.1
#: found k counts as right within this relative error.
K_TOLERANCE = 0.2


def score(pred, truth) -> dict:
    """ARI and NMI (noise -1 is one more class), one-to-one TPR_G, found k."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from hyperspy_manifold import tpr_per_grain

    p = np.asarray(pred).astype(np.int64).ravel()
    t = np.asarray(truth).astype(np.int64).ravel()
    _, tpr = tpr_per_grain(p, t, matching="one_to_one")
    return {
        "ari": float(adjusted_rand_score(t, p)),
        "nmi": float(normalized_mutual_info_score(t, p)),
        "tpr": float(tpr),
        "k": int(np.unique(p[p >= 0]).size),
        "noise_share": float(np.mean(p == -1)),
    }


def run_method(func, signal, seeds, true_k, truth) -> dict:
    """Run one method once per seed; per-seed scores plus median (and min) ARI."""
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        try:
            labels = func(signal, seed, true_k)
        except Exception as exc:  # a failing method is a result, not a crash
            runs.append({"seed": seed, "error": f"{type(exc).__name__}: {exc}"})
            continue
        seconds = time.perf_counter() - t0
        labels = np.asarray(labels)
        if labels.shape != truth.shape:
            runs.append(
                {"seed": seed, "error": f"labels shape {labels.shape} != {truth.shape}"}
            )
            continue
        runs.append({"seed": seed, "time": seconds, **score(labels, truth)})
    ok = [r for r in runs if "error" not in r]
    out = {"runs": runs}
    if not ok:
        out["error"] = runs[0]["error"]
        return out
    for key in ("ari", "nmi", "tpr", "k", "time", "noise_share"):
        out[key] = float(np.median([r[key] for r in ok]))
    out["ari_min"] = float(min(r["ari"] for r in ok))
    out["k_all"] = [r["k"] for r in ok]
    return out


def _cell(res, repeat) -> str:
    if "error" in res:
        return "error"
    ari = f"{res['ari']:.2f}"
    if repeat > 1:
        ari += f" (min {res['ari_min']:.2f})"
    k = "/".join(str(v) for v in res["k_all"])
    return f"{ari} / {res['nmi']:.2f} / {res['tpr']:.2f} · k {k} · {res['time']:.1f} s"


def table(rows, names, repeat) -> str:
    head = ["scenario", "source", "N", "k", "sep"] + names
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for r in rows:
        cells = [
            r["name"],
            r["source"],
            str(r["n_positions"]),
            str(r["true_k"]),
            "" if r["min_separation"] is None else f"{r['min_separation']:.1f}",
        ] + [_cell(r["methods"][m], repeat) for m in names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows, names) -> dict:
    """Median ARI and time per method; default against the best baseline; share of
    scenarios with the found k within ``K_TOLERANCE`` of the true k."""
    out = {"n_scenarios": len(rows), "per_method": {}}
    for m in names:
        res = [r["methods"][m] for r in rows]
        ok = [x for x in res if "error" not in x]
        k_ok = [
            abs(x["k"] - r["true_k"]) <= K_TOLERANCE * r["true_k"]
            for r, x in zip(rows, res)
            if "error" not in x
        ]
        out["per_method"][m] = {
            "median_ari": float(np.median([x["ari"] for x in ok])) if ok else None,
            "median_nmi": float(np.median([x["nmi"] for x in ok])) if ok else None,
            "median_tpr": float(np.median([x["tpr"] for x in ok])) if ok else None,
            "k_within_20pct": float(np.mean(k_ok)) if k_ok else None,
            "median_time": float(np.median([x["time"] for x in ok])) if ok else None,
            "errors": len(res) - len(ok),
        }
    baselines = [m for m in names if m != "default"]
    if "default" in names and baselines:
        tie, near = [], []
        for r in rows:
            d = r["methods"]["default"]
            base = [
                r["methods"][m]["ari"]
                for m in baselines
                if "error" not in r["methods"][m]
            ]
            if not base:
                continue
            best = max(base)
            d_ari = d.get("ari", -1.0)
            d_min = d.get("ari_min", -1.0)
            tie.append(d_ari >= best - TIE)
            near.append(d_min >= best - FAR)
        out["default_vs_best_baseline"] = {
            "baselines": baselines,
            f"share_default_ge_best_minus_{TIE}": float(np.mean(tie)) if tie else None,
            f"share_default_never_below_best_minus_{FAR}": (
                float(np.mean(near)) if near else None
            ),
        }
    return out


def print_summary(s) -> None:
    print()
    for m, v in s["per_method"].items():
        fmt = lambda x, f=".3f": "n/a" if x is None else format(x, f)  # noqa: E731
        print(
            f"{m}: median ARI {fmt(v['median_ari'])}, NMI {fmt(v['median_nmi'])}, "
            f"TPR_G {fmt(v['median_tpr'])}; found k within ±20% of true k in "
            f"{fmt(v['k_within_20pct'], '.0%')} of scenarios; median time "
            f"{fmt(v['median_time'], '.1f')} s; errors {v['errors']}"
        )
    d = s.get("default_vs_best_baseline")
    if d:
        tie, near = (v for k, v in d.items() if k.startswith("share"))
        fmt = lambda x: "n/a" if x is None else f"{x:.0%}"  # noqa: E731
        print(
            f"default >= best baseline - {TIE}: {fmt(tie)} of scenarios; "
            f"default (worst seed) never more than {FAR} below the best baseline: "
            f"{fmt(near)}"
        )


def oracle(signal, truth, seed=0) -> dict:
    """Supervised upper bound: 5-fold cross-validated balanced accuracy of linear
    discriminant analysis trained on the truth, on PCA(50) of the raw patterns and
    of the EWPC features. Low values mean the labels are hardly separable with
    either representation, whatever the clustering."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(truth).ravel()
    raw = np.asarray(signal.data).reshape(y.size, -1).astype(np.float32)
    out = {}
    for name, X in (("raw", raw), ("ewpc", registry.ewpc_features(signal))):
        Z = registry._pca(X, seed)
        folds = min(5, int(np.bincount(y).min()))
        if folds < 2:
            out[name] = None
            continue
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        pred = cross_val_predict(LinearDiscriminantAnalysis(), Z, y, cv=cv)
        recall = [np.mean(pred[y == k] == k) for k in np.unique(y)]
        out[name] = round(float(np.mean(recall)), 3)
    return out


def warm_up(funcs) -> None:
    """Call every method once on a tiny scan, untimed and unscored."""
    from hyperspy_manifold.data import polycrystalline_film

    signal, truth = polycrystalline_film(shape=(16, 16), detector=32, n_grains=3)
    t0 = time.perf_counter()
    for name, func in funcs.items():
        try:
            func(signal, 0, truth.n_labels)
        except Exception as exc:  # reported again, per scenario, if it persists
            print(f"warm-up of {name} failed: {exc}", file=sys.stderr)
    print(f"warm-up {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def _environment() -> dict:
    import hyperspy_manifold

    env = {"hyperspy_manifold": hyperspy_manifold.__version__, "python": sys.version}
    try:
        root = HERE.parent.parent
        git = ["git", "-C", str(root)]
        env["commit"] = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        env["dirty"] = bool(
            subprocess.run(
                [*git, "status", "--porcelain", "--", "hyperspy_manifold"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    return env


def _quiet() -> None:
    warnings.filterwarnings("ignore", message=".*_get_block_pattern.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*")
    warnings.filterwarnings("ignore", message=".*force_all_finite.*")
    import hyperspy.api as hs

    hs.preferences.General.show_progressbar = False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=grid.SPLITS, required=True)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(registry.DEFAULT_METHODS),
        help="registry names or module:function (default: all registered)",
    )
    parser.add_argument(
        "--scenarios", nargs="+", help="keep scenarios whose name contains any of these"
    )
    parser.add_argument("--out", type=Path, help="JSON file (default results/...)")
    parser.add_argument(
        "--repeat-seeds",
        type=int,
        default=1,
        help="run every method with this many seeds; the table shows median ARI "
        "(and min)",
    )
    parser.add_argument("--seed", type=int, default=0, help="first method seed")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the untimed first call of every method on a tiny scan (imports "
        "and numba compilation would otherwise be timed in the first scenario)",
    )
    parser.add_argument(
        "--check-data",
        action="store_true",
        help="only make every scenario's data and print its truth facts",
    )
    args = parser.parse_args(argv)
    _quiet()

    chosen = grid.scenarios(args.split, args.scenarios)
    if not chosen:
        parser.error("no scenario matches")
    if args.list:
        for s in chosen:
            print(f"{s.name:28s} {s.source:12s} seed {s.seed}  {s.params}")
        return 0
    names = list(dict.fromkeys(args.methods))
    funcs = {m: registry.resolve(m) for m in names}
    seeds = [args.seed + i for i in range(max(1, args.repeat_seeds))]
    out = args.out or RESULTS / f"accuracy_{args.split}.json"
    if args.check_data:
        names = []

    if names and not args.no_warmup:
        warm_up(funcs)

    rows = []
    for i, s in enumerate(chosen, 1):
        t0 = time.perf_counter()
        signal, truth, info = grid.make_with_info(s)
        make_time = time.perf_counter() - t0
        true_k = int(truth.max()) + 1
        row = {
            "name": s.name,
            "source": s.source,
            "family": s.family,
            "split": s.split,
            "seed": s.seed,
            "params": s.params,
            "nav_shape": list(truth.shape),
            "detector": list(signal.axes_manager.signal_shape),
            "n_positions": int(truth.size),
            "true_k": true_k,
            "min_separation": info.get("min_separation"),
            "make_time": make_time,
            "truth_info": info,
            "methods": {},
        }
        print(
            f"[{i}/{len(chosen)}] {s.name}: {truth.shape} x "
            f"{signal.axes_manager.signal_shape}, k={true_k}, smallest label "
            f"{info['min_label_size']}, separation {info.get('min_separation')}, "
            f"made in {make_time:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if args.check_data:
            row["oracle"] = oracle(signal, truth)
            print(f"    oracle {row['oracle']}", file=sys.stderr, flush=True)
        for m in names:
            res = run_method(funcs[m], signal, seeds, true_k, truth)
            row["methods"][m] = res
            print(f"    {m}: {_cell(res, len(seeds))}", file=sys.stderr, flush=True)
        rows.append(row)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "split": args.split,
            "methods": names,
            "seeds": seeds,
            "environment": _environment(),
            "rows": rows,
            "summary": summary(rows, names) if names else None,
        }
        out.write_text(json.dumps(payload, indent=1, default=_json_default))
        del signal

    if args.check_data:
        print(
            "| scenario | source | nav | detector | k | smallest label | sep | "
            "LDA raw | LDA ewpc | make s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['name']} | {r['source']} | {r['nav_shape']} | "
                f"{r['detector'][0]} | {r['true_k']} | "
                f"{r['truth_info']['min_label_size']} | {r['min_separation']} | "
                f"{r['oracle']['raw']} | {r['oracle']['ewpc']} | "
                f"{r['make_time']:.1f} |"
            )
    if names:
        print(table(rows, names, len(seeds)))
        print(
            "\ncells: ARI / NMI / TPR_G (one-to-one) · found k · wall time; "
            "sep: smallest distance between label means in Poisson sigmas per pattern"
        )
        print_summary(payload["summary"])
    print(f"\nsaved {out}", file=sys.stderr)
    return 0


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, (np.ndarray, tuple, set)):
        return list(obj)
    return str(obj)


if __name__ == "__main__":
    sys.exit(main())
