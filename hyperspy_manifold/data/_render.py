"""Render 4D-STEM patterns from per-position physics, a block of scan positions at a time.

A :class:`Scene` holds, for every scan position, what the pattern is made of:
the crystal orientation (and, at a grain boundary, the neighbouring grain's
orientation and share), the relrod width (1 / thickness), the beam centre, and
whether the position is crystalline or amorphous. :func:`render_block` turns a
contiguous range of positions into expected electron counts and draws Poisson
noise with a seed tied to the block, so the eager and the lazy (dask) signal
contain the same numbers.

Each pattern, as a fraction of the dose, is

- Bragg spots: |F|² · L(s) from :mod:`._kinematic`, drawn as 2D Gaussians
  (separable, so a block is two batched matrix products);
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
    d = scene.detector
    sigma = scene.spot_sigma
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
    bragg_total = intensity.sum(axis=1)

    px = centre[:, None, 0] + xy[..., 0] / scene.k_scale
    py = centre[:, None, 1] + xy[..., 1] / scene.k_scale
    lo, hi = -3 * sigma, d - 1 + 3 * sigma
    # Spots worth less than a thousandth of an electron are not drawn.
    visible = intensity * scene.dose > 1e-3
    visible &= (px > lo) & (px < hi) & (py > lo) & (py < hi)
    n_spots = max(int(visible.sum(axis=1).max()), 1)
    order = np.argsort(~visible, axis=1, kind="stable")[:, :n_spots]
    px = np.take_along_axis(px, order, axis=1)
    py = np.take_along_axis(py, order, axis=1)
    amp = np.take_along_axis(np.where(visible, intensity, 0.0), order, axis=1)
    amp /= 2 * np.pi * sigma**2

    grid = np.arange(d, dtype=float)
    gx = np.exp(-0.5 * ((grid[None, None, :] - px[..., None]) / sigma) ** 2)
    gy = np.exp(-0.5 * ((grid[None, None, :] - py[..., None]) / sigma) ** 2)
    out = np.matmul(np.swapaxes(gy * amp[..., None], 1, 2), gx)

    disk_sum, background_sum, rings_sum = _normalisers(scene)
    dx = grid[None, None, :] - centre[:, 0, None, None]
    dy = grid[None, :, None] - centre[:, 1, None, None]
    r = np.sqrt(dx**2 + dy**2)
    background, rings = _radial_profile(r * scene.k_scale)
    amorphous = scene.amorphous_scattering * (1.0 - scene.crystal_weight[sl])
    direct = 1.0 - bragg_total - scene.background_fraction - amorphous
    direct = np.maximum(direct, MIN_DIRECT_FRACTION)
    out += direct[:, None, None] / disk_sum * _disk(r, scene.disk_radius)
    out += scene.background_fraction / background_sum * background
    out += (amorphous / rings_sum)[:, None, None] * rings
    return out * scene.dose


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
