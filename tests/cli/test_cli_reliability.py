"""The command line under failure and its options (issue 13, items 12 and 13).

Output sets are atomic: one run's files appear in ``--out`` together or not at
all, whether the run fails, is killed (SIGKILL) while writing, or races another
run into the same ``--out``.  Every failure is one line on stderr and a non-zero
exit status (the traceback with ``--debug``).  Every option reaches the keyword
of the public API it stands for and changes the result as it should.

The subprocess runs replace the learning by a fixed label map (the writer is what
they test, and UMAP's first compilation in a fresh process would take longer than
the rest of the test) and stop deterministically at a chosen point: they touch a
mark file, then sleep until killed.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import spot_lattice

import hyperspy_manifold as hm
from hyperspy_manifold import cli
from hyperspy_manifold.learn.metrics import adjusted_rand
from hyperspy_manifold.plot.report import FIGURES

#: Navigation shape of the test scans: 72 patterns, enough for UMAP + HDBSCAN.
NAV = (8, 9)
DETECTOR = 24


def stripes(n, shape=NAV):
    """Label map of ``n`` vertical stripes of equal width."""
    return (np.arange(shape[1]) * n // shape[1])[None, :].repeat(shape[0], axis=0)


def stripes_scan(n_regions=3, seed=0, shape=NAV):
    """Spot patterns whose lattice spacing changes from stripe to stripe (the
    known answer: :func:`stripes`), with Poisson noise."""
    rng = np.random.default_rng(seed)
    spacings = [(6.0, 6.0), (8.0, 8.0), (5.0, 9.0), (7.0, 5.0)][:n_regions]
    detector = (DETECTOR, DETECTOR)
    lattices = np.stack([spot_lattice(detector, g=g) * 50 + 2 for g in spacings])
    data = rng.poisson(lattices[stripes(n_regions, shape)]).astype(np.float32)
    return hs.signals.Signal2D(data)


@pytest.fixture(scope="module")
def scan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "stripes.zspy"
    stripes_scan().save(path)
    return path


def run(args, capsys=None):
    code = cli.main([str(a) for a in args])
    if capsys is None:
        return code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def summary(out):
    return json.loads((Path(out) / "summary.json").read_text())


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def temporaries(out):
    """Temporary folders of any run next to ``out``."""
    out = Path(out)
    return sorted(p.name for p in out.parent.glob(f".{out.name}.hm-*"))


def labels_of(out):
    return np.asarray(hs.load(Path(out) / "results.zspy").data)


def fixed_labels(s, n_clusters=None, **kwargs):
    """Stand-in for ``manifold_decomposition``: ``n_clusters`` stripes (2 when not
    given), so which run wrote a file is visible in it."""
    n = n_clusters or 2
    nav = s.axes_manager.navigation_shape[::-1]
    return hm.cluster_result(
        s,
        stripes(n, nav),
        parameters={"algorithm": "fixed", "n_clusters": n},
        show_progressbar=False,
    )


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(hm, "manifold_decomposition", fixed_labels)


def assert_one_complete_set(out, n_clusters=None):
    """``out`` holds exactly the files its summary lists, all from one run."""
    info = summary(out)
    assert listing(out) == sorted(info["files"])
    labels = labels_of(out)
    assert len(np.unique(labels)) == info["n_clusters"]
    if n_clusters is not None:
        assert info["n_clusters"] == n_clusters
        np.testing.assert_array_equal(labels, stripes(n_clusters))
    return info


# ----------------------------------------------------------- item 12: the output set


@pytest.mark.parametrize("html", [False, True])
def test_summary_lists_exactly_the_files_written(tmp_path, scan_file, fast, html):
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--method", "kmeans", "--n-clusters", "2"]
    assert run(args + ["--out", out, "--quiet"] + (["--html"] if html else [])) == 0
    info = assert_one_complete_set(out, 2)
    expected = {"results.zspy", *FIGURES, "summary.json"}
    assert set(info["files"]) == expected | ({"report.html"} if html else set())
    assert temporaries(out) == []


@pytest.mark.slow
def test_a_rerun_replaces_the_whole_set(tmp_path, scan_file, fast):
    # the first run writes report.html, the second not: a file left over from the
    # first would make a mixture of two runs
    out = tmp_path / "o"
    base = ["cluster", scan_file, "--method", "kmeans", "--out", out, "--quiet"]
    assert run(base + ["--n-clusters", "3", "--html"]) == 0
    assert "report.html" in listing(out)
    assert run(base + ["--n-clusters", "2"]) == 0
    assert "report.html" not in listing(out)
    assert_one_complete_set(out, 2)
    assert temporaries(out) == []


def _no_computation(*args, **kwargs):
    raise AssertionError("the data were read before --out was checked")


@pytest.mark.parametrize(
    "make_out, match",
    [
        (lambda d: (d / "f.txt").write_text("mine") and d / "f.txt", "existing file"),
        (
            lambda d: (d / "f.txt").write_text("mine") and d / "f.txt" / "o",
            "cannot write into",
        ),
        (
            lambda d: (
                (d / "o").mkdir()
                or (d / "o" / "notes.txt").write_text("mine")
                and d / "o"
            ),
            "not the output of an earlier run",
        ),
    ],
    ids=["file", "under-a-file", "foreign-files"],
)
def test_bad_out_fails_before_any_computation(
    tmp_path, scan_file, monkeypatch, capsys, make_out, match
):
    out = make_out(tmp_path)
    monkeypatch.setattr(cli, "load_scan", _no_computation)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.txt")}
    code, _, err = run(["cluster", scan_file, "--out", out, "--quiet"], capsys)
    assert code == 2
    assert err.startswith("hyperspy-manifold: error: --out ")
    assert match in err and len(err.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.txt")} == before
    assert list(tmp_path.glob("**/.*.hm-*")) == []


def test_demo_checks_out_before_simulating(tmp_path, monkeypatch, capsys):
    import hyperspy_manifold.data as data

    monkeypatch.setattr(data, "polycrystalline_film", _no_computation)
    (tmp_path / "f").write_text("mine")
    code, _, err = run(["demo", "--out", tmp_path / "f", "--quiet"], capsys)
    assert code == 2 and "existing file" in err


def _boom_dask(*args, **kwargs):
    import dask.array as da
    from distributed import KilledWorker

    def lost(block):
        worker = SimpleNamespace(address="tcp://127.0.0.1:40000")
        raise KilledWorker("features-0", worker, 3)

    da.ones(4, chunks=2).map_blocks(lost, dtype=float).compute(scheduler="sync")


def _boom(exc):
    def boom(*args, **kwargs):
        raise exc

    return boom


def _divide(*args, **kwargs):
    return 1 / 0


@pytest.mark.parametrize(
    "inject, code, cause",
    [
        (_boom(OSError(28, "No space left on device")), 1, "OSError: [Errno 28] No"),
        (_boom(RuntimeError("solver\ndiverged")), 1, "RuntimeError: solver diverged"),
        (_divide, 1, "ZeroDivisionError: division by zero"),
        (_boom(MemoryError()), 1, "MemoryError: out of memory; fit on a subsample"),
        (_boom_dask, 1, "KilledWorker: Attempted to run task 'features-0' on 4"),
        (_boom(ValueError("`n_fit` must be >= 3, got 2.")), 2, "`n_fit` must be >= 3"),
    ],
    ids=[
        "OSError",
        "RuntimeError",
        "ZeroDivisionError",
        "MemoryError",
        "dask",
        "Value",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_every_failure_is_one_line(
    tmp_path, scan_file, monkeypatch, capsys, inject, code, cause, debug
):
    monkeypatch.setattr(hm, "manifold_decomposition", inject)
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--method", "kmeans", "--out", out, "--quiet"]
    got, _, err = run(args + (["--debug"] if debug else []), capsys)
    assert got == code
    lines = err.strip().splitlines()
    assert lines[-1].startswith("hyperspy-manifold: error: ")
    assert cause in lines[-1]
    if debug:
        assert lines[0] == "Traceback (most recent call last):"
    else:
        assert len(lines) == 1, err
    assert not out.exists() and temporaries(out) == []


# ---------------------------------------------------- killed and concurrent processes

#: Runs the CLI with the learning replaced by :func:`fixed_labels` and a stop:
#: ``write`` while the figures go into the temporary folder, ``commit`` between
#: moving the old set aside and the new one in, ``gate`` before the commit until
#: the file $GATE exists.  $MARK is touched on arrival.
RUNNER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    sys.path[:0] = os.environ["TESTS"].split(os.pathsep)
    import hyperspy_manifold as hm
    from hyperspy_manifold import cli
    from hyperspy_manifold.plot import report
    from test_cli_reliability import fixed_labels

    hm.manifold_decomposition = fixed_labels
    stop, mark = os.environ.get("STOP"), Path(os.environ.get("MARK", "-"))

    def arrive():
        mark.touch()
        time.sleep(600)

    if stop == "write":
        report.figure_k_scan = lambda result: arrive()
    elif stop == "commit":
        rename = os.rename

        def rename_then_stop(a, b):
            rename(a, b)
            if ".hm-old-" in str(b):
                arrive()

        os.rename = rename_then_stop
    elif stop == "gate":
        commit = cli._commit

        def wait_then_commit(tmp, out):
            mark.touch()
            while not Path(os.environ["GATE"]).exists():
                time.sleep(0.02)
            commit(tmp, out)

        cli._commit = wait_then_commit
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def start(tmp_path, args, **env):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    environ = dict(
        os.environ, TESTS=os.pathsep.join(str(p) for p in Path(__file__).parents[:2])
    )
    environ.update({k: str(v) for k, v in env.items()})
    command = [sys.executable, str(script), *map(str, args)]
    return subprocess.Popen(
        command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(path, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended first: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "stop, previous",
    [("write", True), ("commit", True)],
    ids=["mid-write", "mid-commit"],
)
@pytest.mark.slow
def test_killed_run_leaves_the_previous_set_or_nothing(
    tmp_path, scan_file, monkeypatch, capsys, stop, previous
):
    out = tmp_path / "o"
    base = ["cluster", scan_file, "--method", "kmeans", "--out", out, "--quiet"]
    monkeypatch.setattr(hm, "manifold_decomposition", fixed_labels)
    if previous:
        assert run(base + ["--n-clusters", "3"]) == 0
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    mark = tmp_path / "mark"
    proc = start(tmp_path, base + ["--n-clusters", "2"], STOP=stop, MARK=mark)
    try:
        wait_for(mark, proc)
        assert temporaries(out), "the run writes next to --out"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    if previous and out.exists():
        # the previous set, byte for byte: nothing of the killed run in it
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert_one_complete_set(out, 3)
    else:
        assert not out.exists()
    assert (stop == "commit") == (previous and not out.exists())
    # the next run removes the killed run's temporary folders and says so
    capsys.readouterr()
    code, stdout, _ = run(base[:-1] + ["--n-clusters", "2"], capsys)
    assert code == 0
    assert "left by a killed run" in stdout
    assert temporaries(out) == []
    assert_one_complete_set(out, 2)


@pytest.mark.slow
def test_two_runs_into_the_same_out(tmp_path, scan_file, monkeypatch):
    """Run A has written its files and waits before moving them in; run B starts
    after it and finishes first (and leaves A's live temporary folder alone);
    then A moves in.  ``--out`` holds A's set, whole, and nothing else is left."""
    out = tmp_path / "o"
    base = ["cluster", scan_file, "--method", "kmeans", "--out", out, "--quiet"]
    mark, gate = tmp_path / "mark", tmp_path / "gate"
    a = start(tmp_path, base + ["--n-clusters", "3"], STOP="gate", MARK=mark, GATE=gate)
    try:
        wait_for(mark, a)
        monkeypatch.setattr(hm, "manifold_decomposition", fixed_labels)
        assert run(base + ["--n-clusters", "2"]) == 0
        assert_one_complete_set(out, 2)
        assert len(temporaries(out)) == 1  # A's, still being used
    finally:
        gate.touch()
        stdout, stderr = a.communicate(timeout=300)
    assert a.returncode == 0, stderr
    assert_one_complete_set(out, 3)
    assert temporaries(out) == []


# ------------------------------------------------------------- item 13: the options


@pytest.mark.parametrize(
    "method, n_clusters", [("kmeans", 2), ("kmeans", 3), ("spectral", 3)]
)
def test_n_clusters_gives_that_many_clusters(tmp_path, scan_file, method, n_clusters):
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--features", "raw", "--method", method]
    args += ["--n-clusters", n_clusters, "--out", out, "--quiet"]
    assert run(args) == 0
    info = summary(out)
    assert info["n_clusters"] == n_clusters
    assert info["parameters"]["algorithm"] == method
    if n_clusters == 3:  # the three lattices of the scan, exactly
        assert adjusted_rand(labels_of(out), stripes(3)) == pytest.approx(1)


def test_min_cluster_size_runs_hdbscan_once_with_it(tmp_path, scan_file):
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--features", "raw", "--min-cluster-size", 12]
    assert run(args + ["--out", out, "--quiet"]) == 0
    parameters = summary(out)["parameters"]
    assert parameters["algorithm"] == "hdbscan"
    assert parameters["min_cluster_size"] == 12
    assert "min_cluster_size_rule" not in parameters  # no automatic choice
    # every cluster has at least 12 patterns (the rest is noise, -1)
    labels = labels_of(out)
    assert all((labels == k).sum() >= 12 for k in np.unique(labels[labels >= 0]))


def test_n_fit_fits_a_subsample_and_labels_every_pattern(tmp_path, scan_file):
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--features", "raw", "--method", "kmeans"]
    args += ["--n-clusters", 3, "--n-fit", 30, "--out", out, "--quiet"]
    assert run(args) == 0
    info = summary(out)
    assert info["n_fit"] == 30 and info["parameters"]["n_fit"] == 30
    # the 42 patterns left out are labelled too, by the same three lattices
    assert adjusted_rand(labels_of(out), stripes(3)) == pytest.approx(1)


def _spy(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize(
    "window, expected",
    [
        (None, "hann"),
        ("none", None),
        ("radial-hann", "radial_hann"),
        ("gaussian", "gaussian"),
    ],
)
def test_window_reaches_get_cepstrum(
    tmp_path, scan_file, monkeypatch, window, expected
):
    import hyperspy_manifold.features.cepstrum as cepstrum

    # the features of a run come from one read (one_read_cepstrum, called once
    # per offset it tries); get_cepstrum is the route of other minima
    direct = _spy(monkeypatch, cepstrum, "get_cepstrum")
    one_read = _spy(monkeypatch, cepstrum, "one_read_cepstrum")
    out = tmp_path / "o"
    args = ["cluster", scan_file, "--method", "kmeans", "--out", out, "--quiet"]
    assert run(args + ([] if window is None else ["--window", window])) == 0
    calls = direct + one_read
    assert calls and {c.get("window", "hann") for c in calls} == {expected}
    assert summary(out)["feature_kwargs"].get("window", "hann") == expected


def test_rings_set_the_angular_average_features(tmp_path, scan_file):
    n_features = {}
    for rings in ("2,5,8", "2,4,6,8,10"):
        out = tmp_path / rings
        args = ["cluster", scan_file, "--features", "angular-average", "--rings"]
        args += [rings, "--method", "kmeans", "--out", out, "--quiet"]
        assert run(args) == 0
        n_features[rings] = summary(out)["parameters"]["n_features"]
        assert summary(out)["feature_kwargs"]["rings"] == [
            float(r) for r in rings.split(",")
        ]
    # one block of angular features per ring: 2 rings, then 4
    assert n_features["2,4,6,8,10"] == 2 * n_features["2,5,8"]


#: Hot pixels: the top ten detector rows and a block next to the direct beam
#: (inside the bright-field disk), random in the top half of the scan only: an
#: artefact that splits the scan top/bottom, across the lattices (left/right).
HOT = np.zeros((DETECTOR, DETECTOR), bool)
HOT[:10] = True
HOT[12:14, 12:14] = True


def hot_scan(path, seed):
    rng = np.random.default_rng(seed)
    values = rng.uniform(1000, 5000, (*NAV, int(HOT.sum())))
    values[NAV[0] // 2 :] = 0
    s = stripes_scan(2, seed=0)
    s.data[..., HOT] = values
    s.save(path)
    return path


@pytest.fixture(scope="module")
def hot_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hot")
    np.save(d / "mask.npy", HOT)
    return d / "mask.npy", hot_scan(d / "a.zspy", 1), hot_scan(d / "b.zspy", 2)


@pytest.mark.parametrize("features", sorted(cli.FEATURES))
def test_mask_reaches_every_feature_transform(
    tmp_path, hot_files, monkeypatch, features
):
    """Two scans that differ only under the mask give the same features with
    --mask (and different ones without it: the test bites)."""
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    matrices = []

    def capture(s, features="cepstrum", feature_kwargs=None, **kwargs):
        f = feature_signal(
            s, features, feature_kwargs, False, signal_mask=kwargs.get("signal_mask")
        )
        matrices.append(feature_matrix(f, None, show_progressbar=False))
        return fixed_labels(s)

    monkeypatch.setattr(hm, "manifold_decomposition", capture)
    mask, a, b = hot_files
    for scan in (a, b):
        args = ["cluster", scan, "--features", features, "--method", "kmeans"]
        args += ["--mask", mask, "--out", tmp_path / scan.stem, "--quiet"]
        assert run(args) == 0
    np.testing.assert_allclose(*matrices, rtol=1e-5, atol=1e-6)
    assert summary(tmp_path / "a")["mask"]["pixels"] == HOT.sum()
    for scan in (a, b):
        capture(hs.load(scan), cli.FEATURES[features])
    assert not np.allclose(*matrices[2:], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_mask_changes_the_clusters_of_raw_features(tmp_path, hot_files):
    """With the mask the lattices decide (left/right, the known answer); without
    it the hot pixels pull the clusters across them."""
    mask, a, _ = hot_files
    ari = {}
    for with_mask in (False, True):
        out = tmp_path / str(with_mask)
        args = ["cluster", a, "--features", "raw", "--method", "kmeans"]
        args += ["--n-clusters", 2, "--out", out, "--quiet"]
        assert run(args + (["--mask", mask] if with_mask else [])) == 0
        ari[with_mask] = adjusted_rand(labels_of(out), stripes(2))
    assert ari[True] == pytest.approx(1) and ari[False] < 0.5


@pytest.mark.parametrize(
    "args, match",
    [
        (["--n-fit", "2"], "argument --n-fit: must be an integer >= 3, got 2"),
        (["--n-fit", "x"], "argument --n-fit: must be an integer >= 3, got 'x'"),
        (["--n-clusters", "0"], "argument --n-clusters: must be an integer >= 1"),
        (["--min-cluster-size", "1"], "argument --min-cluster-size: must be an int"),
        (["--window", "gauss"], "argument --window: invalid choice: 'gauss'"),
        (["--method", "nmf", "--n-fit", "10"], "--n-fit applies to --method umap"),
        (["--n-clusters", "3"], "--n-clusters applies to --method kmeans or spect"),
        (["--method", "nmf", "--n-clusters", "3"], "not nmf; NMF finds the number"),
        (["--method", "kmeans", "--min-cluster-size", "5"], "--min-cluster-size app"),
        (["--features", "raw", "--window", "none"], "--window applies to --feature"),
    ],
)
def test_bad_option_values_are_refused_by_name(
    tmp_path, scan_file, monkeypatch, capsys, args, match
):
    monkeypatch.setattr(cli, "load_scan", _no_computation)
    out = tmp_path / "o"
    code, _, err = run(["cluster", scan_file, "--out", out, "--quiet", *args], capsys)
    assert code == 2
    assert err.startswith("hyperspy-manifold: error: ")
    assert match in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and temporaries(out) == []


@pytest.mark.parametrize(
    "args, match",
    [
        (["--method", "kmeans", "--n-clusters", "100"], "--n-clusters 100 is more"),
        (["--method", "kmeans", "--n-fit", "5", "--n-clusters", "6"], "than the 5 pa"),
        (["--min-cluster-size", "100"], "--min-cluster-size 100 is more than the 72"),
    ],
)
def test_option_values_beyond_the_scan_are_refused(
    tmp_path, scan_file, monkeypatch, capsys, args, match
):
    monkeypatch.setattr(hm, "manifold_decomposition", _no_computation)
    out = tmp_path / "o"
    code, _, err = run(["cluster", scan_file, "--out", out, "--quiet", *args], capsys)
    assert code == 2 and match in err
    assert not out.exists() and temporaries(out) == []


def test_min_cluster_size_on_a_scan_too_small_for_umap(tmp_path, monkeypatch, capsys):
    path = tmp_path / "small.zspy"
    # 36 patterns: the automatic route switches to k-means on so few
    stripes_scan(shape=(4, 9)).save(path)
    monkeypatch.setattr(hm, "manifold_decomposition", _no_computation)
    args = ["cluster", path, "--min-cluster-size", "5", "--out", tmp_path / "o"]
    code, _, err = run(args + ["--quiet"], capsys)
    assert code == 2 and "--min-cluster-size needs UMAP + HDBSCAN" in err
