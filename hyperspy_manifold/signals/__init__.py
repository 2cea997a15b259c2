"""Signal classes registered with HyperSpy (see hyperspy_extension.yaml)."""

from hyperspy_manifold.signals.cepstrum1d import Cepstrum1D, LazyCepstrum1D
from hyperspy_manifold.signals.cepstrum2d import Cepstrum2D, LazyCepstrum2D
from hyperspy_manifold.signals.manifold_diffraction1d import (
    LazyManifoldDiffraction1D,
    ManifoldDiffraction1D,
)
from hyperspy_manifold.signals.manifold_diffraction2d import (
    LazyManifoldDiffraction2D,
    ManifoldDiffraction2D,
)

__all__ = [
    "Cepstrum1D",
    "Cepstrum2D",
    "LazyCepstrum1D",
    "LazyCepstrum2D",
    "LazyManifoldDiffraction1D",
    "LazyManifoldDiffraction2D",
    "ManifoldDiffraction1D",
    "ManifoldDiffraction2D",
]
