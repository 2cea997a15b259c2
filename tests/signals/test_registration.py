"""Every class in hyperspy_extension.yaml is registered, eager and lazy, and survives
``set_signal_type`` and a save/load round trip."""

from importlib import import_module
from importlib.resources import files

import hyperspy.api as hs
import numpy as np
import pytest
import yaml

import hyperspy_manifold
from hyperspy_manifold.components import CepstralPeak2D, ClusterCountDecay

REGISTRY = yaml.safe_load(
    files("hyperspy_manifold").joinpath("hyperspy_extension.yaml").read_text()
)
SIGNALS = REGISTRY["signals"]


def _blank(dim, lazy):
    shape = (2, 3, 6, 5) if dim == 2 else (2, 3, 7)
    cls = hs.signals.Signal2D if dim == 2 else hs.signals.Signal1D
    s = cls(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    return s.as_lazy() if lazy else s


def test_version():
    assert isinstance(hyperspy_manifold.__version__, str)


def test_yaml_lists_every_class_once():
    names = set(SIGNALS)
    assert {"ManifoldDiffraction2D", "LazyManifoldDiffraction2D", "Cepstrum2D"} <= names
    for name, spec in SIGNALS.items():
        cls = getattr(import_module(spec["module"]), name)
        assert cls._signal_type == spec["signal_type"]
        assert cls._lazy == spec["lazy"], name


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_set_signal_type_round_trip(name):
    spec = SIGNALS[name]
    s = _blank(spec["signal_dimension"], spec["lazy"])
    for signal_type in [spec["signal_type"], *spec.get("signal_type_aliases", [])]:
        s.set_signal_type(signal_type)
        assert type(s).__name__ == name
        s.set_signal_type("")
        assert type(s).__name__ != name


@pytest.mark.parametrize("lazy", [False, True])
def test_as_lazy_keeps_methods(lazy):
    s = _blank(2, False)
    s.set_signal_type("manifold")
    t = s.as_lazy() if lazy else s
    assert type(t).__name__ == ("Lazy" if lazy else "") + "ManifoldDiffraction2D"
    assert hasattr(t, "get_cepstrum")
    assert type(t.as_lazy().as_lazy()).__name__ == "LazyManifoldDiffraction2D"
    assert type(t.as_lazy()._deepcopy_with_new_data(t.data)).__name__.endswith(
        "ManifoldDiffraction2D"
    )


@pytest.mark.parametrize("ext", ["zspy", "hspy"])
@pytest.mark.parametrize("name", sorted(n for n in SIGNALS if not n.startswith("Lazy")))
def test_save_load_restores_class(tmp_path, ext, name):
    spec = SIGNALS[name]
    s = _blank(spec["signal_dimension"], False)
    s.set_signal_type(spec["signal_type"])
    s.axes_manager[-1].scale = 0.25
    s.axes_manager[-1].units = "1/Å"
    f = tmp_path / f"s.{ext}"
    s.save(f)
    for lazy in (False, True):
        t = hs.load(f, lazy=lazy)
        assert type(t).__name__ == ("Lazy" if lazy else "") + name
        np.testing.assert_array_equal(np.asarray(t.data), s.data)
        assert t.axes_manager[-1].scale == 0.25
        assert t.axes_manager[-1].units == "1/Å"


def test_components_registered(tmp_path):
    from hyperspy.extensions import ALL_EXTENSIONS

    assert "ClusterCountDecay" in ALL_EXTENSIONS["components1D"]
    assert "CepstralPeak2D" in ALL_EXTENSIONS["components2D"]
    # a stored model with our component is restored from file through the registry
    s = hs.signals.Signal1D(np.exp(-0.1 * np.arange(30.0)) + 1)
    m = s.create_model()
    m.append(ClusterCountDecay(c=1, t=0.1, b=1))
    m.store("k")
    s.save(tmp_path / "m.hspy")
    m2 = hs.load(tmp_path / "m.hspy").models.restore("k")
    assert type(m2[0]).__name__ == "ClusterCountDecay"
    assert m2[0].t.value == pytest.approx(0.1)


def test_cluster_count_decay_fits_a_decay():
    k = np.arange(20, 150, dtype=float)
    y = 9 * np.exp(-0.08 * (k - 20)) + 3
    s = hs.signals.Signal1D(y)
    s.axes_manager[0].offset = 20
    m = s.create_model()
    c = ClusterCountDecay()
    m.append(c)
    c.estimate_parameters(s)
    m.fit()
    assert c.b.value == pytest.approx(3, abs=0.05)
    assert c.t.value == pytest.approx(0.08, rel=0.05)
    assert c.stable_k(3) == pytest.approx(20 + 3 / 0.08, rel=0.05)


def test_cepstral_peak2d_evaluates_at_lattice_vector():
    c = CepstralPeak2D(A=2, r_x=1.5, r_y=-2.0, sigma=0.5)
    assert c.function(1.5, -2.0) == pytest.approx(2)
    assert c.spacing == pytest.approx(2.5)
    assert c.angle == pytest.approx(np.degrees(np.arctan2(-2.0, 1.5)))
