"""Labelled 4D-STEM scans made independently of ``hyperspy_manifold.data``.

This generator exists so that the accuracy benchmark does not only score the
package on data rendered by the package's own simulation code. It shares no code
with ``hyperspy_manifold.data``: spot lists come straight from diffsims
(``SimulationGenerator.calculate_diffraction2d`` with orix rotations and
diffpy.structure crystals), and everything after that is done here.

Scene
    Regions laid out as anisotropic Voronoi cells (relaxed seeds), wavy
    stripes or blobs in a matrix, optionally with an amorphous patch (a
    thresholded smooth random field). Each crystalline region gets a phase
    (fcc Al/Cu/Au, bcc Fe, diamond Si) and an orientation: close to a low-index
    zone axis with a random rotation about the beam, or a random 3D orientation
    picked among random candidates for having enough visible spots. Regions are
    redrawn until their spot patterns differ (cosine similarity of blurred spot
    maps below ``max_similarity``), so every label is separable in principle.

Per scan position
    - a smooth bending field tilts the crystal; every reflection's intensity
      follows a Lorentzian rocking curve of its excitation error, shifted by the
      tilt;
    - a "dynamical" multiplicative lognormal factor per reflection and position;
    - a smooth thickness field scales the scattered share (thickness squared);
    - a diffuse background with Kikuchi-like bands: for the strongest low-order
      reflections of the region, a band perpendicular to g of width |g|, with
      bright edges, moving with the local tilt (shift = tilt / wavelength);
    - amorphous positions: no spots, two broad rings;
    - a probe-shaped disk (soft-edged) for every spot and the direct beam,
      applied by FFT convolution of a sub-pixel (bilinear) splat;
    - beam shifts: a linear descan ramp across the scan plus Gaussian jitter;
    - Poisson counting at the given dose (electrons per pattern), then a fixed
      per-pixel detector gain map.

Truth is the region label of every scan position (0..K-1, the amorphous region
last when present).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import gaussian_filter

# CODATA values: Planck constant, electron mass, elementary charge, speed of light.
_PLANCK = 6.62607015e-34
_ME = 9.1093837015e-31
_QE = 1.602176634e-19
_C = 299792458.0

#: name -> (lattice type, lattice parameter in Å, space group number)
CRYSTALS = {
    "Al": ("fcc", 4.0495, 225),
    "Cu": ("fcc", 3.6149, 225),
    "Au": ("fcc", 4.0782, 225),
    "Fe": ("bcc", 2.8665, 229),
    "Si": ("diamond", 5.4310, 227),
}
_FCC = ((0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5))
_BASIS = {
    "fcc": _FCC,
    "bcc": ((0, 0, 0), (0.5, 0.5, 0.5)),
    "diamond": _FCC + tuple((x + 0.25, y + 0.25, z + 0.25) for x, y, z in _FCC),
}
#: Zone axes used by ``orientations="zone"``, cycled in a random order.
ZONES = ((0, 0, 1), (0, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 2), (1, 2, 3))
LAYOUTS = ("voronoi", "stripes", "blobs")


def electron_wavelength(kv: float) -> float:
    """Relativistic electron wavelength in Å at ``kv`` kilovolts."""
    e_v = _QE * kv * 1e3
    return _PLANCK / np.sqrt(2 * _ME * e_v * (1 + e_v / (2 * _ME * _C**2))) * 1e10


def crystal_phase(name: str):
    """An orix ``Phase`` of one of :data:`CRYSTALS`, built with diffpy.structure."""
    from diffpy.structure import Atom, Lattice, Structure
    from orix.crystal_map import Phase

    kind, a, space_group = CRYSTALS[name]
    lattice = Lattice(a, a, a, 90, 90, 90)
    atoms = [Atom(atype=name, xyz=list(xyz), lattice=lattice) for xyz in _BASIS[kind]]
    structure = Structure(atoms=atoms, lattice=lattice)
    return Phase(name=name, structure=structure, space_group=space_group)


# ------------------------------------------------------------------ orientations


def _zone_rotation(uvw, spin, tilt, azimuth):
    """Rotation putting crystal direction [uvw] along the beam, then spinning the
    pattern by ``spin`` degrees and tilting it ``tilt`` degrees about an in-plane
    laboratory axis at ``azimuth`` degrees. With diffsims' convention the factor on
    the right acts last, in the laboratory frame (checked: the zone law
    h u + k v + l w = 0 holds for every spin, and a tilt about lab x moves the
    spots' z by y sin(tilt))."""
    from orix.quaternion import Rotation
    from orix.vector import Vector3d

    v = np.asarray(uvw, dtype=float)
    to_beam = ~Rotation.from_align_vectors(
        Vector3d([0, 0, 1]), Vector3d(v / np.linalg.norm(v))
    )
    about_beam = Rotation.from_axes_angles([0, 0, 1], spin, degrees=True)
    a = np.deg2rad(azimuth)
    off_axis = Rotation.from_axes_angles([np.cos(a), np.sin(a), 0], tilt, degrees=True)
    return to_beam * about_beam * off_axis


def _random_rotations(rng, n):
    """``n`` uniformly distributed rotations (normalised Gaussian quaternions)."""
    from orix.quaternion import Rotation

    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return Rotation(q)


class _Spots:
    """Reflections of one orientation: in-plane g (1/Å), excitation error, intensity."""

    def __init__(self, vectors, wavelength, g_max, rel_min=1e-3):
        data = np.asarray(vectors.data, dtype=float).reshape(-1, 3)
        inten = np.asarray(vectors.intensity, dtype=float).reshape(-1)
        g = np.hypot(data[:, 0], data[:, 1])
        keep = (g > 1e-6) & (g < g_max)
        if keep.any():
            keep &= inten >= rel_min * inten[keep].max()
        self.xy = data[keep, :2]
        self.g = g[keep]
        # Distance of the rotated reciprocal-lattice point from the Ewald sphere.
        self.s0 = 0.5 * wavelength * self.g**2 - data[keep, 2]
        self.intensity = inten[keep]

    def __len__(self):
        return int(self.intensity.size)

    def fingerprint(self, k_max, bins=24):
        """Blurred, unit-norm map of where the spots are (sqrt intensity weights)."""
        h, _, _ = np.histogram2d(
            self.xy[:, 1],
            self.xy[:, 0],
            bins=bins,
            range=[[-k_max, k_max], [-k_max, k_max]],
            weights=np.sqrt(self.intensity),
        )
        h = gaussian_filter(h, 1.0)
        n = np.linalg.norm(h)
        return h.ravel() / n if n > 0 else h.ravel()


def _pick_orientations(
    rng, gen, phases, n, mode, mistilt, k_max, excitation, max_similarity, wavelength
):
    """Phase name, rotation and spot list of ``n`` crystalline regions whose spot
    patterns are pairwise dissimilar."""
    g_max = np.sqrt(2) * k_max * 1.05
    chosen = []
    prints = []
    zones = [ZONES[i] for i in rng.permutation(len(ZONES))]
    for i in range(n):
        name = phases[i % len(phases)]
        phase = crystal_phase(name)
        best = None
        for attempt in range(60):
            if mode == "zone":
                uvw = zones[(i + attempt // 10) % len(zones)]
                rot = _zone_rotation(
                    uvw,
                    rng.uniform(0, 360),
                    mistilt * np.sqrt(rng.uniform()),
                    rng.uniform(0, 360),
                )
                sim = gen.calculate_diffraction2d(
                    phase=phase,
                    rotation=rot,
                    reciprocal_radius=g_max,
                    max_excitation_error=excitation,
                    with_direct_beam=False,
                )
                candidates = [(_Spots(sim.coordinates, wavelength, g_max), rot, uvw)]
            else:
                rots = _random_rotations(rng, 24)
                sim = gen.calculate_diffraction2d(
                    phase=phase,
                    rotation=rots,
                    reciprocal_radius=g_max,
                    max_excitation_error=excitation,
                    with_direct_beam=False,
                )
                spots = [
                    _Spots(sim.irot[j].coordinates, wavelength, g_max)
                    for j in range(rots.size)
                ]
                # Brightest candidates first: many strong spots, close to a zone.
                order = np.argsort([-s.intensity.sum() for s in spots], kind="stable")[
                    :6
                ]
                candidates = [(spots[j], rots[j], None) for j in order]
            for spots, rot, uvw in candidates:
                if len(spots) < 3:
                    continue
                fp = spots.fingerprint(k_max)
                sim_max = max((float(fp @ p) for p in prints), default=0.0)
                if best is None or sim_max < best[0]:
                    best = (sim_max, name, rot, spots, uvw, fp)
            if best is not None and best[0] < max_similarity:
                break
        if best is None:
            raise RuntimeError(f"no orientation of {name} shows three spots")
        _, name, rot, spots, uvw, fp = best
        prints.append(fp)
        chosen.append(
            {
                "phase": name,
                "zone_axis": uvw,
                "euler": np.rad2deg(rot.to_euler()).ravel().round(3).tolist(),
                "spots": spots,
                "similarity": best[0],
            }
        )
    return chosen


# ------------------------------------------------------------------ layouts


def _smooth(rng, shape, length):
    """Smooth random field of unit standard deviation, correlation ~ ``length``."""
    f = rng.standard_normal(shape)
    f = gaussian_filter(
        f, [max(min(length, n / 2), 0.5) if n > 1 else 0 for n in shape], mode="reflect"
    )
    f -= f.mean()
    sd = f.std()
    return f / sd if sd > 0 else f


def _voronoi(rng, shape, n):
    """Anisotropic Voronoi cells of ``n`` seeds relaxed by two Lloyd steps."""
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    seeds = np.c_[
        rng.uniform(0, ny, n) if ny > 1 else np.zeros(n), rng.uniform(0, nx, n)
    ]
    angle = rng.uniform(0, np.pi)
    aspect = rng.uniform(1.0, 1.8)
    c, s = np.cos(angle), np.sin(angle)

    def assign(seeds):
        dy = yy[..., None] - seeds[:, 0]
        dx = xx[..., None] - seeds[:, 1]
        u = c * dx + s * dy
        v = (-s * dx + c * dy) * aspect
        return np.argmin(u**2 + v**2, axis=-1)

    for _ in range(2):
        lab = assign(seeds)
        for k in range(n):
            m = lab == k
            if m.any():
                seeds[k] = yy[m].mean(), xx[m].mean()
    return assign(seeds)


def _stripes(rng, shape, n):
    """``n`` wavy stripes at a random angle with random widths."""
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    angle = rng.uniform(0, np.pi) if ny > 1 else 0.0
    u = np.cos(angle) * xx + np.sin(angle) * yy
    u += 0.05 * np.ptp(u) * _smooth(rng, shape, max(ny, nx) / 4)
    widths = rng.dirichlet(np.full(n, 4.0))
    edges = np.quantile(u, np.cumsum(widths)[:-1])
    return np.searchsorted(edges, u.ravel()).reshape(shape)


def _blobs(rng, shape, n):
    """A matrix (label 0) holding ``n - 1`` irregular blobs."""
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    lab = np.zeros(shape, dtype=int)
    area = ny * nx * 0.55 / max(n - 1, 1)
    for k in range(1, n):
        cy = rng.uniform(0, ny) if ny > 1 else 0.0
        cx = rng.uniform(0, nx)
        r0 = np.sqrt(area / np.pi) if ny > 1 else area / 2
        theta = np.arctan2(yy - cy, xx - cx)
        phases = rng.uniform(0, 2 * np.pi, 3)
        amps = rng.uniform(0, 0.25, 3)
        radius = r0 * (
            1
            + sum(
                a * np.cos((j + 2) * theta + p)
                for j, (a, p) in enumerate(zip(amps, phases))
            )
        )
        lab[np.hypot(yy - cy, xx - cx) < radius] = k
    return lab


def _amorphous(rng, shape, fraction):
    """Mask of about ``fraction`` of the scan: a compact thresholded smooth field."""
    ny, nx = shape
    if fraction <= 0:
        return np.zeros(shape, dtype=bool)
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    cy = rng.uniform(0.2, 0.8) * (ny - 1)
    cx = rng.uniform(0.2, 0.8) * nx
    size = np.sqrt(fraction * ny * nx) if ny > 1 else fraction * nx
    bump = -np.hypot(yy - cy, xx - cx) / size
    field = bump + 0.35 * _smooth(rng, shape, size / 3)
    return field >= np.quantile(field, 1 - fraction)


def layout(rng, shape, kind, n_regions, amorphous_fraction=0.0, min_size=None):
    """Region labels ``(ny, nx)``: crystalline regions 0..K-1 then the amorphous
    one, every label present with at least ``min_size`` positions (redrawn up to
    50 times, then empty labels are dropped and the rest relabelled)."""
    make = {"voronoi": _voronoi, "stripes": _stripes, "blobs": _blobs}[kind]
    n_pos = shape[0] * shape[1]
    if min_size is None:
        min_size = max(6, int(0.004 * n_pos))
    for _ in range(50):
        lab = make(rng, shape, n_regions)
        amorph = _amorphous(rng, shape, amorphous_fraction)
        lab = np.where(amorph, n_regions, lab)
        counts = np.bincount(lab.ravel(), minlength=n_regions + amorph.any())
        if counts.min() >= min_size:
            break
    present = np.flatnonzero(np.bincount(lab.ravel()))
    return np.searchsorted(present, lab), amorph.any()


# ------------------------------------------------------------------ rendering


def _probe_kernel_ft(size, radius):
    """FFT of a soft-edged disk of ``radius`` pixels centred on pixel (0, 0)."""
    f = np.fft.fftfreq(size) * size
    r = np.hypot(f[:, None], f[None, :])
    disk = 0.5 * (1 - np.tanh((r - max(radius, 0.7)) / 0.5))
    disk /= disk.sum()
    return sfft.rfft2(disk.astype(np.float32))


def _bands(spots, rng, n_bands, k_limit):
    """Kikuchi band table (normal x, normal y, half width, amplitude, offset) from
    the strongest low-order reflections of one orientation."""
    rows = []
    order = np.argsort(-spots.intensity / (1 + spots.g), kind="stable")
    for j in order:
        if spots.g[j] > k_limit:
            continue
        n = spots.xy[j] / spots.g[j]
        if any(abs(n @ r[:2]) > 0.97 for r in rows):
            continue  # same band as one already listed (g and -g, or 2g)
        rows.append(
            [n[0], n[1], 0.5 * spots.g[j], rng.uniform(0.5, 1.0), rng.normal(0, 0.02)]
        )
        if len(rows) == n_bands:
            break
    while len(rows) < n_bands:
        rows.append([1.0, 0.0, 0.1, 0.0, 0.0])
    return np.asarray(rows)


def simulate(
    shape=(32, 32),
    detector=128,
    layout_kind="voronoi",
    n_regions=5,
    phases=("Al",),
    orientations="zone",
    amorphous_fraction=0.0,
    dose=3000.0,
    k_max=1.5,
    probe_radius=0.05,
    bragg_fraction=0.25,
    background_fraction=0.12,
    amorphous_scattering=0.35,
    kikuchi=0.5,
    n_bands=3,
    dynamic_sigma=0.35,
    bend=0.15,
    mistilt=1.0,
    thickness_variation=0.2,
    excitation=0.025,
    descan=1.0,
    jitter=0.3,
    gain_spread=0.05,
    scan_step=2.0,
    accelerating_voltage=200.0,
    max_similarity=0.6,
    seed=0,
):
    """Render one labelled scan; returns ``(signal, labels, info)``.

    ``shape`` is the scan (ny, nx); ``ny == 1`` gives a line scan with one
    navigation axis. ``detector`` pixels span ``±k_max`` 1/Å. ``bend`` and
    ``mistilt`` are in degrees (standard deviation of the smooth tilt field, and
    largest tilt of a region off its zone axis); ``probe_radius`` and
    ``excitation`` (rocking-curve half width) in 1/Å; ``descan`` and ``jitter`` in
    detector pixels; fractions are shares of the dose.
    """
    import hyperspy.api as hs
    from diffsims.generators.simulation_generator import SimulationGenerator

    rng = np.random.default_rng(seed)
    ny, nx = (int(v) for v in shape)
    n_pos = ny * nx
    d = int(detector)
    scale = float(k_max) / (d // 2)
    wavelength = electron_wavelength(accelerating_voltage)
    labels, has_amorphous = layout(
        rng, (ny, nx), layout_kind, int(n_regions), amorphous_fraction
    )
    lab = labels.ravel()
    n_cryst = int(lab.max()) + 1 - int(has_amorphous)

    gen = SimulationGenerator(accelerating_voltage=accelerating_voltage)
    regions = _pick_orientations(
        rng,
        gen,
        tuple(phases),
        n_cryst,
        orientations,
        mistilt,
        k_max,
        excitation,
        max_similarity,
        wavelength,
    )
    mean_sum = np.mean([r["spots"].intensity.sum() for r in regions])
    band_table = np.zeros((n_cryst + 1, n_bands, 5))
    band_table[:, :, 0] = 1.0
    for i, r in enumerate(regions):
        band_table[i] = _bands(r["spots"], rng, n_bands, 0.6 * k_max)

    # Scene fields over the scan (flattened).
    corr = max(3.0, np.sqrt(n_pos / max(n_cryst, 1)) / 2)
    tilt = np.deg2rad(bend) * np.stack(
        [_smooth(rng, (ny, nx), corr).ravel() for _ in range(2)], axis=1
    )
    thick = np.clip(
        1 + thickness_variation * _smooth(rng, (ny, nx), 2 * corr).ravel(), 0.3, None
    )
    fy = (np.arange(ny) / max(ny - 1, 1) - 0.5)[:, None] * np.ones(nx)
    fx = np.ones(ny)[:, None] * (np.arange(nx) / max(nx - 1, 1) - 0.5)
    ramp = rng.standard_normal((2, 2))
    ramp *= descan / np.linalg.norm(ramp, axis=1, keepdims=True)
    shift = np.stack([fx.ravel(), fy.ravel()], axis=1) @ ramp.T
    shift += jitter * rng.standard_normal((n_pos, 2))
    gain = np.clip(1 + gain_spread * rng.standard_normal((d, d)), 0.5, 1.5).astype(
        np.float32
    )
    ring_k = np.array([rng.uniform(0.38, 0.46), rng.uniform(0.72, 0.85)])
    ring_w = np.array([rng.uniform(0.05, 0.08), rng.uniform(0.08, 0.12)])
    ring_a = np.array([1.0, rng.uniform(0.3, 0.6)])
    ring_k, ring_w, ring_a = (v.astype(np.float32) for v in (ring_k, ring_w, ring_a))

    pad = int(np.ceil(probe_radius / scale)) + 3
    dp = d + 2 * pad
    kernel = _probe_kernel_ft(dp, probe_radius / scale)
    centre = d // 2  # pixel of zero scattering vector (x and y)
    pix = ((np.arange(d) - centre) * scale).astype(np.float32)
    shift32 = (shift * scale).astype(np.float32)
    tilt32 = (tilt / wavelength).astype(np.float32)
    band_table = band_table.astype(np.float32)
    block = max(8, int(2**21 // (d * d)))
    out = np.empty((n_pos, d, d), dtype=np.float32)

    for start in range(0, n_pos, block):
        stop = min(start + block, n_pos)
        idx = np.arange(start, stop)
        b = idx.size
        flat_i, flat_w = [], []
        bragg_total = np.zeros(b)
        for r, region in enumerate(regions):
            sel = np.flatnonzero(lab[idx] == r)
            if sel.size == 0:
                continue
            sp = region["spots"]
            p = idx[sel]
            ds = tilt[p, 1:2] * sp.xy[None, :, 0] - tilt[p, 0:1] * sp.xy[None, :, 1]
            w2 = excitation**2
            rock = (w2 + sp.s0**2) / (w2 + (sp.s0 + ds) ** 2)
            dyn = np.exp(
                dynamic_sigma * rng.standard_normal(rock.shape) - dynamic_sigma**2 / 2
            )
            inten = sp.intensity / mean_sum * np.minimum(rock, 20.0) * dyn
            inten *= (bragg_fraction * thick[p] ** 2)[:, None]
            total = inten.sum(axis=1)
            cap = np.minimum(1.0, 0.8 / np.maximum(total, 1e-12))
            inten *= cap[:, None]
            bragg_total[sel] = total * cap
            x = centre + pad + shift[p, 0:1] + sp.xy[None, :, 0] / scale
            y = centre + pad + shift[p, 1:2] + sp.xy[None, :, 1] / scale
            _splat(flat_i, flat_w, sel, x, y, inten, dp)
        amorph = lab[idx] >= n_cryst
        direct = 1 - bragg_total - background_fraction - amorphous_scattering * amorph
        x = centre + pad + shift[idx, 0:1]
        y = centre + pad + shift[idx, 1:2]
        _splat(flat_i, flat_w, np.arange(b), x, y, direct[:, None], dp)
        stack = np.bincount(
            np.concatenate(flat_i), np.concatenate(flat_w), minlength=b * dp * dp
        ).reshape(b, dp, dp)
        stack = sfft.irfft2(sfft.rfft2(stack.astype(np.float32)) * kernel, s=(dp, dp))
        expected = stack[:, pad : pad + d, pad : pad + d]

        # Diffuse background with Kikuchi bands, and amorphous rings.
        kx = pix[None, None, :] - shift32[idx, 0][:, None, None]
        ky = pix[None, :, None] - shift32[idx, 1][:, None, None]
        k = np.hypot(kx, ky)
        envelope = np.float32(1) / (1 + (k / np.float32(0.3)) ** 2) ** 1.5
        bands = band_table[np.minimum(lab[idx], n_cryst)]  # (b, n_bands, 5)
        offset = bands[:, :, 4] + (
            tilt32[idx, 1:2] * bands[:, :, 0] - tilt32[idx, 0:1] * bands[:, :, 1]
        )
        extra = np.zeros_like(k)
        for j in range(n_bands):
            nxj = bands[:, j, 0][:, None, None]
            nyj = bands[:, j, 1][:, None, None]
            half = bands[:, j, 2][:, None, None]
            amp = bands[:, j, 3][:, None, None]
            dist = np.abs(kx * nxj + ky * nyj - offset[:, j][:, None, None])
            edge = np.float32(0.015)
            inside = 0.5 * (1 + np.tanh((half - dist) / edge))
            lines = np.exp(-(((dist - half) / edge) ** 2))
            extra += amp * (inside + 0.6 * lines)
        background = envelope * (1 + kikuchi * extra)
        background *= (background_fraction / background.sum(axis=(1, 2)))[
            :, None, None
        ].astype(np.float32)
        expected += background
        if amorph.any():
            rings = sum(
                a * np.exp(-((k[amorph] - kr) ** 2) / (2 * w**2))
                for a, kr, w in zip(ring_a, ring_k, ring_w)
            )
            rings *= (amorphous_scattering / rings.sum(axis=(1, 2)))[:, None, None]
            expected[amorph] += rings
        expected = np.clip(expected, 0, None) * dose
        out[start:stop] = rng.poisson(expected).astype(np.float32) * gain

    nav = [{"name": "x", "units": "nm", "scale": float(scan_step), "size": nx}]
    if ny > 1:
        nav.insert(
            0, {"name": "y", "units": "nm", "scale": float(scan_step), "size": ny}
        )
    sig = [
        {
            "name": name,
            "units": "1/Å",
            "scale": scale,
            "offset": -centre * scale,
            "size": d,
        }
        for name in ("ky", "kx")
    ]
    data = out.reshape((ny, nx, d, d) if ny > 1 else (nx, d, d))
    s = hs.signals.Signal2D(data, axes=nav + sig)
    s.metadata.General.title = (
        f"Independent simulation ({layout_kind}, {'/'.join(phases)})"
    )
    s.metadata.Signal.quantity = "Intensity (counts)"
    s.metadata.set_item(
        "Acquisition_instrument.TEM.beam_energy", float(accelerating_voltage)
    )
    info = {
        "labels": [
            {
                "phase": r["phase"],
                "zone_axis": r["zone_axis"],
                "euler": r["euler"],
                "n_spots": len(r["spots"]),
                "max_similarity": round(r["similarity"], 3),
            }
            for r in regions
        ]
        + ([{"phase": "amorphous"}] if has_amorphous else []),
    }
    truth = labels.reshape(ny, nx) if ny > 1 else labels.reshape(nx)
    return s, truth.astype(np.int64), info


def _splat(flat_i, flat_w, rows, x, y, weight, dp):
    """Bilinear splat of points (x, y) with ``weight`` (rows x points) into the
    flattened ``(len(block), dp, dp)`` stack; points off the padded frame are dropped."""
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    base = rows.astype(np.int64)[:, None] * dp * dp
    weight = np.broadcast_to(weight, x.shape)
    for oy, ox, w in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        yy = y0 + oy
        xx = x0 + ox
        ok = (yy >= 0) & (yy < dp) & (xx >= 0) & (xx < dp)
        flat_i.append((base + yy * dp + xx)[ok])
        flat_w.append((weight * w)[ok])
