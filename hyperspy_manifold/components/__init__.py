"""HyperSpy model components registered by hyperspy_manifold."""

from hyperspy_manifold.components.cepstral_peak2d import CepstralPeak2D
from hyperspy_manifold.components.cluster_count_decay import ClusterCountDecay

__all__ = ["CepstralPeak2D", "ClusterCountDecay"]
