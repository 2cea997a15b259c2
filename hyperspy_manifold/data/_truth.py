"""Ground truth returned with every simulated dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelInfo:
    """What one ground-truth label is."""

    name: str
    """E.g. ``"grain 3"``, ``"[011]"`` or ``"amorphous"``."""
    phase: str
    """Element of the crystal, or ``"amorphous"``."""
    zone_axis: tuple[int, int, int] | None = None
    """Crystal direction [uvw] along the beam before any tilt (None if amorphous)."""
    euler: tuple[float, float, float] | None = None
    """Bunge Euler angles (degrees, orix convention) of that untilted orientation:
    ``diffsims.generators.simulation_generator.SimulationGenerator().calculate_diffraction2d(
    phase, orix.quaternion.Rotation.from_euler(euler, degrees=True))`` simulates it."""


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Ground truth of a simulated 4D-STEM scan; arrays have the navigation shape first.

    Labels are ``0 .. n_labels - 1``; -1 is never used (it is the noise/masked value of
    the clustering results). The amorphous region, when present, is the last label.
    """

    labels: np.ndarray
    """``(ny, nx)`` int label of every scan position."""
    label_info: tuple[LabelInfo, ...]
    """One :class:`LabelInfo` per label."""
    tilts: np.ndarray
    """``(ny, nx, 2)`` tilt (degrees) about the laboratory x then y axis of each
    position's crystal away from its label's orientation; NaN where amorphous."""
    euler: np.ndarray
    """``(ny, nx, 3)`` Bunge Euler angles (degrees) of each position's crystal,
    tilt included; NaN where amorphous."""
    beam_shifts: np.ndarray
    """``(ny, nx, 2)`` shift (x, y) of the pattern centre from the calibrated
    centre, in detector pixels (descan and jitter)."""
    thickness: np.ndarray
    """``(ny, nx)`` specimen thickness in nm."""
    boundary_weight: np.ndarray
    """``(ny, nx)`` share (0 to 0.5) of the pattern coming from the neighbouring grain
    across a grain boundary (probe overlap)."""
    neighbour_labels: np.ndarray
    """``(ny, nx)`` label of that neighbouring grain (equal to ``labels`` where the
    share is 0)."""
    scan_step: float
    """Scan step in nm (both directions)."""

    @property
    def n_labels(self) -> int:
        return len(self.label_info)

    @property
    def label_names(self) -> list[str]:
        return [info.name for info in self.label_info]

    @property
    def amorphous_label(self) -> int | None:
        """The amorphous label, or None when the scan has no amorphous region."""
        for i, info in enumerate(self.label_info):
            if info.phase == "amorphous":
                return i
        return None

    def as_signal(self):
        """The label map as a ``Signal2D`` with the scan axes (x, y in nm)."""
        import hyperspy.api as hs

        ny, nx = self.labels.shape
        axes = [
            {"name": name, "units": "nm", "scale": self.scan_step, "size": n}
            for name, n in (("y", ny), ("x", nx))
        ]
        s = hs.signals.Signal2D(np.array(self.labels), axes=axes)
        s.metadata.General.title = "Ground-truth labels"
        return s
