"""ManifoldDiffraction2D: a pyxem ElectronDiffraction2D with the manifold toolbox."""

from pyxem.signals import ElectronDiffraction2D, LazyElectronDiffraction2D

from hyperspy_manifold.features.bragg import get_bragg_features
from hyperspy_manifold.features.bright_field import get_bright_field_features
from hyperspy_manifold.features.cepstrum import get_cepstrum
from hyperspy_manifold.features.fem import get_fem_statistics
from hyperspy_manifold.features.polar import (
    get_angular_average,
    get_radial_profile,
    get_radial_variance,
)
from hyperspy_manifold.features.scan_fft import get_scan_fft
from hyperspy_manifold.learn.cooccurrence import bragg_cooccurrence_classification
from hyperspy_manifold.learn.manifold import manifold_decomposition
from hyperspy_manifold.learn.nmf import bragg_nmf
from hyperspy_manifold.learn.similarity import get_similarity_loadings
from hyperspy_manifold.signals._delegate import api_method


class ManifoldDiffraction2D(ElectronDiffraction2D):
    """4D-STEM diffraction patterns with feature transforms and manifold learning.

    Every pyxem ``ElectronDiffraction2D`` method still works; the methods added
    here call the functions of :mod:`hyperspy_manifold` of the same name.
    Made by ``s.set_signal_type("manifold")`` on any loaded 4D-STEM signal.
    """

    _signal_type = "manifold_diffraction"

    get_cepstrum = api_method(get_cepstrum)
    get_radial_variance = api_method(get_radial_variance)
    get_angular_average = api_method(get_angular_average)
    get_radial_profile = api_method(get_radial_profile)
    get_bragg_features = api_method(get_bragg_features)
    get_bright_field_features = api_method(get_bright_field_features)
    get_scan_fft = api_method(get_scan_fft)
    get_fem_statistics = api_method(get_fem_statistics)
    bragg_nmf = api_method(bragg_nmf)
    bragg_cooccurrence_classification = api_method(bragg_cooccurrence_classification)
    manifold_decomposition = api_method(manifold_decomposition)
    get_similarity_loadings = api_method(get_similarity_loadings)


class LazyManifoldDiffraction2D(LazyElectronDiffraction2D, ManifoldDiffraction2D):
    """Lazy (dask) version of :class:`ManifoldDiffraction2D`."""
