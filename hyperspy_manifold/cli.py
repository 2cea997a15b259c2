"""The ``hyperspy-manifold`` command: from a detector file to a labelled structure map.

``hyperspy-manifold demo`` runs the whole pipeline on the simulated, labelled film
shipped with the package; ``hyperspy-manifold cluster FILE`` on any 4D-STEM file
rosettasciio reads.  Only the public API is used here.
"""

from __future__ import annotations

import argparse
import contextlib
import signal as _signal
import sys
import time
import warnings
from pathlib import Path

FEATURES = {
    "cepstrum": "cepstrum",
    "angular-average": "angular_average",
    "radial-variance": "radial_variance",
    "bragg": "bragg",
    "bright-field": "bright_field",
    "raw": "raw",
}
METHODS = ("umap-hdbscan", "kmeans", "spectral", "nmf")

#: Below this many patterns UMAP's neighbour graph means little: use k-means.
MIN_PATTERNS_FOR_UMAP = 64


class CLIError(Exception):
    """An error explained in one line to the user (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line with exit status 2, like every other CLI error
    (argparse would print the whole usage first)."""

    def error(self, message):
        raise CLIError(f"{message} (see `{self.prog} --help`)")


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived.

    A ``BaseException``, like ``KeyboardInterrupt``: raised wherever the main
    thread happens to be, it must pass through the ``except Exception`` blocks of
    the libraries (and of ``load_scan`` and the figures) instead of being taken
    for an ordinary failure and swallowed.
    """


def _on_signal(signum, frame):
    raise Interrupted(_signal.Signals(signum).name)


def _say(quiet, *args):
    if not quiet:
        print(*args, flush=True)


# ----------------------------------------------------------------------------- input


def load_scan(path, signal_index=None, lazy=True):
    """Load ``path`` with rosettasciio and return its 4D-STEM signal (lazy).

    Files holding several signals (a TopSpin ``.app5`` holds the scan and its
    survey images) give the one stack of 2D patterns among them; when there is
    more than one, ``signal_index`` (``--signal-index``) must choose.
    """
    import hyperspy.api as hs

    from hyperspy_manifold.io import check_scan_file, load_chunks

    path = Path(path)
    if not path.exists():
        raise CLIError(f"no such file: {path}")
    try:  # misnamed or damaged files: refused at once, not read as zeros
        check_scan_file(path)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {path.name}: {exc}") from None
    # navigation chunks by bytes, detector whole: with rosettasciio's default
    # chunks a lazy pass over a .mib peaks at ~9 times the file size in memory
    chunks = load_chunks(path) if lazy else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = hs.load(path, lazy=lazy, **({"chunks": chunks} if chunks else {}))
    except Exception as exc:  # rosettasciio raises many types for unreadable files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"cannot read {path.name}: {msg}") from None
    signals = loaded if isinstance(loaded, list) else [loaded]

    def listing():
        """``"0: <title> (7, 3|26, 31); 1: ..."`` for an error message."""
        return "; ".join(
            f"{i}: {s.metadata.General.title or type(s).__name__} "
            f"({', '.join(map(str, s.axes_manager.navigation_shape))}|"
            f"{', '.join(map(str, s.axes_manager.signal_shape))})"
            for i, s in enumerate(signals)
        )

    if signal_index is not None:
        if not 0 <= signal_index < len(signals):
            raise CLIError(
                f"--signal-index {signal_index} is out of range: {path.name} holds "
                f"{len(signals)} signal(s): {listing()}"
            )
        candidates = [signals[signal_index]]
    else:
        candidates = signals
    scans = [
        s
        for s in candidates
        if s.axes_manager.signal_dimension == 2
        and s.axes_manager.navigation_dimension >= 1
    ]
    if not scans:
        shapes = ", ".join(str(s.axes_manager.shape) for s in candidates)
        raise CLIError(
            f"{path.name} holds no 4D-STEM scan (a stack of 2D patterns); found "
            f"signal(s) of shape {shapes}"
        )
    if len(scans) > 1:
        raise CLIError(
            f"{path.name} holds {len(scans)} stacks of 2D patterns; choose one with "
            f"--signal-index: {listing()}"
        )
    s = scans[0]
    s.set_signal_type("manifold")
    return s


def parse_center(text):
    if text is None or text == "auto":
        return text
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise CLIError(
            f"--center must be 'auto' or 'X,Y' in pixels, got {text!r}"
        ) from None
    return (x, y)


def load_mask(path, shape):
    """Detector mask from ``.npy`` or any image rosettasciio reads (True = excluded)."""
    import numpy as np

    path = Path(path)
    if not path.exists():
        raise CLIError(f"no such mask file: {path}")
    try:
        if path.suffix == ".npy":
            mask = np.load(path, allow_pickle=False)
        else:
            import hyperspy.api as hs

            mask = np.asarray(hs.load(path).data)
    except Exception as exc:
        raise CLIError(f"cannot read mask {path.name}: {exc}") from None
    if mask.shape != tuple(shape):
        raise CLIError(
            f"--mask must have the detector shape {tuple(shape)}, got {mask.shape}"
        )
    return mask.astype(bool)


def apply_center(s, center, quiet):
    """Set the beam centre used by the polar features (pyxem conventions)."""
    import numpy as np

    if center is None:
        return
    if center == "auto":
        _say(quiet, "Finding the direct beam (pyxem get_direct_beam_position) ...")
        sigma = max(1.0, min(s.data.shape[-2:]) / 64)
        shifts = s.get_direct_beam_position(
            method="blur", sigma=sigma, lazy_output=False
        )
        # pyxem's shifts move the beam onto (kx / 2, ky / 2): beam = that - shift
        mean_shift = np.nanmean(np.asarray(shifts.data).reshape(-1, 2), axis=0)
        ky, kx = s.data.shape[-2:]
        center = (kx / 2 - mean_shift[0], ky / 2 - mean_shift[1])
    ky, kx = s.data.shape[-2:]
    if not (0 <= center[0] <= kx - 1 and 0 <= center[1] <= ky - 1):
        raise CLIError(f"--center {center} lies outside the {kx} x {ky} detector")
    s.calibration.center = list(center)


# --------------------------------------------------------------------------- pipeline


def run_pipeline(
    s,
    out,
    features="cepstrum",
    method="umap-hdbscan",
    n_fit=None,
    seed=0,
    signal_mask=None,
    quiet=False,
    truth=None,
    extra_summary=None,
    html=False,
    rings=None,
):
    """Features -> learning -> similarity -> files.  Returns the summary dict."""
    import numpy as np

    import hyperspy_manifold as hm

    timings = {}
    n_patterns = int(np.prod(s.axes_manager.navigation_shape))
    feature_kwargs = {}
    if signal_mask is not None and features in (
        "cepstrum",
        "angular_average",
        "radial_variance",
    ):
        feature_kwargs["signal_mask"] = signal_mask
    if rings is not None:
        feature_kwargs["rings"] = rings
    algorithm = {
        "umap-hdbscan": "hdbscan",
        "kmeans": "kmeans",
        "spectral": "spectral",
    }.get(method)
    kwargs = {}
    if algorithm == "hdbscan" and n_patterns < MIN_PATTERNS_FOR_UMAP:
        # a notice on stdout (never mixed into the one-line errors on stderr)
        _say(
            quiet,
            f"note: only {n_patterns} patterns, too few for UMAP + HDBSCAN: "
            "using k-means on the features instead",
        )
        method, algorithm = "kmeans", "kmeans"
    if algorithm in ("kmeans", "spectral"):
        kwargs["n_clusters"] = max(1, min(4, n_patterns - 1))
    _say(quiet, f"Features: {features}; method: {method}; {n_patterns} patterns")
    t0 = time.perf_counter()
    if method == "nmf":
        result = nmf_result(s, features, feature_kwargs, seed, quiet)
    else:
        result = hm.manifold_decomposition(
            s,
            features=features,
            feature_kwargs=feature_kwargs or None,
            algorithm=algorithm,
            n_fit=n_fit,
            random_state=seed,
            return_info=True,
            show_progressbar=not quiet,
            **kwargs,
        )
    timings["features_and_learning_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _say(quiet, "Similarity loadings ...")
    similarity = hm.get_similarity_loadings(
        s, labels=result.labels, show_progressbar=not quiet
    )
    timings["similarity_s"] = time.perf_counter() - t0
    summary = {"features": features, "method": method, "seed": seed, "n_fit": n_fit}
    if truth is not None:
        from hyperspy_manifold.learn.metrics import adjusted_rand

        summary["ari"] = float(adjusted_rand(result.labels.data, truth))
    summary.update(extra_summary or {})
    summary["timings"] = timings
    _say(quiet, f"Writing results to {out} ...")
    info = hm.save_results(result, out, similarity=similarity, summary=summary)
    if html:
        from hyperspy_manifold.html_report import to_html

        _say(quiet, "Writing report.html ...")
        to_html(
            result,
            Path(out) / "report.html",
            signal=s,
            similarity=similarity,
            summary=info,
        )
    return info


def nmf_result(s, features, feature_kwargs, seed, quiet):
    """Iterative NMF; every position labelled by its strongest component."""
    import numpy as np

    import hyperspy_manifold as hm

    nmf = hm.bragg_nmf(
        s,
        features=features,
        feature_kwargs=feature_kwargs or None,
        random_state=seed,
        return_info=True,
        show_progressbar=not quiet,
    )
    W = np.nan_to_num(nmf.W)
    labels = np.where(W.sum(axis=1) > 0, W.argmax(axis=1), -1)
    parameters = {
        "algorithm": "nmf",
        "features": features,
        "n_components": int(nmf.n_components),
        "initial_n_components": int(nmf.initial_n_components),
        "merge_threshold": float(nmf.merge_threshold),
        "reconstruction_error": float(nmf.reconstruction_error),
        "random_state": seed,
    }
    return hm.cluster_result(
        s, labels, embedding=W, parameters=parameters, show_progressbar=not quiet
    )


# ------------------------------------------------------------------------------ CLI


def build_parser():
    p = _Parser(
        prog="hyperspy-manifold",
        description="Unsupervised structure discovery in 4D-STEM: cepstral and polar "
        "features, UMAP + HDBSCAN, k-means, spectral clustering.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(q):
        q.add_argument(
            "--out", required=True, type=Path, help="output folder (created)"
        )
        q.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        q.add_argument("--quiet", action="store_true", help="no progress output")
        q.add_argument(
            "--html",
            action="store_true",
            help="also write report.html: an interactive report that opens offline",
        )

    d = sub.add_parser(
        "demo",
        help="whole pipeline on a simulated, labelled scan shipped with the package",
        description="Run cepstrum features -> UMAP -> HDBSCAN on the simulated "
        "polycrystalline film of hyperspy_manifold.data and report the adjusted "
        "Rand index against its known grain map.",
    )
    common(d)
    d.set_defaults(out=Path("demo_output"))
    for action in d._actions:
        if action.dest == "out":
            action.required = False
            action.help = "output folder (default demo_output)"

    c = sub.add_parser(
        "cluster",
        help="cluster the patterns of a 4D-STEM file",
        description="Load FILE lazily (anything rosettasciio reads), compute features "
        "of every pattern, cluster them, and write results.zspy, figures and "
        "summary.json into --out.",
    )
    c.add_argument("file", type=Path, metavar="FILE")
    c.add_argument("--features", choices=sorted(FEATURES), default="cepstrum")
    c.add_argument("--method", choices=METHODS, default="umap-hdbscan")
    c.add_argument("--center", default=None, help="'auto' (pyxem) or X,Y in pixels")
    c.add_argument(
        "--mask", type=Path, default=None, help="detector mask (.npy, True = excluded)"
    )
    c.add_argument(
        "--n-fit",
        type=int,
        default=None,
        help="fit on a random subsample of N patterns",
    )
    c.add_argument(
        "--rings",
        default=None,
        help="ring edges of the angular-average features, comma-separated radii in "
        "the detector's calibrated units, e.g. 0.2,0.5,0.8 (default: found from "
        "the data)",
    )
    c.add_argument(
        "--signal-index",
        type=int,
        default=None,
        help="which signal of a multi-signal file",
    )
    g = c.add_mutually_exclusive_group()
    g.add_argument(
        "--scheduler", default=None, help="address of a dask.distributed scheduler"
    )
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help="start a local cluster of N worker processes",
    )
    common(c)
    return p


@contextlib.contextmanager
def _dask_client(scheduler=None, workers=None):
    if scheduler is None and workers is None:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if workers is not None:
        if workers < 1:
            raise CLIError(f"--workers must be >= 1, got {workers}")
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout="10s")
        except Exception as exc:
            raise CLIError(
                f"cannot connect to the scheduler {scheduler}: {exc}"
            ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def demo(args):
    import time as _time

    from hyperspy_manifold.data import polycrystalline_film

    t0 = _time.perf_counter()
    _say(args.quiet, "Simulating a polycrystalline film with known grains ...")
    # a 32 x 32 scan of 8 Ag grains and an amorphous patch; probe overlap mixes
    # neighbouring grains over 1 nm at each boundary (those patterns are the
    # ambiguous ones that bound the attainable ARI)
    s, truth = polycrystalline_film(boundary_width=1.0, random_state=args.seed)
    info = run_pipeline(
        s,
        args.out,
        features="cepstrum",
        method="umap-hdbscan",
        seed=args.seed,
        quiet=args.quiet,
        truth=truth.labels,
        extra_summary={
            "input": "hyperspy_manifold.data.polycrystalline_film(boundary_width=1.0, "
            f"random_state={args.seed})"
        },
        html=args.html,
    )
    info["timings"]["total_s"] = _time.perf_counter() - t0
    print(
        f"clusters: {info['n_clusters']}  noise: {info['noise_positions']}  "
        f"ARI vs ground truth: {info['ari']:.3f}  time: {info['timings']['total_s']:.1f} s  "
        f"-> {args.out}"
    )
    return 0


def parse_rings(text, features):
    """``--rings r0,r1,...`` as a list of floats; only for angular-average features."""
    if text is None:
        return None
    if features != "angular-average":
        raise CLIError(
            f"--rings applies to --features angular-average, not {features!r}"
        )
    try:
        edges = [float(v) for v in text.split(",")]
    except ValueError:
        raise CLIError(
            f"--rings must be comma-separated radii, e.g. 0.2,0.5,0.8; got {text!r}"
        ) from None
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise CLIError(f"--rings must be at least two increasing radii, got {text!r}")
    return edges


def cluster(args):
    if args.n_fit is not None and args.n_fit < 2:
        raise CLIError(f"--n-fit must be >= 2, got {args.n_fit}")
    center = parse_center(args.center)
    rings = parse_rings(args.rings, args.features)
    t0 = time.perf_counter()
    with _dask_client(args.scheduler, args.workers):
        _say(args.quiet, f"Loading {args.file} (lazy) ...")
        s = load_scan(args.file, args.signal_index)
        mask = load_mask(args.mask, s.data.shape[-2:]) if args.mask else None
        apply_center(s, center, args.quiet)
        info = run_pipeline(
            s,
            args.out,
            features=FEATURES[args.features],
            method=args.method,
            n_fit=args.n_fit,
            seed=args.seed,
            signal_mask=mask,
            quiet=args.quiet,
            extra_summary={"input": str(args.file)},
            html=args.html,
            rings=rings,
        )
    print(
        f"clusters: {info['n_clusters']}  noise: {info['noise_positions']}  "
        f"time: {time.perf_counter() - t0:.1f} s  -> {args.out}"
    )
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except CLIError as exc:
        print(f"hyperspy-manifold: error: {exc}", file=sys.stderr)
        return 2
    # library deprecation notices (zarr 2 in rosettasciio, HyperSpy internals) are
    # noise for a CLI user; --quiet silences every warning so stderr holds errors only
    if args.quiet:
        warnings.simplefilter("ignore")
    else:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*_get_block_pattern.*")
    old = {
        sig: _signal.signal(sig, _on_signal)
        for sig in (_signal.SIGINT, _signal.SIGTERM)
    }
    try:
        return {"demo": demo, "cluster": cluster}[args.command](args)
    except (CLIError, ValueError) as exc:
        # the library's ValueErrors are written for people: name the parameter
        # and the fix, so one line is all the user needs
        message = " ".join(str(exc).split())
        print(f"hyperspy-manifold: error: {message}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(
            f"hyperspy-manifold: interrupted by {exc}; no partial results were written",
            file=sys.stderr,
        )
        return 130
    finally:
        for sig, handler in old.items():
            _signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
