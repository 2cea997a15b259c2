"""hyperspy_manifold: unsupervised structure discovery in 4D-STEM.

Physically motivated transforms of every diffraction pattern (exit-wave power
cepstrum, radial variance, angular average, rasterised Bragg disks), then manifold
learning, clustering and NMF, returned as ordinary HyperSpy signals.
"""

from hyperspy_manifold.features.cepstrum import get_cepstrum, get_ring_features
from hyperspy_manifold.features.polar import get_angular_average, get_radial_variance

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "get_angular_average",
    "get_cepstrum",
    "get_radial_variance",
    "get_ring_features",
]
