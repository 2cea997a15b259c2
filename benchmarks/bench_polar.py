"""Throughput of the polar features against pyxem, measured in the same process.

For a lazy scan of synthetic float32 patterns (rings of spots at random
rotations plus noise), compare

* ``get_radial_variance`` (1-pixel radial bins, 360 azimuthal bins) with pyxem's
  ``get_azimuthal_integral2d(npt=<same radial bins>, npt_azim=360, mean=True)``
  followed by the variance over azimuth;
* ``get_angular_average`` (three given rings, 5-degree sectors) with the same
  pyxem transform over the rings, averaged over 1-pixel x 5-degree blocks.

Both run through dask's default scheduler on the same data; the operator/slice
construction is part of each timing.  Prints patterns/s, the speed-up (target
>= 10x) and how well the values agree.

Run: ``python benchmarks/bench_polar.py [--quick] [--sizes 128 256]``.
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import hyperspy.api as hs
import numpy as np

import hyperspy_manifold as hm


def synthetic_chunk(n, size, rng):
    """``n`` patterns: a central disk, a ring of 6 spots at a random rotation, noise."""
    c = (size - 1) / 2
    y, x = np.mgrid[:size, :size].astype(np.float32) - c
    r_spots = 0.3 * size
    sigma = size / 64
    out = np.exp(-(x**2 + y**2) / (2 * (size / 32) ** 2))[None].repeat(n, 0)
    rotation = rng.uniform(0, 60, n)
    for k in range(6):
        a = np.radians(rotation + 60 * k)[:, None, None]
        sx, sy = r_spots * np.cos(a), -r_spots * np.sin(a)
        out += 0.5 * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * sigma**2))
    out += 0.02 * rng.random(out.shape)
    return out.astype(np.float32)


def lazy_scan(nav, size, chunk=16, seed=0):
    """A lazy (nav x nav) scan built from one in-memory chunk of ``chunk x chunk``
    patterns, repeated, so data generation costs nothing in the timings."""
    rng = np.random.default_rng(seed)
    block = synthetic_chunk(chunk * chunk, size, rng).reshape(chunk, chunk, size, size)
    tile = da.from_array(block, chunks=(chunk, chunk, size, size))
    n = nav // chunk
    row = da.concatenate([tile] * n, axis=1)
    data = da.concatenate([row] * n, axis=0)
    s = hs.signals.Signal2D(data).as_lazy()
    s.set_signal_type("electron_diffraction")
    s.calibration.center = ((size - 1) / 2, (size - 1) / 2)
    return s


def timed(func):
    t = time.perf_counter()
    out = func()
    return out, time.perf_counter() - t


def pyxem_polar(s, npt, radial_range):
    polar = s.get_azimuthal_integral2d(
        npt=npt,
        npt_azim=360,
        radial_range=radial_range,
        mean=True,
        inplace=False,
        show_progressbar=False,
    )
    return polar.data  # (..., npt, 360), azimuth from -180 degrees


def agreement(ours, theirs):
    ours, theirs = (
        ours.reshape(-1, ours.shape[-1]),
        theirs.reshape(-1, theirs.shape[-1]),
    )
    corr = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(ours, theirs)])
    rel = np.median(np.abs(ours - theirs) / (np.abs(theirs).max(axis=1, keepdims=True)))
    return corr, rel


def bench(nav, size, warmup):
    s = lazy_scan(nav, size)
    n = nav * nav
    n_radial = int(np.floor((size - 1) / 2))
    rings = np.array([0.15, 0.25, 0.35, 0.45]) * size  # pixels, contiguous rings
    rings = np.round(rings)
    n_ring_bins = int(rings[-1] - rings[0])
    if warmup:  # numba compilation and imports, not part of any timing
        small = lazy_scan(16, 32, chunk=16)
        pyxem_polar(small, 8, (0, 8)).compute()
        hm.get_radial_variance(small, show_progressbar=False).data.compute()

    kwargs = dict(show_progressbar=False, lazy_output=True)
    rv, t_rv = timed(
        lambda: hm.get_radial_variance(
            s, radial_range=(0, n_radial), **kwargs
        ).data.compute()
    )
    aa, t_aa = timed(
        lambda: hm.get_angular_average(
            s, rings=list(rings), angle_step=5, in_pixels=True, **kwargs
        ).data.compute()
    )
    px_rv, t_px_rv = timed(
        lambda: pyxem_polar(s, n_radial, (0, n_radial)).var(axis=-1).compute()
    )

    def pyxem_sectors():
        polar = pyxem_polar(s, n_ring_bins, (rings[0], rings[-1]))
        polar = da.roll(polar, -180, axis=-1)  # sectors from 0 degrees
        blocks = []
        for r0, r1 in zip(rings[:-1], rings[1:]):
            ring = polar[..., int(r0 - rings[0]) : int(r1 - rings[0]), :]
            blocks.append(ring.mean(axis=-2).reshape(nav, nav, 72, 5).mean(axis=-1))
        return da.concatenate(blocks, axis=-1).compute()

    px_aa, t_px_aa = timed(pyxem_sectors)
    rv_corr, rv_rel = agreement(rv, px_rv)
    aa_corr, aa_rel = agreement(aa, px_aa)
    print(f"\n{nav}x{nav} scan of {size}x{size} float32 patterns ({n} patterns)")
    print(f"  radial variance: {n_radial} radii x 360 azimuths")
    print(
        f"    ours {n / t_rv:9.1f} patterns/s   pyxem {n / t_px_rv:8.1f} patterns/s   "
        f"ratio {t_px_rv / t_rv:6.1f}x   agreement: mean corr {rv_corr:.4f}, "
        f"median |diff|/max {rv_rel:.3g}"
    )
    print(f"  angular average: {len(rings) - 1} rings x 72 sectors (5 degrees)")
    print(
        f"    ours {n / t_aa:9.1f} patterns/s   pyxem {n / t_px_aa:8.1f} patterns/s   "
        f"ratio {t_px_aa / t_aa:6.1f}x   agreement: mean corr {aa_corr:.4f}, "
        f"median |diff|/max {aa_rel:.3g}"
    )
    return t_px_rv / t_rv, t_px_aa / t_aa


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="16x16 scan instead of 64x64"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    args = parser.parse_args()
    nav = 16 if args.quick else 64
    ratios = []
    for i, size in enumerate(args.sizes):
        ratios.extend(bench(nav, size, warmup=i == 0))
    print(f"\nsmallest speed-up {min(ratios):.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
