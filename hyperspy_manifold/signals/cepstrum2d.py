"""Cepstrum2D: exit-wave power cepstra (Padgett et al. 2020), real-space signal axes."""

from hyperspy._signals.lazy import LazySignal
from hyperspy.signals import Signal2D

from hyperspy_manifold.features.cepstrum import get_ring_features
from hyperspy_manifold.features.lattice import fit_lattice_peaks, get_lattice_vectors
from hyperspy_manifold.signals._delegate import api_method


class Cepstrum2D(Signal2D):
    """Exit-wave power cepstrum of every pattern.

    Signal axes are quefrency (real-space) axes centred on zero quefrency; with a
    detector calibrated in 1/Å they are in Å (scale ``1 / (N * dk)``).  Peaks away
    from the centre are lattice vectors.  Made by
    :func:`hyperspy_manifold.get_cepstrum`.
    """

    _signal_type = "cepstrum"

    get_ring_features = api_method(get_ring_features)
    get_lattice_vectors = api_method(get_lattice_vectors)
    fit_lattice_peaks = api_method(fit_lattice_peaks)


class LazyCepstrum2D(LazySignal, Cepstrum2D):
    """Lazy (dask) version of :class:`Cepstrum2D`."""
