"""ManifoldDiffraction1D: 1D feature vectors (radial variance, angular average,
Bragg features) of every pattern, kept on the scan's navigation axes."""

from pyxem.signals import ElectronDiffraction1D, LazyElectronDiffraction1D


class ManifoldDiffraction1D(ElectronDiffraction1D):
    """One feature vector per scan position, in reciprocal space.

    Returned by :func:`hyperspy_manifold.get_radial_variance` and
    :func:`hyperspy_manifold.get_angular_average`.
    """

    _signal_type = "manifold_diffraction"


class LazyManifoldDiffraction1D(LazyElectronDiffraction1D, ManifoldDiffraction1D):
    """Lazy (dask) version of :class:`ManifoldDiffraction1D`."""
