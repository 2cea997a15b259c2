"""Kinematic electron diffraction of one crystal at many orientations at once.

The reciprocal lattice and the kinematic structure factors |F(g)|² come from
diffsims (Lobato-Peng scattering factors). The Ewald-sphere construction is done
here, vectorised over scan positions, with the same geometry and relrod model
as :meth:`diffsims.generators.simulation_generator.SimulationGenerator.calculate_diffraction2d`:

- a reflection g, rotated into the laboratory frame (beam along z), has the
  excitation error s = (1/λ − sqrt(1/λ² − gx² − gy²)) − gz;
- its intensity is |F(g)|² · L(s), with the Lorentzian rocking curve
  L(s) = 1 / (1 + (π s / w)²) of Palatinus et al. (2019), w ≈ 1 / thickness;
- its position on the detector is (gx, gy).

Orientation convention (orix / diffsims): an orix ``Rotation`` with matrix ``M``
puts the crystal vector g at ``M.T @ g`` in the laboratory frame. Functions here
work with the laboratory-from-crystal matrix ``A = M.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from diffpy.structure import Atom, Lattice, Structure
from diffsims.crystallography import ReciprocalLatticeVector
from diffsims.utils.sim_utils import (
    get_electron_wavelength,
    get_kinematical_intensities,
)
from orix.crystal_map import Phase
from orix.quaternion import Rotation

# Fractional coordinates of the four atoms of the conventional fcc cell.
_FCC_SITES = ((0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5))


class Reflections(NamedTuple):
    """Allowed reflections of a crystal, in the crystal's Cartesian frame."""

    g: np.ndarray
    """(n, 3) reciprocal lattice vectors in 1/Å."""
    hkl: np.ndarray
    """(n, 3) Miller indices."""
    f2: np.ndarray
    """(n,) kinematic intensities |F(g)|²."""


def fcc_phase(element: str, lattice_parameter: float) -> Phase:
    """An orix ``Phase`` of a face-centred cubic element (space group Fm-3m)."""
    a = float(lattice_parameter)
    atoms = [Atom(element, xyz) for xyz in _FCC_SITES]
    structure = Structure(atoms=atoms, lattice=Lattice(a, a, a, 90, 90, 90))
    return Phase(name=element, space_group=225, structure=structure)


def wavelength(accelerating_voltage: float) -> float:
    """Relativistic electron wavelength in Å for a voltage in kV."""
    return float(get_electron_wavelength(accelerating_voltage))


def reflections(phase: Phase, g_max: float, scattering_params="lobato") -> Reflections:
    """All reflections with 0 < |g| <= ``g_max`` (1/Å) and a non-zero structure factor."""
    recip = ReciprocalLatticeVector.from_min_dspacing(phase, min_dspacing=1.0 / g_max)
    hkl = np.asarray(recip.hkl, dtype=float)
    g = np.asarray(recip.data, dtype=float)
    f2 = get_kinematical_intensities(
        phase.structure,
        hkl,
        np.asarray(recip.gspacing, dtype=float),
        scattering_params=scattering_params,
    )
    # Systematic absences come back as ~1e-19 rather than 0.
    keep = (f2 > 1e-8 * f2.max()) & (np.linalg.norm(g, axis=1) <= g_max)
    return Reflections(g=g[keep], hkl=hkl[keep], f2=np.asarray(f2[keep], dtype=float))


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def rotation_z(angle_deg) -> np.ndarray:
    """Rotation matrices about the beam (z) by ``angle_deg``, shape ``(..., 3, 3)``."""
    t = np.deg2rad(np.asarray(angle_deg, dtype=float))
    c, s = np.cos(t), np.sin(t)
    out = np.zeros(t.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 1] = c, -s
    out[..., 1, 0], out[..., 1, 1] = s, c
    out[..., 2, 2] = 1.0
    return out


def tilt_matrices(tilt_x_deg, tilt_y_deg) -> np.ndarray:
    """Specimen tilts: rotation about the laboratory x axis, then about y.

    Returns laboratory-frame rotation matrices of shape ``(..., 3, 3)``.
    """
    tx = np.deg2rad(np.asarray(tilt_x_deg, dtype=float))
    ty = np.deg2rad(np.asarray(tilt_y_deg, dtype=float))
    tx, ty = np.broadcast_arrays(tx, ty)
    rx = np.zeros(tx.shape + (3, 3))
    rx[..., 0, 0] = 1.0
    rx[..., 1, 1], rx[..., 1, 2] = np.cos(tx), -np.sin(tx)
    rx[..., 2, 1], rx[..., 2, 2] = np.sin(tx), np.cos(tx)
    ry = np.zeros(ty.shape + (3, 3))
    ry[..., 1, 1] = 1.0
    ry[..., 0, 0], ry[..., 0, 2] = np.cos(ty), np.sin(ty)
    ry[..., 2, 0], ry[..., 2, 2] = -np.sin(ty), np.cos(ty)
    return ry @ rx


def zone_axis_matrix(phase: Phase, uvw, in_plane_deg: float = 0.0) -> np.ndarray:
    """Laboratory-from-crystal matrix that puts the direction [uvw] along the beam.

    At ``in_plane_deg = 0`` the crystal direction [uvw] × [001] (or [100] when
    [uvw] is [001]) lies along the laboratory x axis; ``in_plane_deg`` then turns
    the crystal about the beam, counter-clockwise in (x, y).
    """
    beam = _unit(phase.structure.lattice.cartesian(np.asarray(uvw, dtype=float)))
    e1 = np.cross(beam, [0.0, 0.0, 1.0])
    e1 = _unit([1.0, 0.0, 0.0] if np.linalg.norm(e1) < 1e-8 else e1)
    e2 = np.cross(beam, e1)
    crystal_from_lab = np.stack([e1, e2, beam], axis=1)
    return rotation_z(in_plane_deg) @ crystal_from_lab.T


def euler_angles(lab_from_crystal: np.ndarray) -> np.ndarray:
    """Bunge Euler angles (degrees) of orix rotations for matrices ``(..., 3, 3)``.

    ``Rotation.from_euler(angles, degrees=True)`` given to diffsims reproduces the
    orientation.
    """
    a = np.asarray(lab_from_crystal, dtype=float)
    rot = Rotation.from_matrix(np.swapaxes(a, -1, -2).reshape(-1, 3, 3))
    return rot.to_euler(degrees=True).reshape(a.shape[:-2] + (3,))


def spots(
    lab_from_crystal: np.ndarray,
    refl: Reflections,
    wavelength: float,
    rocking_width,
) -> tuple[np.ndarray, np.ndarray]:
    """Detector positions and kinematic intensities of every reflection.

    Parameters
    ----------
    lab_from_crystal
        Orientations, shape ``(p, 3, 3)``.
    refl
        Reflections of the crystal (:func:`reflections`).
    wavelength
        Electron wavelength in Å.
    rocking_width
        Relrod width w in 1/Å (about 1 / thickness), scalar or shape ``(p,)``.

    Returns
    -------
    xy
        ``(p, n, 2)`` positions (gx, gy) in 1/Å.
    intensity
        ``(p, n)`` values |F|² · L(s).
    """
    g_lab = np.einsum("pij,nj->pni", lab_from_crystal, refl.g)
    rho2 = g_lab[..., 0] ** 2 + g_lab[..., 1] ** 2
    k0 = 1.0 / wavelength
    excitation = k0 - np.sqrt(np.maximum(k0**2 - rho2, 0.0)) - g_lab[..., 2]
    width = np.asarray(rocking_width, dtype=float).reshape(-1, 1)
    rocking = 1.0 / (1.0 + (np.pi * excitation / width) ** 2)
    return g_lab[..., :2], refl.f2[None, :] * rocking
