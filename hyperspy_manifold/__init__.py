"""hyperspy_manifold: unsupervised structure discovery in 4D-STEM.

Physically motivated transforms of every diffraction pattern (exit-wave power
cepstrum, radial variance, angular average, FEM statistics, rasterised Bragg disks, bright-field
disk), then manifold
learning, clustering and NMF, returned as ordinary HyperSpy signals.
"""

from hyperspy_manifold.features.bragg import bragg_features_to_image, get_bragg_features
from hyperspy_manifold.features.bright_field import get_bright_field_features
from hyperspy_manifold.features.cepstrum import get_cepstrum, get_ring_features
from hyperspy_manifold.features.fem import get_fem_statistics
from hyperspy_manifold.features.lattice import (
    fit_lattice_peaks,
    get_lattice_spacings,
    get_lattice_vectors,
    get_strain_maps,
)
from hyperspy_manifold.features.polar import (
    get_angular_average,
    get_radial_profile,
    get_radial_variance,
)
from hyperspy_manifold.features.scan_fft import get_scan_fft
from hyperspy_manifold.learn.cooccurrence import (
    CooccurrenceResult,
    bragg_cooccurrence_classification,
)
from hyperspy_manifold.learn.estimator import ManifoldClustering
from hyperspy_manifold.learn.hierarchy import hierarchical_clustering
from hyperspy_manifold.learn.manifold import (
    ManifoldResult,
    cluster_result,
    manifold_decomposition,
)
from hyperspy_manifold.learn.metrics import (
    adjusted_rand,
    cluster_dissimilarity,
    nmi,
    precision_any,
    tpr_per_grain,
)
from hyperspy_manifold.learn.nmf import IterativeNMF, bragg_nmf
from hyperspy_manifold.learn.similarity import get_similarity_loadings
from hyperspy_manifold.learn.spatial import separate_regions

__version__ = "0.1.0"

__all__ = [
    "CooccurrenceResult",
    "IterativeNMF",
    "ManifoldClustering",
    "ManifoldResult",
    "__version__",
    "adjusted_rand",
    "bragg_cooccurrence_classification",
    "bragg_features_to_image",
    "bragg_nmf",
    "cluster_dissimilarity",
    "cluster_result",
    "fit_lattice_peaks",
    "get_angular_average",
    "get_bragg_features",
    "get_bright_field_features",
    "get_cepstrum",
    "get_fem_statistics",
    "get_lattice_spacings",
    "get_lattice_vectors",
    "get_radial_profile",
    "get_radial_variance",
    "get_ring_features",
    "get_scan_fft",
    "get_similarity_loadings",
    "get_strain_maps",
    "hierarchical_clustering",
    "manifold_decomposition",
    "nmi",
    "precision_any",
    "save_results",
    "separate_regions",
    "tpr_per_grain",
]


def __getattr__(name):
    # what draws (hyperspy_manifold.plot) is imported on first use, so that
    # clustering without figures imports no plotting code (tests/test_layout.py)
    if name == "save_results":
        from hyperspy_manifold.plot.report import save_results

        return save_results
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"save_results"})
