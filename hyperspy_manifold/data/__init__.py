"""Simulated, labelled 4D-STEM datasets, made in seconds from a seed.

Nothing is downloaded: patterns come from a kinematic simulation (diffsims
structure factors, Ewald-sphere excitation errors) rendered on a calibrated
detector, with Poisson noise. Every function returns ``(signal, truth)``: a
:class:`~hyperspy_manifold.signals.ManifoldDiffraction2D` (or its lazy twin) and
a :class:`GroundTruth` with the label map and what every label is.

- :func:`polycrystalline_film`: fcc grains (Voronoi), an amorphous patch, bending,
  thickness variation, probe overlap at boundaries, descan.
- :func:`zone_axis_tilt_series`: a few zone axes in stripes, every position
  randomly mistilted (after Shi et al.).
- :func:`ronchigram_scan`: an atomic-resolution scan whose patterns are a large
  bright-field disk with the interference of the overlapping disks (a
  weak-phase-object model, not diffsims), deficiency lines and a DPC shift.
"""

from hyperspy_manifold.data._ronchigram import ronchigram_scan
from hyperspy_manifold.data._simulate import polycrystalline_film, zone_axis_tilt_series
from hyperspy_manifold.data._truth import GroundTruth, LabelInfo

__all__ = [
    "GroundTruth",
    "LabelInfo",
    "polycrystalline_film",
    "ronchigram_scan",
    "zone_axis_tilt_series",
]
