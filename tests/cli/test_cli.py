"""The ``hyperspy-manifold`` command end to end: demo, real files, clean failures."""

import json
import subprocess
import sys

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import DATA

from hyperspy_manifold import cli
from hyperspy_manifold.plot.report import FIGURES, GRID_COLUMNS

#: The demo must recover the simulated grain map at least this well (issue 3 bar).
DEMO_MIN_ARI = 0.85


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, capsys_module=None):
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hyperspy_manifold.cli",
            "demo",
            "--out",
            str(out),
            "--quiet",
            "--html",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out, proc


@pytest.mark.slow
def test_demo_writes_every_output(demo_run):
    out, proc = demo_run
    assert proc.returncode == 0, proc.stderr
    for name in ("results.zspy", *FIGURES, "summary.json", "report.html"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    printed = proc.stdout.strip().splitlines()[-1]
    assert f"clusters: {summary['n_clusters']}" in printed
    assert summary["ari"] >= DEMO_MIN_ARI, summary["ari"]
    assert f"{summary['ari']:.3f}" in printed
    assert summary["versions"]["hyperspy_manifold"]
    assert set(summary["timings"]) >= {"features_and_learning_s", "similarity_s"}
    assert 2 <= summary["data_reads"] < 6  # passes over the scan's data


def test_demo_results_reload(demo_run):
    out, _ = demo_run
    summary = json.loads((out / "summary.json").read_text())
    r = hs.load(out / "results.zspy")
    labels = np.asarray(r.data)
    assert labels.shape == tuple(summary["navigation_shape"])
    sizes = {str(i): int((labels == i).sum()) for i in range(summary["n_clusters"])}
    assert sizes == summary["cluster_sizes"]
    res = r.metadata.HyperspyManifold.results
    n_rows = summary["n_clusters"] + (summary["noise_positions"] > 0)
    assert res.cluster_means.data.shape[0] == n_rows
    assert res.similarity_loadings.data.shape == (n_rows, *labels.shape)
    assert res.embedding.data.shape[:2] == labels.shape
    assert r.axes_manager.signal_axes[0].units == "nm"


def test_demo_figures_have_content(demo_run):
    import matplotlib.image as mpimg

    out, _ = demo_run
    summary = json.loads((out / "summary.json").read_text())
    for name in FIGURES:
        img = mpimg.imread(out / name)
        assert img.shape[0] > 200 and img.shape[1] > 200, name
        assert img[..., :3].std() > 0.02, f"{name} looks blank"
    means = mpimg.imread(out / "cluster_means.png")
    # one column of panels per cluster (plus noise), up to GRID_COLUMNS per row
    assert means.shape[1] >= 150 * min(summary["n_clusters"], GRID_COLUMNS)


def test_label_map_figure_pixels_match_labels():
    from hyperspy_manifold.plot.colours import label_rgba
    from hyperspy_manifold.plot.report import figure_label_map

    class Fake:
        pass

    labels = np.array([[0, 0, 1, 1], [2, 2, -1, 1], [0, 2, 2, -2]])
    r = Fake()
    r.labels = hs.signals.Signal2D(labels)
    r.n_clusters = 3
    fig = figure_label_map(r)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba()).astype(float) / 255
    ax = fig.axes[0]
    colors = label_rgba(labels)
    h = rgba.shape[0]
    for (row, col), value in np.ndenumerate(labels):
        x, y = ax.transData.transform((col, row))
        pixel = rgba[int(round(h - y)), int(round(x)), :3]
        np.testing.assert_allclose(
            pixel, colors[row, col, :3], atol=0.02, err_msg=str(value)
        )


@pytest.mark.parametrize(
    "path",
    ["merlin_4x2/001_4x2_6bit.mib", "nanomegas_test1.blo", "topspin_test_B.app5"],
)
def test_cluster_real_files(tmp_path, path, capsys):
    code = cli.main(
        ["cluster", str(DATA / path), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert code == 0
    assert "clusters:" in capsys.readouterr().out
    r = hs.load(tmp_path / "o" / "results.zspy")
    assert r.data.min() >= -1
    assert (tmp_path / "o" / "summary.json").exists()


def test_cluster_with_center_and_polar_features(tmp_path):
    code = cli.main(
        [
            "cluster",
            str(DATA / "nanomegas_test1.blo"),
            "--features",
            "radial-variance",
            "--center",
            "72,72",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 0


def test_cluster_with_bragg_masked_radial_profile(tmp_path):
    out = tmp_path / "o"
    args = ["cluster", str(DATA / "nanomegas_test1.blo"), "--features"]
    args += ["radial-profile", "--center", "72,72", "--out", str(out), "--quiet"]
    assert cli.main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["features"] == "radial_profile"


@pytest.mark.parametrize("rings", [None, "0.2,0.5,0.8"])
def test_cluster_angular_average_on_a_spot_pattern_file(tmp_path, rings):
    # rings found from the data (the equal-ring fallback: the file has no ring
    # minimum) or given in the detector's calibrated units
    extra = [] if rings is None else ["--rings", rings]
    out = tmp_path / "o"
    args = ["cluster", str(DATA / "nanomegas_test1.blo"), "--features"]
    args += ["angular-average", "--out", str(out), "--quiet", *extra]
    assert cli.main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["features"] == "angular_average"


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: DATA / "test_CL30cm.mib", "no 4D-STEM scan"),
        (lambda d: d / "missing.mib", "no such file"),
        (
            lambda d: (
                (d / "text.mib").write_text("not a detector file") and d / "text.mib"
            ),
            "cannot read",
        ),
    ],
)
def test_cluster_fails_cleanly(tmp_path, capsys, make, match):
    code = cli.main(
        ["cluster", str(make(tmp_path)), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert match in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "results.zspy").exists()


@pytest.mark.parametrize(
    "args, match",
    [
        (["--center", "1,2,3"], "--center"),
        (["--center", "9999,5"], "outside"),
        (["--n-fit", "1"], "--n-fit"),
        (["--rings", "0.2,0.5"], "--rings applies to --features angular-average"),
        (["--features", "angular-average", "--rings", "a,b"], "comma-separated"),
        (["--features", "angular-average", "--rings", "0.5,0.2"], "increasing"),
    ],
)
def test_cluster_bad_options(tmp_path, capsys, args, match):
    code = cli.main(
        [
            "cluster",
            str(DATA / "nanomegas_test1.blo"),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
            *args,
        ]
    )
    assert code == 2
    assert match in capsys.readouterr().err


def test_help_reads_well(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["cluster", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for word in (
        "--features",
        "--method",
        "--center",
        "--mask",
        "--n-fit",
        "--scheduler",
        "--workers",
    ):
        assert word in text


@pytest.mark.slow
def test_cluster_nmf_on_simulated_film(tmp_path):
    from hyperspy_manifold.data import polycrystalline_film
    from hyperspy_manifold.learn.metrics import adjusted_rand

    s, truth = polycrystalline_film(shape=(20, 20), random_state=1)
    s.save(tmp_path / "film.zspy")
    out = tmp_path / "o"
    code = cli.main(
        [
            "cluster",
            str(tmp_path / "film.zspy"),
            "--method",
            "nmf",
            "--features",
            "angular-average",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["algorithm"] == "nmf"
    labels = np.asarray(hs.load(out / "results.zspy").data)
    # NMF labels (strongest component) follow the grains, not noise
    assert summary["n_clusters"] >= 3
    assert adjusted_rand(labels, truth.labels) > 0.4


def test_center_auto_finds_the_direct_beam(tmp_path):
    y, x = np.mgrid[:48, :48]
    beam = np.exp(-((x - 20) ** 2 + (y - 29) ** 2) / 6.0)
    s = hs.signals.Signal2D(np.stack([beam] * 6).reshape(2, 3, 48, 48))
    s.set_signal_type("manifold")
    cli.apply_center(s, "auto", quiet=True)
    assert s.calibration.center == pytest.approx([20, 29], abs=0.6)


@pytest.mark.parametrize("quiet", [True, False])
@pytest.mark.slow
def test_error_is_one_line_in_a_real_shell(tmp_path, quiet):
    cmd = [sys.executable, "-m", "hyperspy_manifold.cli", "cluster"]
    cmd += [str(DATA / "test_CL30cm.mib"), "--out", str(tmp_path / "o")]
    proc = subprocess.run(
        cmd + (["--quiet"] if quiet else []),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert (
        lines[0].startswith("hyperspy-manifold: error:")
        and "no 4D-STEM scan" in lines[0]
    )
