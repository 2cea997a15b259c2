"""Simulated, labelled 4D-STEM scans: a polycrystalline film and a zone-axis tilt series.

Scene geometry (grains, amorphous region, tilts, thickness, beam shifts) is drawn
here from one seed; the physics of every pattern is in :mod:`._kinematic` (where
the spots are and how bright) and :mod:`._render` (how they look on the detector).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from hyperspy_manifold._random import seed_sequences
from hyperspy_manifold.data import _kinematic as kin
from hyperspy_manifold.data._render import Scene, render
from hyperspy_manifold.data._truth import GroundTruth, LabelInfo

# Low-index zone axes, in the order the datasets use them.
ZONE_AXES = ((0, 0, 1), (0, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 3), (1, 2, 3))
# Share of the dose scattered into Bragg spots by an untilted zone-axis crystal of
# the nominal thickness (averaged over the labels), and by amorphous material.
BRAGG_FRACTION = 0.3
AMORPHOUS_SCATTERING = 0.3
BACKGROUND_FRACTION = 0.1


def polycrystalline_film(
    shape: tuple[int, int] = (32, 32),
    detector: int = 64,
    n_grains: int = 8,
    amorphous_fraction: float = 0.15,
    random_state: int | np.random.RandomState | np.random.Generator | None = 0,
    *,
    lazy: bool = False,
    element: str = "Ag",
    lattice_parameter: float = 4.086,
    zone_axes=ZONE_AXES[:4],
    misorientation: float = 0.5,
    bending: float = 0.3,
    thickness: float = 10.0,
    thickness_variation: float = 0.2,
    boundary_width: float = 2.0,
    scan_step: float = 2.0,
    k_max: float = 1.4,
    dose: float = 5000.0,
    poisson: bool = True,
    beam_jitter: float = 0.25,
    descan_shift: float = 1.0,
    disk_radius: float = 2.0,
    spot_sigma: float = 1.0,
    accelerating_voltage: float = 200.0,
):
    """A nanocrystalline fcc film with an amorphous patch, scanned by a nanobeam.

    Grains are the Voronoi cells of ``n_grains`` well-spread seed positions. Every
    grain sits close to a low-index zone axis (cycled through ``zone_axes`` in a
    random order) with its own rotation about the beam; grains sharing a zone axis
    get in-plane rotations spread evenly over the pattern's symmetry period, so no
    two grains look alike. (Random 3D orientations would leave most grains with
    two or three weak spots.) A compact, irregular amorphous region covers
    ``amorphous_fraction`` of the scan. Takes about a second at the defaults.

    Physics included, per scan position:

    - kinematic Bragg intensities ``|F(g)|²`` (Lobato-Peng scattering factors, via
      diffsims) times a Lorentzian rocking curve of the excitation error on the
      curved Ewald sphere, with relrod width 1 / thickness;
    - a grain misorientation (up to ``misorientation`` degrees off the zone axis)
      plus a smooth bending field (standard deviation ``bending`` degrees) and a
      smooth thickness field: small tilts change excitation errors and so the spot
      intensities inside a grain, while spot positions barely move;
    - kinematic intensity growing as thickness²;
    - probe overlap at grain boundaries: the neighbouring grain's pattern is mixed
      in, with a share falling from 1/2 on the boundary to 0 at ``boundary_width``;
    - diffuse amorphous rings, a diffuse background, a direct-beam disk that keeps
      the unscattered electrons;
    - a linear descan shift across the scan plus random jitter of the pattern
      centre, and Poisson counting noise.

    Parameters
    ----------
    shape
        Scan shape (ny, nx).
    detector
        Detector size in pixels (square).
    n_grains
        Number of grains.
    amorphous_fraction
        Share of scan positions that are amorphous, in [0, 1).
    random_state
        Seed for everything random: None, an int, a ``numpy.random.RandomState``
        or a ``numpy.random.Generator``; same seed, same data.
    lazy
        Return a lazy signal, chunked over scan rows; the data are identical.
    element, lattice_parameter
        The fcc crystal (lattice parameter in Å).
    zone_axes
        Zone axes [uvw] the grains are close to.
    misorientation
        Largest tilt (degrees) of a grain away from its exact zone axis.
    bending
        Standard deviation (degrees) of the smooth tilt field inside grains.
    thickness
        Mean specimen thickness in nm.
    thickness_variation
        Relative standard deviation of the smooth thickness field.
    boundary_width
        Distance (nm) from a grain boundary over which the probe sees both grains.
    scan_step
        Scan step in nm.
    k_max
        Scattering vector (1/Å) at the edge of the detector, half-way along an axis.
    dose
        Electrons per pattern.
    poisson
        Add Poisson noise; if False the data are the expected counts.
    beam_jitter
        Standard deviation (pixels) of the random shift of the pattern centre.
    descan_shift
        Linear drift (pixels) of the pattern centre from one side of the scan to
        the other.
    disk_radius
        Radius (pixels) of the direct-beam disk.
    spot_sigma
        Gaussian width (pixels) of the Bragg spots.
    accelerating_voltage
        In kV.

    Returns
    -------
    signal : ManifoldDiffraction2D or LazyManifoldDiffraction2D
        Counts (float32), navigation axes x, y in nm, signal axes kx, ky in 1/Å
        with zero at the beam centre.
    truth : GroundTruth
        Labels ``0 .. n_grains - 1`` for the grains and ``n_grains`` for the
        amorphous region (if any), orientations, tilts, thickness, beam shifts.

    Examples
    --------
    >>> from hyperspy_manifold.data import polycrystalline_film
    >>> s, truth = polycrystalline_film()
    >>> s
    <ManifoldDiffraction2D, title: Simulated polycrystalline Ag film, dimensions: (32, 32|64, 64)>
    >>> truth.label_names[-1], truth.n_labels
    ('amorphous', 9)
    """
    ny, nx = _check_shape(shape)
    _check_detector(detector)
    n_pos = ny * nx
    n_amorphous = int(round(_check_fraction(amorphous_fraction) * n_pos))
    if not 1 <= int(n_grains) <= n_pos - n_amorphous:
        raise ValueError(
            f"`n_grains` must be between 1 and the {n_pos - n_amorphous} crystalline "
            f"scan positions, got {n_grains}"
        )
    n_grains = int(n_grains)
    zone_axes = _check_zone_axes(zone_axes)
    _check_non_negative(
        misorientation=misorientation,
        bending=bending,
        thickness_variation=thickness_variation,
        boundary_width=boundary_width,
        beam_jitter=beam_jitter,
        descan_shift=descan_shift,
    )
    _check_positive(thickness=thickness, scan_step=scan_step)
    geometry, noise = seed_sequences(random_state, 2)
    rng = np.random.default_rng(geometry)
    yy, xx = (a.ravel().astype(float) for a in np.mgrid[:ny, :nx])

    amorphous = _amorphous_region(rng, (ny, nx), n_amorphous)
    seeds = _spread_seeds(rng, np.flatnonzero(~amorphous), n_grains, yy, xx)
    d2 = (yy[:, None] - yy[seeds]) ** 2 + (xx[:, None] - xx[seeds]) ** 2
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :2]
    grain = nearest[:, 0]
    neighbour = nearest[:, 1] if n_grains > 1 else grain
    share = np.zeros(n_pos)
    if n_grains > 1 and boundary_width > 0:
        rows = np.arange(n_pos)
        gap = np.hypot(
            yy[seeds[grain]] - yy[seeds[neighbour]],
            xx[seeds[grain]] - xx[seeds[neighbour]],
        )
        to_boundary = (d2[rows, neighbour] - d2[rows, grain]) / (2 * gap) * scan_step
        share = 0.5 * np.clip(1 - to_boundary / boundary_width, 0, 1)
    share[amorphous] = 0.0

    axes_of_grains = [zone_axes[i % len(zone_axes)] for i in rng.permutation(n_grains)]
    in_plane = _spread_in_plane(rng, axes_of_grains)
    phase = kin.fcc_phase(element, lattice_parameter)
    grain_matrix = np.stack(
        [
            kin.zone_axis_matrix(phase, uvw, a)
            for uvw, a in zip(axes_of_grains, in_plane)
        ]
    )
    radius = misorientation * np.sqrt(rng.uniform(size=n_grains))
    azimuth = rng.uniform(0, 2 * np.pi, size=n_grains)
    grain_tilt = np.stack([radius * np.cos(azimuth), radius * np.sin(azimuth)], axis=1)
    grain_size = np.sqrt(n_pos / n_grains)
    bend = bending * np.stack(
        [_smooth_field(rng, (ny, nx), grain_size / 2) for _ in range(2)], axis=1
    )
    tilts = grain_tilt[grain] + bend
    neighbour_tilts = grain_tilt[neighbour] + bend
    local_thickness = thickness * (
        1 + thickness_variation * _smooth_field(rng, (ny, nx), grain_size)
    )
    local_thickness = np.maximum(local_thickness, 0.25 * thickness)
    shifts = _beam_shifts(rng, (ny, nx), descan_shift, beam_jitter)

    labels = np.where(amorphous, n_grains, grain)
    info = [
        LabelInfo(f"grain {i}", element, uvw, tuple(kin.euler_angles(m).tolist()))
        for i, (uvw, m) in enumerate(zip(axes_of_grains, grain_matrix))
    ]
    if n_amorphous:
        info.append(LabelInfo("amorphous", "amorphous"))

    optics = _Optics(
        detector, k_max, accelerating_voltage, disk_radius, spot_sigma, dose, poisson
    )
    orientation = kin.tilt_matrices(tilts[:, 0], tilts[:, 1]) @ grain_matrix[grain]
    secondary = (
        kin.tilt_matrices(neighbour_tilts[:, 0], neighbour_tilts[:, 1])
        @ grain_matrix[neighbour]
    )
    width = 1.0 / (10.0 * local_thickness)
    scene = _scene(
        optics,
        phase,
        grain_matrix,
        1.0 / (10.0 * thickness),
        orientation=orientation,
        secondary_orientation=secondary,
        secondary_weight=share,
        crystal_weight=(~amorphous).astype(float),
        rocking_width=width,
        thickness_scale=(local_thickness / thickness) ** 2,
        shifts=shifts,
        noise=noise,
    )
    euler = kin.euler_angles(orientation)
    euler[amorphous] = np.nan
    tilts[amorphous] = np.nan
    truth = GroundTruth(
        labels=labels.reshape(ny, nx),
        label_info=tuple(info),
        tilts=tilts.reshape(ny, nx, 2),
        euler=euler.reshape(ny, nx, 3),
        beam_shifts=shifts.reshape(ny, nx, 2),
        thickness=local_thickness.reshape(ny, nx),
        boundary_weight=share.reshape(ny, nx),
        neighbour_labels=np.where(share > 0, neighbour, labels).reshape(ny, nx),
        scan_step=float(scan_step),
    )
    title = f"Simulated polycrystalline {element} film"
    return _signal(scene, optics, (ny, nx), scan_step, lazy, title, element), truth


def zone_axis_tilt_series(
    shape: tuple[int, int] = (24, 24),
    detector: int = 64,
    tilt_range: float = 10.0,
    n_orientations: int = 3,
    random_state: int | np.random.RandomState | np.random.Generator | None = 0,
    *,
    lazy: bool = False,
    element: str = "Ag",
    lattice_parameter: float = 4.086,
    zone_axes=None,
    thickness: float = 2.0,
    scan_step: float = 1.0,
    k_max: float = 1.4,
    dose: float = 5000.0,
    poisson: bool = True,
    beam_jitter: float = 0.25,
    descan_shift: float = 0.0,
    disk_radius: float = 2.0,
    spot_sigma: float = 1.0,
    accelerating_voltage: float = 200.0,
):
    """Zone-axis patterns of one fcc crystal under random mistilt, in stripes.

    After Shi et al. (manifold learning in cepstrum space): ``n_orientations``
    zone axes ([001], [011], [111], then [112], [013], [123]), each with a random
    rotation about the beam, fill equal vertical stripes of the scan. Every scan
    position is tilted about the laboratory x and y axes by independent uniform
    angles in ±``tilt_range`` degrees. Tilt moves reflections off the Ewald
    sphere, so at a few degrees whole rows of spots fade and others brighten
    (kinematic ``|F|²`` times a Lorentzian rocking curve of width 1 / thickness), while
    the lattice spacings of the spots that remain barely change: the intensities
    of one orientation differ strongly from position to position, its lattice does
    not. Takes well under a second at the defaults.

    Parameters
    ----------
    shape
        Scan shape (ny, nx).
    detector
        Detector size in pixels (square).
    tilt_range
        Largest tilt (degrees) about each axis; 0 gives exact zone axes.
    n_orientations
        Number of zone axes (stripes), 1 to 6.
    random_state
        Seed for everything random: None, an int, a ``numpy.random.RandomState``
        or a ``numpy.random.Generator``; same seed, same data.
    lazy
        Return a lazy signal, chunked over scan rows; the data are identical.
    element, lattice_parameter
        The fcc crystal (lattice parameter in Å).
    zone_axes
        Zone axes [uvw] to use instead of the default list (then
        ``n_orientations`` is ignored).
    thickness
        Specimen thickness in nm (relrod width 1 / thickness). The thin default
        keeps a few spots excited even at 10° off the zone axis; thicker crystals
        lose almost all spots beyond a degree or two.
    scan_step, k_max, dose, poisson, beam_jitter, descan_shift, disk_radius, spot_sigma, accelerating_voltage
        As in :func:`polycrystalline_film`.

    Returns
    -------
    signal : ManifoldDiffraction2D or LazyManifoldDiffraction2D
        Counts (float32), navigation axes x, y in nm, signal axes kx, ky in 1/Å
        with zero at the beam centre.
    truth : GroundTruth
        Labels ``0 .. n_orientations - 1`` (named after the zone axis), the tilt of
        every position, orientations and beam shifts.

    Examples
    --------
    >>> from hyperspy_manifold.data import zone_axis_tilt_series
    >>> s, truth = zone_axis_tilt_series(tilt_range=5)
    >>> truth.label_names
    ['[001]', '[011]', '[111]']
    """
    ny, nx = _check_shape(shape)
    _check_detector(detector)
    if zone_axes is None:
        if not 1 <= int(n_orientations) <= len(ZONE_AXES):
            raise ValueError(
                f"`n_orientations` must be between 1 and {len(ZONE_AXES)}, "
                f"got {n_orientations}"
            )
        zone_axes = ZONE_AXES[: int(n_orientations)]
    zone_axes = _check_zone_axes(zone_axes)
    n_labels = len(zone_axes)
    if n_labels > nx:
        raise ValueError(
            f"`shape` must have at least one column per orientation ({n_labels}), "
            f"got {nx} columns"
        )
    _check_non_negative(
        tilt_range=tilt_range, beam_jitter=beam_jitter, descan_shift=descan_shift
    )
    _check_positive(thickness=thickness, scan_step=scan_step)
    geometry, noise = seed_sequences(random_state, 2)
    rng = np.random.default_rng(geometry)
    n_pos = ny * nx

    stripes = np.arange(nx) * n_labels // nx
    labels = np.broadcast_to(stripes, (ny, nx)).ravel()
    in_plane = [rng.uniform(0, _in_plane_period(uvw)) for uvw in zone_axes]
    phase = kin.fcc_phase(element, lattice_parameter)
    label_matrix = np.stack(
        [kin.zone_axis_matrix(phase, uvw, a) for uvw, a in zip(zone_axes, in_plane)]
    )
    tilts = rng.uniform(-tilt_range, tilt_range, size=(n_pos, 2))
    shifts = _beam_shifts(rng, (ny, nx), descan_shift, beam_jitter)
    orientation = kin.tilt_matrices(tilts[:, 0], tilts[:, 1]) @ label_matrix[labels]

    optics = _Optics(
        detector, k_max, accelerating_voltage, disk_radius, spot_sigma, dose, poisson
    )
    width = 1.0 / (10.0 * thickness)
    scene = _scene(
        optics,
        phase,
        label_matrix,
        width,
        orientation=orientation,
        secondary_orientation=orientation,
        secondary_weight=np.zeros(n_pos),
        crystal_weight=np.ones(n_pos),
        rocking_width=np.full(n_pos, width),
        thickness_scale=np.ones(n_pos),
        shifts=shifts,
        noise=noise,
    )
    info = tuple(
        LabelInfo(
            "[" + "".join(str(i) for i in uvw) + "]",
            element,
            uvw,
            tuple(kin.euler_angles(m).tolist()),
        )
        for uvw, m in zip(zone_axes, label_matrix)
    )
    truth = GroundTruth(
        labels=labels.reshape(ny, nx).copy(),
        label_info=info,
        tilts=tilts.reshape(ny, nx, 2),
        euler=kin.euler_angles(orientation).reshape(ny, nx, 3),
        beam_shifts=shifts.reshape(ny, nx, 2),
        thickness=np.full((ny, nx), float(thickness)),
        boundary_weight=np.zeros((ny, nx)),
        neighbour_labels=labels.reshape(ny, nx).copy(),
        scan_step=float(scan_step),
    )
    title = f"Simulated {element} zone-axis tilt series (±{tilt_range:g}°)"
    return _signal(scene, optics, (ny, nx), scan_step, lazy, title, element), truth


# ---------------------------------------------------------------- shared steps


class _Optics:
    """Detector and beam settings shared by both datasets."""

    def __init__(
        self,
        detector,
        k_max,
        accelerating_voltage,
        disk_radius,
        spot_sigma,
        dose,
        poisson,
    ):
        _check_positive(
            k_max=k_max,
            accelerating_voltage=accelerating_voltage,
            disk_radius=disk_radius,
            spot_sigma=spot_sigma,
            dose=dose,
        )
        self.detector = int(detector)
        self.centre = self.detector // 2
        self.k_scale = float(k_max) / self.centre
        self.voltage = float(accelerating_voltage)
        self.wavelength = kin.wavelength(self.voltage)
        self.disk_radius = float(disk_radius)
        self.spot_sigma = float(spot_sigma)
        self.dose = float(dose)
        self.poisson = bool(poisson)

    @property
    def g_max(self) -> float:
        """Largest |g| (1/Å) that can reach the detector, corners and spot tails included."""
        return (np.sqrt(2) * self.centre + 3 * self.spot_sigma + 1) * self.k_scale


def _scene(
    optics,
    phase,
    reference_matrices,
    reference_width,
    *,
    orientation,
    secondary_orientation,
    secondary_weight,
    crystal_weight,
    rocking_width,
    thickness_scale,
    shifts,
    noise,
) -> Scene:
    """Put per-position physics together, scaling Bragg intensities so that the
    untilted reference orientations scatter ``BRAGG_FRACTION`` of the dose on average."""
    refl = kin.reflections(phase, optics.g_max)
    _, reference = kin.spots(
        reference_matrices, refl, optics.wavelength, reference_width
    )
    scale = BRAGG_FRACTION / reference.sum(axis=1).mean()
    return Scene(
        detector=optics.detector,
        k_scale=optics.k_scale,
        wavelength=optics.wavelength,
        reflections=refl,
        orientation=orientation,
        secondary_orientation=secondary_orientation,
        secondary_weight=np.asarray(secondary_weight, dtype=float),
        crystal_weight=np.asarray(crystal_weight, dtype=float),
        rocking_width=np.asarray(rocking_width, dtype=float),
        bragg_scale=scale * np.asarray(thickness_scale, dtype=float),
        centre=optics.centre + shifts,
        dose=optics.dose,
        poisson=optics.poisson,
        disk_radius=optics.disk_radius,
        spot_sigma=optics.spot_sigma,
        background_fraction=BACKGROUND_FRACTION,
        amorphous_scattering=AMORPHOUS_SCATTERING,
        noise_entropy=noise.entropy,
        noise_key=tuple(noise.spawn_key),
    )


def _signal(scene, optics, nav_shape, scan_step, lazy, title, element):
    """Render and wrap as a calibrated ManifoldDiffraction2D."""
    # Convergence semi-angle (mrad) that makes the direct beam this many pixels wide.
    alpha = optics.disk_radius * optics.k_scale * optics.wavelength * 1e3
    return calibrated_scan(
        render(scene, nav_shape, lazy),
        scan_step,
        optics.k_scale,
        optics.centre,
        title,
        beam_energy=optics.voltage,
        convergence_angle=alpha,
        elements=[element],
    )


def calibrated_scan(
    data, scan_step, k_scale, centre, title, *, beam_energy, convergence_angle, elements
):
    """Wrap ``(ny, nx, d, d)`` counts (numpy or dask) as a calibrated
    ManifoldDiffraction2D (or its lazy twin): scan axes x, y in nm, detector axes
    kx, ky in 1/Å with zero on pixel ``centre`` (pyxem's convention: centre pixel
    = -offset / scale)."""
    import dask.array as da
    import hyperspy.api as hs

    ny, nx, d = data.shape[0], data.shape[1], data.shape[-1]
    nav = [
        {"name": name, "units": "nm", "scale": float(scan_step), "size": n}
        for name, n in (("y", ny), ("x", nx))
    ]
    sig = [
        {
            "name": name,
            "units": "1/Å",
            "scale": k_scale,
            "offset": -centre * k_scale,
            "size": d,
        }
        for name in ("ky", "kx")
    ]
    s = hs.signals.Signal2D(data, axes=nav + sig)
    if isinstance(data, da.Array):
        s = s.as_lazy()
    s.set_signal_type("manifold")
    s.metadata.General.title = title
    s.metadata.Signal.quantity = "Intensity (counts)"
    s.metadata.set_item("Acquisition_instrument.TEM.beam_energy", beam_energy)
    s.metadata.set_item(
        "Acquisition_instrument.TEM.convergence_angle", convergence_angle
    )
    s.metadata.set_item("Sample.elements", list(elements))
    return s


def _smooth_field(rng, shape, length) -> np.ndarray:
    """A smooth random field with unit standard deviation, correlated over ``length``
    scan pixels; flattened."""
    field = gaussian_filter(rng.standard_normal(shape), max(length, 0.5), mode="wrap")
    field -= field.mean()
    std = field.std()
    return (field / std if std > 0 else field).ravel()


def _amorphous_region(rng, shape, n_amorphous) -> np.ndarray:
    """A compact, irregular blob of exactly ``n_amorphous`` positions (flattened mask)."""
    mask = np.zeros(shape[0] * shape[1], dtype=bool)
    if n_amorphous == 0:
        return mask
    yy, xx = (a.ravel() for a in np.mgrid[: shape[0], : shape[1]])
    cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
    radius = np.sqrt(n_amorphous / np.pi)
    distance = np.hypot(yy - cy, xx - cx)
    distance += 0.3 * radius * _smooth_field(rng, shape, radius / 2)
    mask[np.argsort(distance, kind="stable")[:n_amorphous]] = True
    return mask


def _spread_seeds(rng, candidates, n, yy, xx) -> np.ndarray:
    """Mitchell's best-candidate sampling: grain centres that are well spread out."""
    chosen = [rng.choice(candidates)]
    free = np.setdiff1d(candidates, chosen)
    for _ in range(n - 1):
        trial = rng.choice(free, size=min(10, free.size), replace=False)
        dy = yy[trial][:, None] - yy[chosen][None, :]
        dx = xx[trial][:, None] - xx[chosen][None, :]
        best = trial[np.argmax((dy**2 + dx**2).min(axis=1))]
        chosen.append(best)
        free = free[free != best]
    return np.asarray(chosen)


def _in_plane_period(uvw) -> float:
    """Rotation about the beam (degrees) that maps the kinematic zone-axis pattern of
    a cubic crystal onto itself."""
    key = tuple(sorted(abs(int(i)) for i in uvw))
    return {(0, 0, 1): 90.0, (1, 1, 1): 60.0}.get(key, 180.0)


def _spread_in_plane(rng, axes_of_grains) -> list[float]:
    """Rotations about the beam, spread evenly over the symmetry period among grains
    that share a zone axis."""
    angles = [0.0] * len(axes_of_grains)
    for uvw in set(axes_of_grains):
        members = [i for i, a in enumerate(axes_of_grains) if a == uvw]
        period = _in_plane_period(uvw)
        step = period / len(members)
        start = rng.uniform(0, period)
        jitter = rng.uniform(-0.15, 0.15, size=len(members)) * step
        for j, i in enumerate(members):
            angles[i] = float((start + j * step + jitter[j]) % period)
    return angles


def _beam_shifts(rng, shape, descan_shift, beam_jitter) -> np.ndarray:
    """Pattern-centre shifts (x, y) in pixels: a linear descan ramp in a random
    direction plus Gaussian jitter; shape ``(n_positions, 2)``."""
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx]
    fy = yy.ravel() / max(ny - 1, 1) - 0.5
    fx = xx.ravel() / max(nx - 1, 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(angle), np.sin(angle)
    ramp = descan_shift * np.stack([c * fx - s * fy, s * fx + c * fy], axis=1)
    return ramp + beam_jitter * rng.standard_normal((ny * nx, 2))


def _check_shape(shape) -> tuple[int, int]:
    try:
        ny, nx = (int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"`shape` must be two positive integers, got {shape!r}"
        ) from None
    if ny < 1 or nx < 1:
        raise ValueError(f"`shape` must be two positive integers, got {shape!r}")
    return ny, nx


def _check_detector(detector) -> None:
    if int(detector) != detector or detector < 16:
        raise ValueError(
            f"`detector` must be an integer of at least 16, got {detector}"
        )


def _check_fraction(value) -> float:
    if not 0 <= value < 1:
        raise ValueError(f"`amorphous_fraction` must be in [0, 1), got {value}")
    return float(value)


def _check_zone_axes(zone_axes) -> tuple[tuple[int, int, int], ...]:
    out = []
    for uvw in zone_axes:
        t = tuple(int(i) for i in uvw)
        if len(t) != 3 or t == (0, 0, 0):
            raise ValueError(
                f"`zone_axes` must hold non-zero [u, v, w] triples, got {uvw!r}"
            )
        out.append(t)
    if not out:
        raise ValueError("`zone_axes` must hold at least one [u, v, w] triple")
    return tuple(out)


def _check_non_negative(**values) -> None:
    for name, v in values.items():
        if not v >= 0:
            raise ValueError(f"`{name}` must be zero or positive, got {v}")


def _check_positive(**values) -> None:
    for name, v in values.items():
        if not v > 0:
            raise ValueError(f"`{name}` must be positive, got {v}")
