"""A peak of the exit-wave power cepstrum (Padgett et al. 2020, Ultramicroscopy 214).

In cepstrum space a peak at position r (real-space, e.g. in Angstrom) is a lattice
vector of the crystal: its distance from zero quefrency is the spacing d = |r| and its
direction the in-plane direction of the lattice vector.  Fitting the peak with this
component gives the lattice vector to sub-pixel precision;
:func:`hyperspy_manifold.fit_lattice_peaks` builds such models (one per vector, on a
plane background) from the vectorised estimates of ``get_lattice_vectors``.
"""

import numpy as np
from hyperspy._components.expression import Expression


class CepstralPeak2D(Expression):
    r"""Isotropic 2D Gaussian peak whose centre is a lattice vector.

    :math:`f(x, y) = A \exp(-((x - r_x)^2 + (y - r_y)^2) / (2 \sigma^2))`

    Parameters
    ----------
    A : float
        Height of the peak.
    r_x, r_y : float
        Peak position in calibrated cepstrum units: the lattice vector.
    sigma : float
        Width of the peak.
    """

    def __init__(self, A=1.0, r_x=0.0, r_y=0.0, sigma=1.0, module="numpy", **kwargs):
        super().__init__(
            expression="A * exp(-((x - r_x) ** 2 + (y - r_y) ** 2) / (2 * sigma ** 2))",
            name="CepstralPeak2D",
            position=("r_x", "r_y"),
            A=A,
            r_x=r_x,
            r_y=r_y,
            sigma=sigma,
            module=module,
            autodoc=False,
            **kwargs,
        )
        self.sigma.bmin = 0.0

    @property
    def spacing(self):
        """Lattice spacing |r| in the units of the cepstrum axes."""
        return float(np.hypot(self.r_x.value, self.r_y.value))

    @property
    def angle(self):
        """Direction of the lattice vector in degrees from +x, counter-clockwise."""
        return float(np.degrees(np.arctan2(self.r_y.value, self.r_x.value)))
