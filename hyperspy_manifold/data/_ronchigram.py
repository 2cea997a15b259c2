"""A simulated atomic-resolution 4D-STEM scan: a large bright-field disk per position.

With a convergence semi-angle larger than the Bragg angles, the bright-field (BF)
disk overlaps the diffracted disks ±g.  For a weak phase object (ψ_g = iσV_g)
and a probe with wave aberration ``χ(k) = π λ Δf |k|²`` the interference of disk
0 with disk g adds ``-2σ|V_g| sin(χ(k) - χ(k - g) + ψ)`` where they overlap, and
with disk -g ``-2σ|V_g| sin(χ(k) - χ(k + g) - ψ)``, with ``ψ = 2π g·R + φ_g``
moving with the probe position R (Nellist et al. 1995, Nature 374, 630; Pennycook
et al. 2015, Ultramicroscopy 151, 160).  In focus (Δf = 0) the two terms cancel
where both disks overlap the BF disk and leave antisymmetric lunes at its edge;
at a defocus, ``χ(k) - χ(k - g) = π λ Δf (2 k·g - g²)`` draws straight fringes
normal to g with period ``1 / (λ Δf |g|)`` across the disk, the shadow image of
the lattice planes (Cowley 1979).  Added here:

- dynamical (Bragg-condition) deficiency lines inside the disk at ``k·ĝ = ±m |g| / 2``,
  fixed to the crystal's orientation and lattice spacing, not to the probe position;
- a probe-position-dependent shift of the whole pattern, along the gradient of the
  projected potential ``V(R) = Σ cos(2π g·R + φ_g)`` (the DPC / centre-of-mass
  signal of an atomic lattice, Müller et al. 2014, Nat. Commun. 5, 5653);
- weak dark-field scattering outside the BF disk: the parts of the first-order
  disks that do not overlap it;
- Poisson counting noise.

Regions are the Voronoi cells of well-spread seeds; each holds a hexagonal 2D
lattice with its own spacing and rotation about the beam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_manifold._random import seed_sequences
from hyperspy_manifold.data import _kinematic as kin
from hyperspy_manifold.data._render import block_rows
from hyperspy_manifold.data._simulate import (
    _check_detector,
    _check_non_negative,
    _check_positive,
    _check_shape,
    _spread_seeds,
    calibrated_scan,
)
from hyperspy_manifold.data._truth import GroundTruth, LabelInfo

# Hexagonal lattice: reciprocal vectors at 60 degrees, rotations repeat every 60.
HEXAGONAL_PERIOD = 60.0
# Width (pixels, Gaussian sigma) of the deficiency lines; highest line order.
LINE_WIDTH = 0.8
LINE_ORDERS = 4


def ronchigram_scan(
    shape: tuple[int, int] = (24, 24),
    detector: int = 64,
    n_regions: int = 3,
    random_state: int | np.random.RandomState | np.random.Generator | None = 0,
    *,
    lazy: bool = False,
    lattice_spacings=(2.6, 3.1, 3.7),
    disk_radius: float | None = None,
    k_max: float = 1.6,
    defocus: float = 0.0,
    fringe_contrast: float = 0.15,
    line_contrast: float = 0.3,
    dpc_shift: float = 1.0,
    dark_field: float = 0.05,
    scan_step: float = 0.02,
    dose: float = 1e5,
    poisson: bool = True,
    accelerating_voltage: float = 200.0,
):
    """An atomic-resolution scan whose patterns are a large, textured bright-field disk.

    The ronchigram / convergent-beam (CBED) counterpart of the nanobeam datasets:
    every pattern is a bright-field disk of radius ``disk_radius`` whose inside
    shows, for the region's hexagonal lattice, the interference of the
    overlapping disks (lunes at the disk edge in focus, the fringes of the shadow
    image of the lattice at a ``defocus``), which changes with the probe
    position, and deficiency lines fixed to the lattice; the whole pattern
    shifts with the probe position (DPC) and weak dark-field lunes lie outside
    the disk.  Regions differ by lattice spacing and by rotation about the beam.
    See the module docstring for the equations.  Takes a fraction of a second
    at the defaults.

    Parameters
    ----------
    shape
        Scan shape (ny, nx).
    detector
        Detector size in pixels (square).
    n_regions
        Number of regions (Voronoi cells of well-spread seeds).
    random_state
        Seed for everything random: None, an int, a ``numpy.random.RandomState``
        or a ``numpy.random.Generator``; same seed, same data.
    lazy
        Return a lazy signal, chunked over scan rows; the data are identical.
    lattice_spacings
        Hexagonal lattice parameters (Å) of the regions, cycled.  Region rotations
        are spread evenly over the 60° period of the lattice.
    disk_radius
        Radius (pixels) of the bright-field disk; default ``0.3 * detector``.
    k_max
        Scattering vector (1/Å) at the edge of the detector, half-way along an axis.
    defocus
        Probe defocus in nm.  0 (in focus, as for DPC and most atomic-resolution
        scans) keeps the interference in lunes at the disk edge; at a defocus the
        disk shows fringes of period ``1 / (λ Δf |g|)`` moving with the probe
        position (18 to 25 pixels at 10 nm for the defaults).
    fringe_contrast
        Amplitude ``2σ|V_g|`` of the interference of each disk ±g with the BF disk.
    line_contrast
        Depth of the first-order deficiency lines (order m: ``line_contrast / m``).
    dpc_shift
        Largest shift (pixels) of the pattern with the probe position.
    dark_field
        Share of the dose scattered outside the bright-field disk.
    scan_step
        Scan step in nm.
    dose
        Electrons per pattern (1e5: about 15 pA for 1 ms).
    poisson
        Add Poisson noise; if False the data are the expected counts.
    accelerating_voltage
        In kV.

    Returns
    -------
    signal : ManifoldDiffraction2D or LazyManifoldDiffraction2D
        Counts (float32), navigation axes x, y in nm, signal axes kx, ky in 1/Å
        with zero at the beam centre (pixel ``detector // 2``).
    truth : GroundTruth
        Labels ``0 .. n_regions - 1``, the pattern shifts (``beam_shifts``, the DPC
        signal in pixels) and the lattice rotation as the first Euler angle.
        There is no tilt (zeros) and no thickness model (NaN).

    Examples
    --------
    >>> from hyperspy_manifold.data import ronchigram_scan
    >>> s, truth = ronchigram_scan()
    >>> s
    <ManifoldDiffraction2D, title: Simulated ronchigram scan, dimensions: (24, 24|64, 64)>
    >>> truth.n_labels, truth.label_names[0]
    (3, 'region 0')
    """
    ny, nx = _check_shape(shape)
    _check_detector(detector)
    d = int(detector)
    n_pos = ny * nx
    if not 1 <= int(n_regions) <= n_pos:
        raise ValueError(
            f"`n_regions` must be between 1 and the {n_pos} scan positions, "
            f"got {n_regions}"
        )
    n_regions = int(n_regions)
    spacings = np.atleast_1d(np.asarray(lattice_spacings, dtype=float))
    if spacings.size == 0 or not (np.isfinite(spacings).all() and (spacings > 0).all()):
        raise ValueError(
            f"`lattice_spacings` must be positive numbers (Å), got {lattice_spacings!r}"
        )
    radius = 0.3 * d if disk_radius is None else disk_radius
    _check_positive(
        disk_radius=radius,
        k_max=k_max,
        scan_step=scan_step,
        dose=dose,
        accelerating_voltage=accelerating_voltage,
    )
    if radius > d // 2 - 1:
        raise ValueError(
            f"`disk_radius` must leave the disk on the detector (at most {d // 2 - 1} "
            f"pixels), got {radius}"
        )
    _check_non_negative(
        defocus=defocus,
        fringe_contrast=fringe_contrast,
        line_contrast=line_contrast,
        dpc_shift=dpc_shift,
    )
    if not 0 <= dark_field < 1:
        raise ValueError(f"`dark_field` must be in [0, 1), got {dark_field}")
    if fringe_contrast >= 1 / 6 or line_contrast >= 1:
        raise ValueError(
            "`fringe_contrast` must be below 1/6 and `line_contrast` below 1 (the "
            f"intensity stays positive), got {fringe_contrast} and {line_contrast}"
        )

    geometry, noise = seed_sequences(random_state, 2)
    rng = np.random.default_rng(geometry)
    yy, xx = (a.ravel().astype(float) for a in np.mgrid[:ny, :nx])
    seeds = _spread_seeds(rng, np.arange(n_pos), n_regions, yy, xx)
    d2 = (yy[:, None] - yy[seeds]) ** 2 + (xx[:, None] - xx[seeds]) ** 2
    labels = np.argmin(d2, axis=1)

    step = np.radians(HEXAGONAL_PERIOD) / n_regions
    start = rng.uniform(0, np.radians(HEXAGONAL_PERIOD))
    jitter = rng.uniform(-0.15, 0.15, size=n_regions) * step
    rotation = (start + np.arange(n_regions) * step + jitter)[
        rng.permutation(n_regions)
    ]
    spacing = spacings[np.arange(n_regions) % spacings.size]
    # first-order reciprocal vectors (1/Å, detector x right, y down) of each region
    directions = rotation[:, None] + np.radians(30 + 60 * np.arange(3))
    g_length = 2 / (np.sqrt(3) * spacing)
    g = g_length[:, None, None] * np.stack(
        [np.cos(directions), np.sin(directions)], axis=-1
    )
    origin = rng.uniform(0, 1, size=(n_regions, 2)) * spacing[:, None]
    phase = 2 * np.pi * np.einsum("rjc,rc->rj", g, origin)

    probe = np.stack([xx, yy], axis=1) * (10 * scan_step)  # Å
    lattice_phase = (
        2 * np.pi * np.einsum("pc,pjc->pj", probe, g[labels]) + phase[labels]
    )
    gradient = -2 * np.pi * np.einsum("pj,pjc->pc", np.sin(lattice_phase), g[labels])
    shifts = dpc_shift * gradient / (2 * np.pi * 3 * g_length[labels][:, None])

    k_scale = float(k_max) / (d // 2)
    wavelength = kin.wavelength(accelerating_voltage)
    scene = _RonchigramScene(
        detector=d,
        k_scale=k_scale,
        disk_radius=float(radius),
        g=g[labels],
        lattice_phase=lattice_phase,
        fringe_scale=wavelength * float(defocus) * 10,
        fringe_contrast=float(fringe_contrast),
        line_contrast=float(line_contrast),
        centre=d // 2 + shifts,
        dark_field=float(dark_field),
        dose=float(dose),
        poisson=bool(poisson),
        noise_entropy=noise.entropy,
        noise_key=tuple(noise.spawn_key),
    )
    data = scene.render((ny, nx), lazy)

    info = tuple(
        LabelInfo(
            f"region {i}",
            f"hexagonal 2D lattice, a = {spacing[i]:.3g} Å",
            (0, 0, 1),
            (float(np.degrees(rotation[i]) % 360), 0.0, 0.0),
        )
        for i in range(n_regions)
    )
    truth = GroundTruth(
        labels=labels.reshape(ny, nx),
        label_info=info,
        tilts=np.zeros((ny, nx, 2)),
        euler=np.stack(
            [
                np.degrees(rotation[labels]) % 360,
                np.zeros(n_pos),
                np.zeros(n_pos),
            ],
            axis=1,
        ).reshape(ny, nx, 3),
        beam_shifts=shifts.reshape(ny, nx, 2),
        thickness=np.full((ny, nx), np.nan),
        boundary_weight=np.zeros((ny, nx)),
        neighbour_labels=labels.reshape(ny, nx).copy(),
        scan_step=float(scan_step),
    )
    # Convergence semi-angle (mrad) that makes the BF disk this many pixels wide.
    alpha = radius * k_scale * wavelength * 1e3
    signal = calibrated_scan(
        data,
        scan_step,
        k_scale,
        d // 2,
        "Simulated ronchigram scan",
        beam_energy=float(accelerating_voltage),
        convergence_angle=float(alpha),
        elements=[],
    )
    signal.metadata.set_item("Acquisition_instrument.TEM.defocus", float(defocus))
    return signal, truth


@dataclass(frozen=True, eq=False)
class _RonchigramScene:
    """Per-position physics of :func:`ronchigram_scan`, rendered a block at a time.

    Noise is drawn with a seed tied to the block, so the eager and the lazy signal
    hold the same numbers.
    """

    detector: int
    k_scale: float  # 1/Å per pixel
    disk_radius: float  # pixels
    g: np.ndarray  # (p, 3, 2) first-order reciprocal vectors (x, y), 1/Å
    lattice_phase: np.ndarray  # (p, 3) 2π g·R + φ_g
    fringe_scale: float  # λ Δf, Å²
    fringe_contrast: float
    line_contrast: float
    centre: np.ndarray  # (p, 2) pattern centre (x, y), pixels
    dark_field: float
    dose: float
    poisson: bool
    noise_entropy: int
    noise_key: tuple

    def _disk(self, r):
        # A half-pixel soft edge keeps sub-pixel shifts visible.
        return 0.5 * (1.0 - np.tanh((r - self.disk_radius) / 0.5))

    def _lines(self, along, length):
        """Deficiency lines at ``along = ±m |g| / 2`` (pixels), from 1D tables: the
        product of line profiles depends on ``along`` and ``|g|`` (one per region)."""
        step = 0.02
        span = np.abs(along).max() + 1
        table_x = np.arange(-span, span + step, step)
        orders = np.arange(1, LINE_ORDERS + 1)
        out = np.empty_like(along)
        lengths, which = np.unique(length.ravel(), return_inverse=True)
        for i, g in enumerate(lengths):
            centres = np.outer(orders, (-g / 2, g / 2))
            offset = table_x[:, None, None] - centres[None]
            profile = 1 - (self.line_contrast / orders)[None, :, None] * np.exp(
                -0.5 * (offset / LINE_WIDTH) ** 2
            )
            members = which == i
            out[members] = np.interp(along[members], table_x, profile.prod(axis=(1, 2)))
        return out

    def expected(self, start: int, stop: int) -> np.ndarray:
        """Noise-free patterns of positions ``start:stop``, shape ``(n, d, d)``."""
        d = self.detector
        centre = self.centre[start:stop]
        g = self.g[start:stop] / self.k_scale  # pixels
        grid = np.arange(d, dtype=float)
        qx = grid[None, None, :] - centre[:, 0, None, None]
        qy = grid[None, :, None] - centre[:, 1, None, None]
        aperture = self._disk(np.hypot(qx, qy))
        lines = np.ones_like(aperture)
        fringes = np.ones_like(aperture)
        dark = np.zeros_like(aperture)
        # χ(k) = π λ Δf |k|², with k in pixels: π λ Δf k_scale² |q|²
        chi = np.pi * self.fringe_scale * self.k_scale**2
        for j in range(g.shape[1]):
            gx, gy = (g[:, j, c, None, None] for c in (0, 1))
            length = np.hypot(gx, gy)
            along = (qx * gx + qy * gy) / length  # pixels along ĝ
            lines *= self._lines(along, length)
            overlap_plus = self._disk(np.hypot(qx - gx, qy - gy))
            overlap_minus = self._disk(np.hypot(qx + gx, qy + gy))
            # weak-phase-object interference of disk 0 with disks +g and -g:
            # -sin(χ(k) - χ(k - g) + ψ) and -sin(χ(k) - χ(k + g) - ψ), ψ = 2π g·R + φ
            psi = self.lattice_phase[start:stop, j, None, None]
            product = 2 * along * length
            fringes -= self.fringe_contrast * (
                overlap_plus * np.sin(chi * (product - length**2) + psi)
                + overlap_minus * np.sin(-chi * (product + length**2) - psi)
            )
            dark += overlap_plus + overlap_minus
        bright = aperture * lines * fringes
        dark *= 1 - aperture
        n = bright.shape[0]
        bright_sum = bright.reshape(n, -1).sum(axis=1)[:, None, None]
        dark_sum = dark.reshape(n, -1).sum(axis=1)[:, None, None]
        out = (1 - self.dark_field) * bright / bright_sum
        out += self.dark_field * dark / np.where(dark_sum > 0, dark_sum, 1)
        return out * self.dose

    def _block(self, start: int, stop: int, index: int) -> np.ndarray:
        counts = self.expected(start, stop)
        if self.poisson:
            seed = np.random.SeedSequence(
                self.noise_entropy, spawn_key=(*self.noise_key, index)
            )
            counts = np.random.default_rng(seed).poisson(counts)
        return counts.astype(np.float32)

    def render(self, nav_shape: tuple[int, int], lazy: bool):
        """``nav_shape + (d, d)`` counts, numpy or dask chunked over scan rows."""
        ny, nx = nav_shape
        d = self.detector
        rows = block_rows(nav_shape, d)
        starts = list(range(0, ny, rows))
        if lazy:
            import dask.array as da

            return da.map_blocks(
                self._chunk,
                chunks=(tuple(min(rows, ny - r) for r in starts), (nx,), (d,), (d,)),
                dtype=np.float32,
                meta=np.empty((0, 0, 0, 0), dtype=np.float32),
                rows=rows,
                nx=nx,
            )
        out = np.empty((ny, nx, d, d), dtype=np.float32)
        for i, r0 in enumerate(starts):
            r1 = min(r0 + rows, ny)
            out[r0:r1] = self._block(r0 * nx, r1 * nx, i).reshape(r1 - r0, nx, d, d)
        return out

    def _chunk(self, rows: int, nx: int, block_id=None) -> np.ndarray:
        i = block_id[0]
        block = self._block(i * rows * nx, (i + 1) * rows * nx, i)
        return block.reshape(-1, nx, self.detector, self.detector)
