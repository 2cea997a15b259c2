"""The ``hyperspy-manifold`` command: from a detector file to a labelled structure map.

``hyperspy-manifold demo`` runs the whole pipeline on the simulated, labelled film
shipped with the package; ``hyperspy-manifold cluster FILE`` on any 4D-STEM file
rosettasciio reads.  Only the public API is used here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal as _signal
import socket
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

FEATURES = {
    "cepstrum": "cepstrum",
    "angular-average": "angular_average",
    "radial-variance": "radial_variance",
    "radial-profile": "radial_profile",
    "bragg": "bragg",
    "bright-field": "bright_field",
    "raw": "raw",
}
METHODS = ("umap-hdbscan", "kmeans", "spectral", "nmf")
#: --window values and the ``window`` of ``get_cepstrum`` they stand for.
WINDOWS = {
    "hann": "hann",
    "radial-hann": "radial_hann",
    "gaussian": "gaussian",
    "none": None,
}

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


def _int_at_least(minimum):
    """An argparse ``type``: an integer >= ``minimum`` (argparse names the option
    in its error)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {value}"
            )
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


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


# -------------------------------------------------------------------------- output
#
# One run's files appear in --out together or not at all: they are written into a
# temporary folder next to --out (same file system, so a rename moves them) and
# the folder is renamed onto --out at the end.  A previous output set is first
# renamed aside, so at any instant --out holds one complete set or nothing, even
# when the process is killed (SIGKILL: no clean-up runs) or another run writes
# into the same --out.  The temporary names carry host and pid, so a later run
# tells a killed run's leftovers from a live run's folder.

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.hm-(?:tmp|old)-(?P<host>[^-]*)-(?P<pid>\d+)-")


def _host():
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32]


def _temporary_prefix(out: Path, kind: str) -> str:
    return f".{out.name}.hm-{kind}-{_host()}-{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    import psutil  # a dependency of dask.distributed

    return psutil.pid_exists(pid)


def _own_files(folder: Path):
    """The entries of ``folder`` when it holds one earlier output set of this
    command (every entry listed in its summary.json), else None."""
    import json

    entries = {p.name for p in folder.iterdir()}
    if not entries:
        return entries
    try:
        listed = json.loads((folder / "summary.json").read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entries if isinstance(listed, list) and entries <= set(listed) else None


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is an existing file: give a folder to write into")
    if out.is_dir() and _own_files(out) is None:
        raise CLIError(
            f"--out {out} holds files that are not the output of an earlier run "
            "(they would be replaced): give a new or an empty folder"
        )


def clean_stale(out: Path, quiet: bool) -> list[Path]:
    """Remove the temporary folders next to ``out`` left by killed runs; report
    those of other hosts (their runs may be alive).  Returns the removed paths."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in out.parent.iterdir():
        match = _TEMPORARY.match(path.name)
        if match is None or match["name"] != out.name:
            continue
        if match["host"] != _host():
            _say(quiet, f"note: {path} is from a run on host {match['host']}; left")
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _process_alive(pid):
            continue  # a run writing into the same --out right now
        shutil.rmtree(path, ignore_errors=True)
        _say(quiet, f"note: removed {path}, left by a killed run")
        removed.append(path)
    return removed


@contextlib.contextmanager
def _deferred_signals():
    """Hold SIGINT/SIGTERM back for the few renames of a commit, so an
    interruption never falls between moving the old set aside and the new one in."""
    caught = []
    old = {}
    for sig in (_signal.SIGINT, _signal.SIGTERM):
        old[sig] = _signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in old.items():
            _signal.signal(sig, handler)
        if caught:
            raise Interrupted(_signal.Signals(caught[0]).name)


def _commit(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` onto ``out``, moving any output set already there aside."""
    trash = []
    try:
        for _ in range(100):
            try:
                os.rename(tmp, out)
                return
            except OSError:
                if not os.path.lexists(out):
                    raise
            if not out.is_dir() or _own_files(out) is None:
                raise CLIError(
                    f"--out {out} was given other files during the run, so the "
                    "results were not moved there: give a new or an empty folder"
                )
            old = out.parent / (_temporary_prefix(out, "old") + secrets.token_hex(4))
            try:
                os.rename(out, old)
            except FileNotFoundError:  # another run moved it first
                continue
            trash.append(old)
        raise OSError(f"could not move the results onto {out}: it keeps reappearing")
    finally:
        for old in trash:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def output_set(out, quiet=False):
    """Yield a temporary folder next to ``out``; rename it onto ``out`` when the
    block succeeds, remove it when the block fails or is interrupted.

    ``out`` is checked (not an existing file, no foreign files in it, its parent
    writable) before the block runs, that is, before any computation.
    """
    out = Path(out).absolute()
    if out.is_symlink():
        out = out.resolve()
    _check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=_temporary_prefix(out, "tmp"), dir=out.parent)
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CLIError(
            f"--out {out}: cannot write into {out.parent}: {reason}"
        ) from None
    clean_stale(out, quiet)
    try:
        yield tmp
        with _deferred_signals():
            _commit(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_listing(folder: Path, info: dict) -> None:
    """Make ``summary.json`` list exactly the files in ``folder``."""
    import json

    written = {p.name for p in folder.iterdir()}
    if written != set(info["files"]):
        listed = [name for name in info["files"] if name in written]
        info["files"] = listed + sorted(written - set(listed))
        (folder / "summary.json").write_text(json.dumps(info, indent=2))


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
    n_clusters=None,
    min_cluster_size=None,
    window=None,
):
    """Features -> learning -> similarity -> files in the folder ``out``.

    ``n_clusters`` (kmeans, spectral), ``min_cluster_size`` (umap-hdbscan),
    ``window`` (cepstrum; a key of :data:`WINDOWS`) and ``rings`` (angular
    average) are the keywords of the same name of the public API; None keeps
    its default.  Returns the
    summary dict; its ``files`` lists exactly the files written.
    """
    import numpy as np

    import hyperspy_manifold as hm
    from hyperspy_manifold import _progress
    from hyperspy_manifold.plot.report import FIGURES

    timings = {}
    n_patterns = int(np.prod(s.axes_manager.navigation_shape))
    n_fitted = n_patterns if n_fit is None else min(n_fit, n_patterns)
    # the detector mask reaches every feature transform through the API's
    # ``signal_mask`` (bragg: no peak searched there; raw: the pixels zeroed)
    feature_kwargs = {}
    if rings is not None:
        feature_kwargs["rings"] = rings
    if window is not None:
        feature_kwargs["window"] = WINDOWS[window]
    algorithm = {
        "umap-hdbscan": "hdbscan",
        "kmeans": "kmeans",
        "spectral": "spectral",
    }.get(method)
    kwargs = {}
    if algorithm == "hdbscan" and n_patterns < MIN_PATTERNS_FOR_UMAP:
        if min_cluster_size is not None:
            raise CLIError(
                f"--min-cluster-size needs UMAP + HDBSCAN, but the scan has only "
                f"{n_patterns} patterns (at least {MIN_PATTERNS_FOR_UMAP}): use "
                "--method kmeans --n-clusters N"
            )
        # a notice on stdout (never mixed into the one-line errors on stderr)
        _say(
            quiet,
            f"note: only {n_patterns} patterns, too few for UMAP + HDBSCAN: "
            "using k-means on the features instead",
        )
        method, algorithm = "kmeans", "kmeans"
    if algorithm in ("kmeans", "spectral"):
        if n_clusters is None:
            n_clusters = max(1, min(4, n_patterns - 1))
        elif n_clusters > n_fitted:
            raise CLIError(
                f"--n-clusters {n_clusters} is more than the {n_fitted} patterns "
                "clustered"
            )
        kwargs["n_clusters"] = n_clusters
    if min_cluster_size is not None:
        if min_cluster_size > n_fitted:
            raise CLIError(
                f"--min-cluster-size {min_cluster_size} is more than the {n_fitted} "
                "patterns clustered"
            )
        kwargs["min_cluster_size"] = min_cluster_size
    _say(quiet, f"Features: {features}; method: {method}; {n_patterns} patterns")
    with _progress.count_data_reads() as reads:
        result, similarity = _learn(
            s,
            method,
            features,
            feature_kwargs,
            signal_mask,
            algorithm,
            n_fit,
            seed,
            quiet,
            kwargs,
            timings,
        )
    summary = {"features": features, "method": method, "seed": seed, "n_fit": n_fit}
    # passes over the scan's data (features, cluster statistics ...)
    summary["data_reads"] = round(reads.reads, 2)
    # the keywords given to the feature transform (the mask is described apart)
    summary["feature_kwargs"] = dict(feature_kwargs)
    if truth is not None:
        from hyperspy_manifold.learn.metrics import adjusted_rand

        summary["ari"] = float(adjusted_rand(result.labels.data, truth))
    summary.update(extra_summary or {})
    summary["timings"] = timings
    summary["files"] = ["results.zspy", *FIGURES]
    summary["files"] += ["report.html", "summary.json"] if html else ["summary.json"]
    _say(quiet, "Writing the results ...")
    info = hm.save_results(result, out, similarity=similarity, summary=summary)
    if html:
        from hyperspy_manifold.plot.html_report import to_html

        _say(quiet, "Writing report.html ...")
        to_html(
            result,
            Path(out) / "report.html",
            signal=s,
            similarity=similarity,
            summary=info,
        )
    _check_listing(Path(out), info)
    return info


def _learn(
    s,
    method,
    features,
    feature_kwargs,
    signal_mask,
    algorithm,
    n_fit,
    seed,
    quiet,
    kwargs,
    timings,
):
    """The learning step of :func:`run_pipeline`: ``(result, similarity)``."""
    import hyperspy_manifold as hm

    t0 = time.perf_counter()
    if method == "nmf":
        result = nmf_result(s, features, feature_kwargs, seed, quiet, signal_mask)
    else:
        result = hm.manifold_decomposition(
            s,
            features=features,
            feature_kwargs=feature_kwargs or None,
            signal_mask=signal_mask,
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
        s, labels=result, show_progressbar=not quiet
    )
    timings["similarity_s"] = time.perf_counter() - t0
    return result, similarity


def nmf_result(s, features, feature_kwargs, seed, quiet, signal_mask=None):
    """Iterative NMF; every position labelled by its strongest component."""
    import numpy as np

    import hyperspy_manifold as hm

    nmf = hm.bragg_nmf(
        s,
        features=features,
        feature_kwargs=feature_kwargs or None,
        signal_mask=signal_mask,
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
            "--out",
            required=True,
            type=Path,
            help="output folder, created or replaced as a whole by this run's files "
            "(written next to it first, moved in at the end)",
        )
        q.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        q.add_argument("--quiet", action="store_true", help="no progress output")
        q.add_argument(
            "--debug",
            action="store_true",
            help="on an error, show the Python traceback, not only the one-line cause",
        )
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
        "--mask",
        type=Path,
        default=None,
        help="detector mask (.npy or an image, True = excluded), used by every "
        "--features",
    )
    c.add_argument(
        "--n-fit",
        type=_int_at_least(3),
        default=None,
        metavar="N",
        help="fit on a random subsample of N >= 3 patterns, then label the others "
        "(not for --method nmf)",
    )
    c.add_argument(
        "--n-clusters",
        type=_int_at_least(1),
        default=None,
        metavar="N",
        help="number of clusters of --method kmeans or spectral (default 4, at "
        "most the number of patterns - 1)",
    )
    c.add_argument(
        "--min-cluster-size",
        type=_int_at_least(2),
        default=None,
        metavar="K",
        help="HDBSCAN minimum cluster size of --method umap-hdbscan: one HDBSCAN "
        "run with it, noise kept as -1 (default: the partition is chosen "
        "automatically, every pattern in a cluster)",
    )
    c.add_argument(
        "--window",
        choices=sorted(WINDOWS),
        default=None,
        help="apodisation window of --features cepstrum (default hann)",
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
    with output_set(args.out, args.quiet) as folder:
        _say(args.quiet, "Simulating a polycrystalline film with known grains ...")
        # a 32 x 32 scan of 8 Ag grains and an amorphous patch; probe overlap
        # mixes neighbouring grains over 1 nm at each boundary (those patterns are
        # the ambiguous ones that bound the attainable ARI)
        s, truth = polycrystalline_film(boundary_width=1.0, random_state=args.seed)
        info = run_pipeline(
            s,
            folder,
            features="cepstrum",
            method="umap-hdbscan",
            seed=args.seed,
            quiet=args.quiet,
            truth=truth.labels,
            extra_summary={
                "input": "hyperspy_manifold.data.polycrystalline_film("
                f"boundary_width=1.0, random_state={args.seed})"
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


def check_options(args):
    """Refuse, before anything is read or computed, an option the chosen
    ``--method`` or ``--features`` does not use (it would be silently ignored)."""
    method, features = args.method, args.features
    if args.n_fit is not None and method == "nmf":
        raise CLIError(
            "--n-fit applies to --method umap-hdbscan, kmeans or spectral, not nmf "
            "(NMF factorises every pattern)"
        )
    if args.n_clusters is not None and method not in ("kmeans", "spectral"):
        hint = (
            "; umap-hdbscan finds the number itself (--min-cluster-size sets "
            "the smallest cluster)"
            if method == "umap-hdbscan"
            else "; NMF finds the number of components itself"
        )
        raise CLIError(
            f"--n-clusters applies to --method kmeans or spectral, not {method}{hint}"
        )
    if args.min_cluster_size is not None and method != "umap-hdbscan":
        raise CLIError(
            f"--min-cluster-size applies to --method umap-hdbscan, not {method}"
        )
    if args.window is not None and features != "cepstrum":
        raise CLIError(f"--window applies to --features cepstrum, not {features!r}")


def cluster(args):
    check_options(args)
    center = parse_center(args.center)
    rings = parse_rings(args.rings, args.features)
    t0 = time.perf_counter()
    with (
        output_set(args.out, args.quiet) as folder,
        _dask_client(args.scheduler, args.workers),
    ):
        _say(args.quiet, f"Loading {args.file} (lazy) ...")
        s = load_scan(args.file, args.signal_index)
        mask = load_mask(args.mask, s.data.shape[-2:]) if args.mask else None
        apply_center(s, center, args.quiet)
        extra = {"input": str(args.file)}
        if mask is not None:
            extra["mask"] = {"file": str(args.mask), "pixels": int(mask.sum())}
        info = run_pipeline(
            s,
            folder,
            features=FEATURES[args.features],
            method=args.method,
            n_fit=args.n_fit,
            seed=args.seed,
            signal_mask=mask,
            quiet=args.quiet,
            extra_summary=extra,
            html=args.html,
            rings=rings,
            n_clusters=args.n_clusters,
            min_cluster_size=args.min_cluster_size,
            window=args.window,
        )
    print(
        f"clusters: {info['n_clusters']}  noise: {info['noise_positions']}  "
        f"time: {time.perf_counter() - t0:.1f} s  -> {args.out}"
    )
    return 0


#: Longest error line printed; --debug shows the whole message and traceback.
MAX_MESSAGE = 400


def describe(exc: BaseException) -> str:
    """``exc`` on one line: its type and message."""
    message = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        message = (message + ": " if message else "") + (
            "out of memory; fit on a subsample (--n-fit N) or use a machine with "
            "more memory"
        )
    elif not message:
        message = "(no message; --debug shows the traceback)"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 30] + " ... (--debug shows the rest)"
    return f"{type(exc).__name__}: {message}"


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
        if args.debug:
            traceback.print_exc()
        message = " ".join(str(exc).split())
        print(f"hyperspy-manifold: error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:
        # anything else (a full disk, a lost dask worker, memory, a bug): its
        # type and message on one line, the traceback with --debug
        if args.debug:
            traceback.print_exc()
        print(f"hyperspy-manifold: error: {describe(exc)}", file=sys.stderr)
        return 1
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
