"""Nothing lost (issue 6, item 5).

* Every result type round-trips through ``.zspy`` and ``.hspy`` with its data,
  dtype, class, calibration (axis names, units, scales, offsets, non-uniform
  axis values) and metadata (the ``HyperspyManifold`` parameter nodes), read back
  with ``hs.load`` and its default settings, eagerly and lazily.
* ``learning_results`` written by ``manifold_decomposition`` and ``bragg_nmf``
  survive ``s.save`` / ``hs.load`` attribute by attribute.
* The tables of ``separate_regions`` (structured arrays) survive in the metadata
  of the region labels, with ``np.save`` / ``np.load(allow_pickle=False)`` and as
  CSV.
* Loading never runs code from a file: the files hold no pickled objects (zarr
  object arrays only as variable-length UTF-8 strings, no HDF5 opaque or
  non-string variable-length data) and ``hs.load`` succeeds with the pickle
  entry points disabled.
* No public call modifies its inputs: data, axes, metadata, original metadata,
  learning results (except where writing them is the documented result) and, for
  lazy inputs, the dask graph are hashed before and after, and again after the
  result has been changed in place.
"""

import hashlib
import json
import pickle
from unittest import mock

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import spot_lattice

import hyperspy_manifold as hm
from hyperspy_manifold.learn.manifold import ManifoldResult
from hyperspy_manifold.learn.nmf import NMFResult

FORMATS = ["zspy", "hspy"]
DETECTOR = 32
lazy_and_eager = pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])


# ------------------------------------------------------------------------- the data


def _pattern(kind: int) -> np.ndarray:
    """A central disk and four spots at radius 11 px (``kind`` 0) or 5 px,
    rotated by 45 degrees (``kind`` 1): the maximum pattern has two rings."""
    y, x = np.mgrid[:DETECTOR, :DETECTOR] - (DETECTOR - 1) / 2
    out = 50 * np.exp(-(x**2 + y**2))
    r = 5 if kind else 11
    for k in range(4):
        a = np.radians(90 * k + 45 * kind)
        out += 60 * np.exp(-((x - r * np.cos(a)) ** 2 + (y + r * np.sin(a)) ** 2))
    return out


def _calibrate(s, nav_units="nm", sig_units="1/Å", sig_scale=0.05):
    names = ["y", "x"][-s.axes_manager.navigation_dimension :] + ["ky", "kx"]
    for ax, name in zip(s.axes_manager._axes, names):
        ax.name = name
        if ax.navigate:
            ax.units, ax.scale, ax.offset = nav_units, 2.5, 10.0
        else:
            # pyxem keeps the beam centre in the offsets: the detector centre here
            ax.units, ax.scale = sig_units, sig_scale
            ax.offset = -(ax.size - 1) / 2 * sig_scale
    s.metadata.General.title = "Calibrated scan"
    s.metadata.set_item("Acquisition_instrument.TEM.beam_energy", 200.0)
    return s


def calibrated_scan(nav=(6, 8), lazy=False, seed=0):
    """Two domains (left and right half) of float32 patterns, calibrated axes."""
    rng = np.random.default_rng(seed)
    kinds = (np.arange(nav[1]) >= nav[1] // 2).astype(int)
    data = np.stack([_pattern(k) for k in kinds])[None].repeat(nav[0], axis=0)
    data = (data + rng.random(data.shape)).astype(np.float32)
    s = _calibrate(hs.signals.Signal2D(data))
    s.set_signal_type("manifold")
    return s.as_lazy() if lazy else s


def lattice_scan(lazy=False):
    """A square spot lattice (32 x 32 detector) on a 3 x 4 scan, calibrated."""
    p = spot_lattice((32, 32), g=(6.0, 6.0))
    noise = np.random.default_rng(1).random((3, 4, 32, 32)) * 0.01
    s = _calibrate(hs.signals.Signal2D(p + noise), sig_scale=0.02)
    return s.as_lazy() if lazy else s


@pytest.fixture(scope="module")
def manifold():
    """``(s, ManifoldResult)`` of HDBSCAN with automatic ``min_cluster_size``
    (so the k-scan exists) and one masked position."""
    s = calibrated_scan()
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = True
    result = hm.manifold_decomposition(
        s,
        features="radial_variance",
        navigation_mask=mask,
        random_state=0,
        return_info=True,
    )
    return s, result


@pytest.fixture(scope="module")
def nmf():
    s = calibrated_scan()
    info = hm.bragg_nmf(
        s,
        features="radial_variance",
        n_components=3,
        n_models=2,
        max_iterations=2,
        random_state=0,
        return_info=True,
    )
    return s, info


# ----------------------------------------------------------------- comparisons


def _without_file_info(metadata: dict) -> dict:
    """Metadata minus what saving adds (the file name and I/O history); HyperSpy
    also writes the signal type alias "manifold" back as its full name."""
    general = dict(metadata.get("General", {}))
    general.pop("FileIO", None)
    general.pop("original_filename", None)
    out = {**metadata, "General": general}
    if metadata.get("Signal", {}).get("signal_type") == "manifold":
        out["Signal"] = {**metadata["Signal"], "signal_type": "manifold_diffraction"}
    return out


def _axis_record(ax) -> dict:
    record = ax.get_axis_dictionary()
    record.pop("_type", None)
    record["is_uniform"] = ax.is_uniform
    record["axis"] = ax.axis
    return record


def assert_same_signal(loaded, original):
    """Data, dtype, class, every axis attribute and all metadata equal."""
    # the class survives (lazy or not follows how the file is loaded); HyperSpy
    # gives a BaseSignal with two signal axes back as a Signal2D
    name = type(original).__name__.removeprefix("Lazy")
    assert type(loaded).__name__.removeprefix("Lazy") == name or name == "BaseSignal"
    a = np.asarray(loaded.data.compute() if loaded._lazy else loaded.data)
    b = np.asarray(original.data.compute() if original._lazy else original.data)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)
    assert loaded.axes_manager.navigation_dimension == (
        original.axes_manager.navigation_dimension
    )
    for x, y in zip(
        loaded.axes_manager._axes, original.axes_manager._axes, strict=True
    ):
        np.testing.assert_equal(_axis_record(x), _axis_record(y))
    np.testing.assert_equal(
        _without_file_info(loaded.metadata.as_dictionary()),
        _without_file_info(original.metadata.as_dictionary()),
    )


def assert_no_pickle(path):
    """No pickled objects anywhere in a ``.zspy`` store or an ``.hspy`` file:
    object arrays only as variable-length strings, no opaque HDF5 data."""
    if path.suffix == ".zspy":
        n_arrays = 0
        for meta in path.rglob(".zarray"):
            spec = json.loads(meta.read_text())
            n_arrays += 1
            if "O" in json.dumps(spec["dtype"]):
                # lists of strings: variable-length UTF-8, decoded without pickle
                assert spec["filters"] == [{"id": "vlen-utf8"}], (meta, spec)
            else:
                assert spec.get("filters") is None, (meta, spec["filters"])
        assert n_arrays
        return
    import h5py

    def check(name, obj):
        if isinstance(obj, h5py.Dataset):
            dtype = obj.dtype
            if dtype.kind == "O":
                assert h5py.check_string_dtype(dtype) is not None, (name, dtype)
            assert dtype.kind != "V" or dtype.names is not None, (name, dtype)
        for key, value in obj.attrs.items():
            assert not isinstance(value, np.void), (name, key)
            if isinstance(value, np.ndarray) and value.dtype.kind == "O":
                assert all(isinstance(v, (str, bytes)) for v in value.ravel())

    with h5py.File(path, "r") as f:
        f.visititems(check)


def _unpickling(*args, **kwargs):
    raise AssertionError("loading a result tried to unpickle")


def load_without_pickle(path, lazy=False):
    """``hs.load`` with its default settings while the pickle entry points
    (numcodecs' Pickle codec, ``np.load(allow_pickle=True)``) raise.  Lazily
    loaded data are read later (dask's tokenizer itself uses pickle); the arrays
    they come from are the ones :func:`assert_no_pickle` checked."""
    with mock.patch.multiple(pickle, load=_unpickling, loads=_unpickling):
        return hs.load(path, lazy=lazy)


def roundtrip(sig, tmp_path, fmt, name="result", lazy=False):
    """Save ``sig`` as ``name.fmt``, check the file, and load it back."""
    path = tmp_path / f"{name}.{fmt}"
    sig.save(path, overwrite=True)
    assert_no_pickle(path)
    return load_without_pickle(path, lazy=lazy), path


# ------------------------------------------------------------------ result types


def _transforms(lazy):
    s = calibrated_scan(nav=(3, 4), lazy=lazy)
    c = hm.get_cepstrum(s)
    f = hm.get_bragg_features(s, bin_size=2, intensity=True)
    return {
        "cepstrum": c,
        "cepstrum_masked": hm.get_cepstrum(
            s, signal_mask=np.eye(DETECTOR, dtype=bool), window="radial_hann"
        ),
        "ring_features": c.get_ring_features(1.0, 4.0),
        "radial_variance": hm.get_radial_variance(s, ellipse=(1.0, 1.1, 30)),
        "radial_profile": hm.get_radial_profile(s, bragg_mask=True),
        "angular_average_auto": hm.get_angular_average(s, angle_step=30),
        "bragg_features": f,
        "bragg_feature_image": hm.bragg_features_to_image(f),
    }


def _lattice_results(lazy):
    c = hm.get_cepstrum(lattice_scan(lazy))
    v = hm.get_lattice_vectors(c)
    return {
        "lattice_vectors": v,
        "lattice_spacings": hm.get_lattice_spacings(v),
        "strain_maps": hm.get_strain_maps(v),
    }


TRANSFORM_NAMES = [
    "cepstrum",
    "cepstrum_masked",
    "ring_features",
    "radial_variance",
    "radial_profile",
    "angular_average_auto",
    "bragg_features",
    "bragg_feature_image",
]
LATTICE_NAMES = ["lattice_vectors", "lattice_spacings", "strain_maps"]


@pytest.fixture(scope="module")
def transforms():
    return {lazy: {**_transforms(lazy), **_lattice_results(lazy)} for lazy in (0, 1)}


@pytest.mark.parametrize("fmt", FORMATS)
@lazy_and_eager
@pytest.mark.parametrize("name", TRANSFORM_NAMES + LATTICE_NAMES)
def test_transforms_roundtrip(transforms, tmp_path, name, lazy, fmt):
    sig = transforms[lazy][name]
    assert sig._lazy == bool(lazy)
    for lazy_load in (False, True):
        loaded, _ = roundtrip(sig, tmp_path, fmt, name, lazy=lazy_load)
        assert_same_signal(loaded, sig)


def test_transforms_carry_their_parameters(transforms):
    """The metadata compared above really holds the parameter nodes."""
    nodes = {
        "cepstrum": "cepstrum",
        "ring_features": "ring_features",
        "radial_variance": "radial_variance",
        "radial_profile": "radial_profile",
        "angular_average_auto": "angular_average",
        "bragg_features": "bragg_features",
        "lattice_vectors": "lattice_vectors",
        "strain_maps": "strain_maps",
    }
    for name, node in nodes.items():
        md = transforms[0][name].metadata
        assert md.has_item(f"HyperspyManifold.{node}"), name
    aa = transforms[0]["angular_average_auto"].metadata.HyperspyManifold
    assert aa.angular_average.rings == "auto"
    assert aa.angular_average.max_pattern_profile.size > 3
    assert transforms[0]["cepstrum"].axes_manager.signal_axes[0].units == "Å"


RESULT_PARTS = [
    "labels",
    "embedding",
    "probabilities",
    "cluster_means",
    "cluster_stds",
    "mean_minus_global",
    "global_mean",
    "k_scan",
    "confidence",
    "features",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("part", RESULT_PARTS)
def test_manifold_result_parts_roundtrip(manifold, tmp_path, part, fmt):
    _, result = manifold
    sig = getattr(result, part)
    assert sig is not None
    loaded, _ = roundtrip(sig, tmp_path, fmt, part)
    assert_same_signal(loaded, sig)


def test_manifold_result_keeps_noise_masked_and_nan(manifold, tmp_path):
    _, result = manifold
    for fmt in FORMATS:
        labels, _ = roundtrip(result.labels, tmp_path, fmt, "labels")
        assert labels.data[0, 0] == -2  # masked stays distinct from noise (-1)
        emb, _ = roundtrip(result.embedding, tmp_path, fmt, "embedding")
        assert np.isnan(emb.data[0, 0]).all() and np.isfinite(emb.data[1:]).all()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("part", ["maps", "components", "class_patterns"])
def test_nmf_result_parts_roundtrip(nmf, tmp_path, part, fmt):
    _, info = nmf
    sig = getattr(info, part)
    loaded, _ = roundtrip(sig, tmp_path, fmt, part)
    assert_same_signal(loaded, sig)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("source", ["labels", "learning_results"])
def test_similarity_loadings_roundtrip(manifold, tmp_path, source, fmt):
    s, result = manifold
    labels = result.labels if source == "labels" else None
    sim = hm.get_similarity_loadings(s, labels)
    assert np.isfinite(sim.data).all()
    loaded, _ = roundtrip(sim, tmp_path, fmt, "similarity")
    assert_same_signal(loaded, sim)
    lazy = hm.get_similarity_loadings(s.as_lazy(), result.labels)
    loaded, _ = roundtrip(lazy, tmp_path, fmt, "similarity_lazy", lazy=True)
    assert_same_signal(loaded, lazy)


def _assert_same_learning_results(loaded, original):
    keys = set(vars(original))
    assert keys <= set(vars(loaded)), keys - set(vars(loaded))
    for key in keys:
        np.testing.assert_equal(getattr(loaded, key), getattr(original, key), key)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["manifold", "nmf"])
def test_learning_results_roundtrip(request, tmp_path, which, fmt):
    s, _ = request.getfixturevalue(which)
    loaded, _ = roundtrip(s, tmp_path, fmt, which)
    _assert_same_learning_results(loaded.learning_results, s.learning_results)
    np.testing.assert_array_equal(
        loaded.get_decomposition_loadings().data, s.get_decomposition_loadings().data
    )
    np.testing.assert_array_equal(
        loaded.get_decomposition_factors().data, s.get_decomposition_factors().data
    )
    if which == "manifold":
        np.testing.assert_array_equal(
            loaded.get_cluster_labels(merged=True).data,
            s.get_cluster_labels(merged=True).data,
        )
        assert loaded.learning_results.cluster_noise_row == (
            s.learning_results.cluster_noise_row
        )
        # the reloaded signal serves the similarity loadings like the original
        np.testing.assert_allclose(
            hm.get_similarity_loadings(loaded).data,
            hm.get_similarity_loadings(s).data,
        )
    else:
        assert loaded.learning_results.decomposition_algorithm == "iterative_nmf"
        np.testing.assert_array_equal(
            loaded.learning_results.feature_factors,
            s.learning_results.feature_factors,
        )


def test_save_results_restores_every_part(manifold, tmp_path):
    s, result = manifold
    sim = hm.get_similarity_loadings(s, result.labels)
    info = hm.save_results(result, tmp_path / "out", similarity=sim, figures=False)
    path = tmp_path / "out" / "results.zspy"
    assert_no_pickle(path)
    loaded = load_without_pickle(path)
    np.testing.assert_array_equal(loaded.data, result.labels.data)
    stored = loaded.metadata.HyperspyManifold.results
    for part in RESULT_PARTS[1:-1]:
        back, original = stored.get_item(part), getattr(result, part)
        np.testing.assert_array_equal(back.data, original.data)
        for x, y in zip(back.axes_manager._axes, original.axes_manager._axes):
            np.testing.assert_equal(_axis_record(x), _axis_record(y))
    np.testing.assert_array_equal(stored.similarity_loadings.data, sim.data)
    np.testing.assert_array_equal(stored.counts, result.counts)
    assert stored.n_clusters == result.n_clusters == info["n_clusters"]
    parameters = json.loads(stored.parameters)
    assert parameters["algorithm"] == result.parameters["algorithm"] == "hdbscan"
    assert parameters["min_cluster_size"] == result.parameters["min_cluster_size"]
    assert parameters["selection"]["rule"] == result.selection["rule"]


def test_save_results_keeps_the_callers_matplotlib_backend(manifold, tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    _, result = manifold
    before = matplotlib.get_backend()
    plt.switch_backend("ps")  # a non-interactive backend that is not Agg
    try:
        hm.save_results(result, tmp_path / "out")
        assert matplotlib.get_backend().lower() == "ps"
        assert (tmp_path / "out" / "labels.png").stat().st_size > 0
    finally:
        plt.switch_backend(before)


# ------------------------------------------------------------ region tables


@pytest.fixture(scope="module")
def regions():
    maps = np.zeros((2, 8, 10))
    maps[0, 1:4, 1:4] = 1.0
    maps[0, 5:8, 6:9] = 0.8
    maps[1, 4:8, 0:4] = 0.6
    maps[1, 0, 9] = np.nan  # a masked scan position
    sig = hs.signals.Signal2D(maps)
    for ax, name in zip(sig.axes_manager.signal_axes, ("x", "y")):
        ax.name, ax.units, ax.scale, ax.offset = name, "nm", 0.5, 3.0
    return hm.separate_regions(sig, min_size=2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_region_labels_keep_their_table(regions, tmp_path, fmt):
    assert regions.table.size == 3
    node = regions.labels.metadata.HyperspyManifold.separate_regions
    np.testing.assert_array_equal(node.table, regions.table)
    loaded, _ = roundtrip(regions.labels, tmp_path, fmt, "regions")
    assert_same_signal(loaded, regions.labels)
    table = loaded.metadata.HyperspyManifold.separate_regions.table
    assert table.dtype == regions.table.dtype
    np.testing.assert_array_equal(table, regions.table)
    masks, _ = roundtrip(regions.masks, tmp_path, fmt, "masks")
    assert_same_signal(masks, regions.masks)


def test_region_table_as_npy_and_csv(regions, tmp_path):
    table = regions.table
    np.save(tmp_path / "table.npy", table)
    back = np.load(tmp_path / "table.npy", allow_pickle=False)
    assert back.dtype == table.dtype
    np.testing.assert_array_equal(back, table)
    # the CSV recipe of the Regions docstring
    np.savetxt(
        tmp_path / "table.csv",
        table,
        delimiter=",",
        header=",".join(table.dtype.names),
        comments="",
        fmt="%.17g",
    )
    csv = np.genfromtxt(tmp_path / "table.csv", delimiter=",", names=True)
    assert csv.dtype.names == table.dtype.names
    for name in table.dtype.names:
        np.testing.assert_array_equal(csv[name], table[name])


def test_metric_tables_save_without_pickle(tmp_path):
    table, _ = hm.tpr_per_grain([5, 5, 7, 7, -1], [0, 0, 1, 1, 1])
    np.save(tmp_path / "tpr.npy", table)
    np.testing.assert_array_equal(
        np.load(tmp_path / "tpr.npy", allow_pickle=False), table
    )


# ------------------------------------------------------ inputs are never modified


def _canonical(value):
    """A hashable, complete description of metadata-like values (arrays hashed
    in full, not the truncated repr)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, _digest(value))
    if isinstance(value, hs.signals.BaseSignal):
        return fingerprint(value)
    return repr(value)


def _digest(array) -> str:
    array = np.ascontiguousarray(array)
    if array.dtype.kind == "O":
        return repr(array.tolist())
    return hashlib.sha256(array.tobytes()).hexdigest()


def fingerprint(obj, learning_results=True):
    """Everything of an input a call could change."""
    if not isinstance(obj, hs.signals.BaseSignal):
        return ("array", _canonical(np.asarray(obj)))
    data = obj.data
    graph = None
    if isinstance(data, da.Array):
        graph = (data.name, data.chunks, data.dtype.str)
        data = data.compute()
    data = np.asarray(data)
    am = obj.axes_manager
    parts = [
        type(obj).__name__,
        data.dtype.str,
        data.shape,
        _digest(data),
        graph,
        tuple(_canonical(_axis_record(ax)) for ax in am._axes),
        tuple(am.indices),
        _canonical(obj.metadata.as_dictionary()),
        _canonical(obj.original_metadata.as_dictionary()),
    ]
    if learning_results:
        parts.append(_canonical(vars(obj.learning_results)))
    return tuple(parts)


def _inputs(lazy):
    s = calibrated_scan(nav=(3, 4), lazy=lazy)
    s.axes_manager.navigation_axes[0].convert_to_non_uniform_axis()
    s.original_metadata.set_item("detector.serial", "A-1")
    c = hm.get_cepstrum(s)
    ls = lattice_scan(lazy)
    lc = hm.get_cepstrum(ls)
    v = hm.get_lattice_vectors(lc)
    labels = s._get_navigation_signal(data=(np.indices((3, 4))[1] >= 2).astype(int))
    mask = s._get_navigation_signal(data=np.zeros((3, 4), bool))
    mask.data[0, 0] = True
    f = hm.get_radial_variance(s)
    b = hm.get_bragg_features(s, bin_size=4)
    return dict(s=s, c=c, ls=ls, lc=lc, v=v, labels=labels, mask=mask, f=f, b=b)


MD = dict(algorithm="kmeans", n_clusters=2, random_state=0, return_info=True)
NMF = dict(n_components=2, n_models=2, max_iterations=1, random_state=0)

#: (name, inputs used, call, writes learning_results of the first input)
PUBLIC_CALLS = [
    ("get_cepstrum", ["s"], lambda s: hm.get_cepstrum(s, signal_mask=np.eye(DETECTOR) > 0), False),
    ("get_ring_features", ["c"], lambda c: hm.get_ring_features(c, 1.0, 4.0), False),
    ("get_radial_variance", ["s"], lambda s: hm.get_radial_variance(s, normalize=True), False),
    ("get_radial_profile", ["s"], lambda s: hm.get_radial_profile(s, bragg_mask=True), False),
    ("get_angular_average", ["s"], lambda s: hm.get_angular_average(s, angle_step=30), False),
    ("get_bragg_features", ["s"], lambda s: hm.get_bragg_features(s, intensity=True), False),
    ("bragg_features_to_image", ["b"], lambda b: hm.bragg_features_to_image(b), False),
    ("get_lattice_vectors", ["lc", "mask"], lambda c, m: hm.get_lattice_vectors(c, reference=m.data), False),
    ("get_lattice_spacings", ["v"], lambda v: hm.get_lattice_spacings(v), False),
    ("get_strain_maps", ["v", "mask"], lambda v, m: hm.get_strain_maps(v, reference=m.data), False),
    ("fit_lattice_peaks", ["lc", "v"], lambda c, v: hm.fit_lattice_peaks(c, v)[1][0].as_signal(), False),
    ("manifold_decomposition", ["s", "f", "mask"], lambda s, f, m: hm.manifold_decomposition(s, features=f, navigation_mask=m, **MD), True),
    ("manifold_decomposition_raw", ["s"], lambda s: hm.manifold_decomposition(s, features="raw", loadings="similarity", **MD), True),
    ("get_similarity_loadings", ["s", "labels"], lambda s, lab: hm.get_similarity_loadings(s, lab), False),
    ("bragg_nmf", ["s", "f", "mask"], lambda s, f, m: hm.bragg_nmf(s, features=f, navigation_mask=m, return_info=True, **NMF), True),
    ("separate_regions", ["labels"], lambda lab: hm.separate_regions(lab, threshold=0.5, min_size=1, scale=1, offset=0).labels, False),
    ("adjusted_rand", ["labels", "mask"], lambda lab, m: hm.adjusted_rand(lab, m), False),
    ("nmi", ["labels", "mask"], lambda lab, m: hm.nmi(lab, m, noise="ignore"), False),
    ("precision_any", ["labels", "mask"], lambda lab, m: hm.precision_any(lab, m), False),
    ("tpr_per_grain", ["labels", "mask"], lambda lab, m: hm.tpr_per_grain(lab, m.data.astype(int)), False),
    ("cluster_dissimilarity", ["f", "labels"], lambda f, lab: hm.cluster_dissimilarity(f, labels=lab), False),
]  # fmt: skip


def _change(result):
    """Change a result in place as a user might, to catch shared state."""
    for sig in _signals_of(result):
        sig.metadata.General.title = "changed"
        sig.metadata.set_item("HyperspyManifold.touched", True)
        for ax in sig.axes_manager._axes:
            ax.name = "changed"
            if ax.is_uniform:
                ax.offset += 1
        if not sig._lazy and sig.data.size:
            sig.data[...] = 0


def _signals_of(result):
    if isinstance(result, hs.signals.BaseSignal):
        return [result]
    if isinstance(result, ManifoldResult):
        # not `features`: the features signal a user passed in is returned as is
        return [result.labels, result.embedding, result.cluster_means]
    if isinstance(result, NMFResult):
        return [result.maps, result.components, result.class_patterns]
    return []


@lazy_and_eager
@pytest.mark.parametrize(
    "names, make, writes_lr",
    [c[1:] for c in PUBLIC_CALLS],
    ids=[c[0] for c in PUBLIC_CALLS],
)
def test_inputs_are_never_modified(names, make, writes_lr, lazy):
    inputs = _inputs(lazy)
    args = [inputs[n] for n in names]
    before = [
        fingerprint(a, learning_results=not (writes_lr and i == 0))
        for i, a in enumerate(args)
    ]
    result = make(*args)
    after = [
        fingerprint(a, learning_results=not (writes_lr and i == 0))
        for i, a in enumerate(args)
    ]
    for name, b, a in zip(names, before, after, strict=True):
        assert a == b, f"`{name}` was modified"
    _change(result)
    again = [
        fingerprint(a, learning_results=not (writes_lr and i == 0))
        for i, a in enumerate(args)
    ]
    for name, b, a in zip(names, before, again, strict=True):
        assert a == b, f"changing the result changed `{name}`"
