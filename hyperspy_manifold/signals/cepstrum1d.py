"""Cepstrum1D: 1D cepstral features (e.g. an annulus of the cepstrum, flattened)."""

from hyperspy._signals.lazy import LazySignal
from hyperspy.signals import Signal1D


class Cepstrum1D(Signal1D):
    """Cepstral features of every pattern, made by
    :meth:`Cepstrum2D.get_ring_features`."""

    _signal_type = "cepstrum"


class LazyCepstrum1D(LazySignal, Cepstrum1D):
    """Lazy (dask) version of :class:`Cepstrum1D`."""
