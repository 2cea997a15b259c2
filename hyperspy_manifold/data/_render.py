"""Render 4D-STEM patterns from per-position physics, a block of scan positions at a time.

A :class:`Scene` holds, for every scan position, what the pattern is made of:
the crystal orientation (and, at a grain boundary, the neighbouring grain's
orientation and share), the relrod width (1 / thickness), the beam centre, and
whether the position is crystalline or amorphous. :func:`render_block` turns a
contiguous range of positions into expected electron counts and draws Poisson
noise with a seed tied to the block, so the eager and the lazy (dask) signal
contain the same numbers.

Each pattern, as a fraction of the dose, is

- Bragg spots: |F|² · L(s) from :mod:`._kinematic`, drawn as 2D Gaussians, each
  on its own small patch, summed with one ``bincount`` per block;
- a diffuse background exp(−k / k_bg) (thermal diffuse and inelastic scattering);
- for amorphous material, broad rings at k₁ (1, 1.75, 2.65) like a metallic glass;
- the direct beam: a soft-edged disk holding whatever the rest did not take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_manifold.data._kinematic import Reflections, spots

# Decay of the diffuse background, 1/Å.
BACKGROUND_DECAY = 0.3
# Amorphous rings: positions (1/Å), Gaussian widths (1/Å) and relative weights.
AMORPHOUS_RINGS = (
    (0.40, 0.70, 1.06),
    (0.045, 0.07, 0.10),
    (1.0, 0.45, 0.2),
)
# Keep at least this share of the dose in the direct beam.
MIN_DIRECT_FRACTION = 0.05
# Spots holding less than this share of the dose (the far tails of the rocking
# curve: hundreds of spots, together < 0.1 % of the dose) are not drawn.
MIN_SPOT_FRACTION = 1e-5
# Elements (of float64) per intermediate array of one block: ~8 MB.
_BLOCK_ELEMENTS = 2**20


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything needed to render any scan position (flattened index ``p``)."""

    detector: int
    k_scale: float  # 1/Å per pixel
    wavelength: float  # Å
    reflections: Reflections
    orientation: np.ndarray  # (p, 3, 3) laboratory-from-crystal
    secondary_orientation: np.ndarray  # (p, 3, 3) neighbouring grain
    secondary_weight: np.ndarray  # (p,) share of the neighbouring grain
    crystal_weight: np.ndarray  # (p,) 1 crystalline, 0 amorphous
    rocking_width: np.ndarray  # (p,) 1/Å
    bragg_scale: np.ndarray  # (p,) |F|² L(s) -> fraction of the dose
    centre: np.ndarray  # (p, 2) beam centre (x, y) in pixels
    dose: float  # electrons per pattern
    poisson: bool
    disk_radius: float  # pixels
    spot_sigma: float  # pixels
    background_fraction: float
    amorphous_scattering: float
    noise_entropy: int
    noise_key: tuple

    @property
    def size(self) -> int:
        return self.centre.shape[0]


def block_rows(nav_shape: tuple[int, int], detector: int) -> int:
    """Scan rows per block (and per dask chunk): blocks of about 8 MB."""
    per_row = nav_shape[1] * detector * detector
    return int(min(nav_shape[0], max(1, _BLOCK_ELEMENTS // per_row)))


def _radial_profile(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    background = np.exp(-k / BACKGROUND_DECAY)
    rings = np.zeros_like(k)
    for k0, width, weight in zip(*AMORPHOUS_RINGS):
        rings += weight * np.exp(-0.5 * ((k - k0) / width) ** 2)
    return background, rings


def _disk(r: np.ndarray, radius: float) -> np.ndarray:
    # A half-pixel soft edge keeps sub-pixel centre shifts visible.
    return 0.5 * (1.0 - np.tanh((r - radius) / 0.5))


def _normalisers(scene: Scene) -> tuple[float, float, float]:
    """Sums of the disk and the two radial profiles for a centred pattern."""
    d = scene.detector
    c = d // 2
    y, x = np.mgrid[:d, :d]
    r = np.hypot(x - c, y - c)
    background, rings = _radial_profile(r * scene.k_scale)
    return _disk(r, scene.disk_radius).sum(), background.sum(), rings.sum()


def expected_counts(scene: Scene, start: int, stop: int) -> np.ndarray:
    """Noise-free patterns of positions ``start:stop``, shape ``(n, d, d)``."""
    sl = slice(start, stop)
    n = scene.orientation[sl].shape[0]
    centre = scene.centre[sl]
    crystal = scene.crystal_weight[sl] * scene.bragg_scale[sl]
    share2 = scene.secondary_weight[sl]
    width = scene.rocking_width[sl]

    xy1, i1 = spots(scene.orientation[sl], scene.reflections, scene.wavelength, width)
    xy2, i2 = spots(
        scene.secondary_orientation[sl], scene.reflections, scene.wavelength, width
    )
    xy = np.concatenate([xy1, xy2], axis=1)
    intensity = np.concatenate(
        [i1 * (crystal * (1.0 - share2))[:, None], i2 * (crystal * share2)[:, None]],
        axis=1,
    )
    px = centre[:, None, 0] + xy[..., 0] / scene.k_scale
    py = centre[:, None, 1] + xy[..., 1] / scene.k_scale
    out = _draw_spots(scene, px, py, intensity)

    amorphous = scene.amorphous_scattering * (1.0 - scene.crystal_weight[sl])
    direct = 1.0 - intensity.sum(axis=1) - scene.background_fraction - amorphous
    direct = np.maximum(direct, MIN_DIRECT_FRACTION)
    out += _draw_radial(scene, centre, direct, amorphous)
    return out.reshape(n, scene.detector, scene.detector) * scene.dose


def _draw_spots(scene: Scene, px, py, intensity) -> np.ndarray:
    """Gaussian spots (integral = intensity) at pixel positions ``(n, m)``, summed
    into flat patterns ``(n, d * d)``; each spot touches only a ±4σ patch."""
    n, d, sigma = px.shape[0], scene.detector, scene.spot_sigma
    half = int(np.ceil(4 * sigma))
    visible = intensity > MIN_SPOT_FRACTION
    visible &= (px > -half) & (px < d - 1 + half) & (py > -half) & (py < d - 1 + half)
    pattern, _ = np.nonzero(visible)
    px, py, amp = px[visible], py[visible], intensity[visible]

    offsets = np.arange(-half, half + 1)
    ix = np.floor(px).astype(np.intp)[:, None] + offsets
    iy = np.floor(py).astype(np.intp)[:, None] + offsets
    wx = np.exp(-0.5 * ((ix - px[:, None]) / sigma) ** 2) * ((ix >= 0) & (ix < d))
    wy = np.exp(-0.5 * ((iy - py[:, None]) / sigma) ** 2) * ((iy >= 0) & (iy < d))
    wy *= (amp / (2 * np.pi * sigma**2))[:, None]
    ix, iy = np.clip(ix, 0, d - 1), np.clip(iy, 0, d - 1)
    index = (pattern[:, None, None] * d + iy[:, :, None]) * d + ix[:, None, :]
    weight = wy[:, :, None] * wx[:, None, :]
    return np.bincount(index.ravel(), weight.ravel(), minlength=n * d * d).reshape(
        n, d * d
    )


def _draw_radial(scene: Scene, centre, direct, amorphous) -> np.ndarray:
    """Direct-beam disk, background and amorphous rings about each pattern's centre,
    flat ``(n, d * d)``: one radial table per pattern, linearly interpolated."""
    d = scene.detector
    disk_sum, background_sum, rings_sum = _normalisers(scene)
    grid = np.arange(d, dtype=float)
    dx = grid[None, None, :] - centre[:, 0, None, None]
    dy = grid[None, :, None] - centre[:, 1, None, None]
    r = np.sqrt(dx**2 + dy**2).reshape(len(centre), d * d)

    step = 0.05  # pixels; fine enough for the half-pixel soft edge of the disk
    radii = np.arange(0.0, r.max() + 2 * step, step)
    background, rings = _radial_profile(radii * scene.k_scale)
    table = (
        (direct / disk_sum)[:, None] * _disk(radii, scene.disk_radius)
        + scene.background_fraction / background_sum * background
        + (amorphous / rings_sum)[:, None] * rings
    )
    position = r / step
    below = position.astype(np.intp)
    frac = position - below
    return (
        np.take_along_axis(table, below, axis=1) * (1 - frac)
        + np.take_along_axis(table, below + 1, axis=1) * frac
    )


def render_block(scene: Scene, start: int, stop: int, block_index: int) -> np.ndarray:
    """Patterns of positions ``start:stop`` as float32 counts, shape ``(n, d, d)``."""
    counts = expected_counts(scene, start, stop)
    if scene.poisson:
        seed = np.random.SeedSequence(
            scene.noise_entropy, spawn_key=(*scene.noise_key, block_index)
        )
        counts = np.random.default_rng(seed).poisson(counts)
    return counts.astype(np.float32)


def render(scene: Scene, nav_shape: tuple[int, int], lazy: bool):
    """All patterns as a ``nav_shape + (d, d)`` numpy array, or a dask array
    chunked over scan rows when ``lazy``."""
    ny, nx = nav_shape
    d = scene.detector
    rows = block_rows(nav_shape, d)
    starts = list(range(0, ny, rows))
    if not lazy:
        out = np.empty((ny, nx, d, d), dtype=np.float32)
        for i, r0 in enumerate(starts):
            r1 = min(r0 + rows, ny)
            block = render_block(scene, r0 * nx, r1 * nx, i)
            out[r0:r1] = block.reshape(r1 - r0, nx, d, d)
        return out

    import dask.array as da

    row_chunks = tuple(min(rows, ny - r0) for r0 in starts)
    return da.map_blocks(
        _render_chunk,
        chunks=(row_chunks, (nx,), (d,), (d,)),
        dtype=np.float32,
        meta=np.empty((0, 0, 0, 0), dtype=np.float32),
        scene=scene,
        rows=rows,
        nx=nx,
    )


def _render_chunk(scene: Scene, rows: int, nx: int, block_id=None) -> np.ndarray:
    i = block_id[0]
    r0 = i * rows
    block = render_block(scene, r0 * nx, (r0 + rows) * nx, i)
    n_rows = block.shape[0] // nx
    return block.reshape(n_rows, nx, scene.detector, scene.detector)
