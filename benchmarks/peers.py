"""This package's per-pattern transforms against the peers', on the same scan in
one process.

One scan (``--nav`` x ``--nav`` float32 patterns of ``--det`` x ``--det`` pixels,
a central disk and a ring of six spots at random rotations, from
``bench_polar.lazy_scan``; in memory, so reading costs nothing) is given to

* **radial variance** (variance over azimuth at every 1-pixel radius):
  ``get_radial_variance`` | pyxem ``get_azimuthal_integral2d`` (360 azimuths)
  then the variance over azimuth | py4DSTEM ``PolarDatacube`` +
  ``calculate_radial_statistics`` (its per-pattern ``radial_all_std``) |
  LiberTEM ``FEMUDF`` (the standard deviation in **one** ring per pattern, less
  work than a whole profile);
* **angular average** (mean in 5-degree sectors of three rings):
  ``get_angular_average`` | pyxem ``get_azimuthal_integral2d`` averaged over the
  sectors | LiberTEM ``ApplyMasksUDF`` with one mask per ring sector;
* **cepstrum** (EWPC): ``get_cepstrum`` | the FFT floor
  (``|FFT(log(1 + x))|**2`` of the same chunks with numpy); no peer computes
  the exit-wave power cepstrum.

Every contender runs once untimed on a small scan first (imports, numba
compilation), then on the scan; the table gives patterns/s and the ratio of
ours to each peer (> 1: ours faster).  A peer that is not installed is skipped
with the reason printed: LiberTEM and py4DSTEM are in the ``bench`` extra
(``pip install ".[bench]"``), never in the core install (py4DSTEM pins an
older numpy: use a separate venv).

Run: ``python benchmarks/peers.py [--nav 64] [--det 128]``.
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
from _common import report
from bench_polar import lazy_scan, pyxem_polar

import hyperspy_manifold as hm

RINGS_FRACTION = (0.15, 0.25, 0.35, 0.45)  # ring edges, as a share of the detector
SECTOR = 5  # degrees


def best_time(func, repeat=2):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def in_memory(s) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(s.data.compute(), dtype=np.float32))


# ----------------------------------------------------------------- contenders


def ours_radial_variance(s, n_radial):
    return hm.get_radial_variance(
        s, radial_range=(0, n_radial), show_progressbar=False, lazy_output=True
    ).data.compute()


def pyxem_radial_variance(s, n_radial):
    return pyxem_polar(s, n_radial, (0, n_radial)).var(axis=-1).compute()


def ours_angular_average(s, rings):
    return hm.get_angular_average(
        s,
        rings=list(rings),
        angle_step=SECTOR,
        in_pixels=True,
        show_progressbar=False,
        lazy_output=True,
    ).data.compute()


def pyxem_angular_average(s, rings):
    nav = s.data.shape[:2]
    polar = pyxem_polar(s, int(rings[-1] - rings[0]), (rings[0], rings[-1]))
    polar = da.roll(polar, -180, axis=-1)
    blocks = []
    for r0, r1 in zip(rings[:-1], rings[1:]):
        ring = polar[..., int(r0 - rings[0]) : int(r1 - rings[0]), :]
        blocks.append(
            ring.mean(axis=-2).reshape(*nav, 360 // SECTOR, SECTOR).mean(axis=-1)
        )
    return da.concatenate(blocks, axis=-1).compute()


def ours_cepstrum(s):
    return hm.get_cepstrum(s, show_progressbar=False, lazy_output=True).data.compute()


def fft_floor(s):
    def kernel(block):
        return np.abs(np.fft.fft2(np.log1p(np.clip(block, 0, None)))) ** 2

    return s.data.map_blocks(kernel, dtype=np.float32).compute()


def py4dstem_radial_std(data, n_radial):
    import py4DSTEM
    from py4DSTEM.process.polar import PolarDatacube

    cube = py4DSTEM.DataCube(data=data)
    c = (data.shape[-1] - 1) / 2
    origin = np.full(data.shape[:2], c)
    cube.calibration.set_origin((origin, origin))  # per position, as it reads it
    cube.calibration.set_qx0_mean(c)
    cube.calibration.set_qy0_mean(c)
    polar = PolarDatacube(
        cube, qmin=0, qmax=n_radial, qstep=1, n_annular=360, ellipse=False
    )
    polar.calculate_radial_statistics(progress_bar=False)
    return polar.radial_all_std


def _libertem_context():
    from libertem.api import Context

    return Context.make_with("threads", cpus=2)


def libertem_fem_one_ring(ctx, data, rings):
    from libertem.udf.FEM import FEMUDF

    c = (data.shape[-1] - 1) / 2
    ds = ctx.load("memory", data=data, sig_dims=2)
    udf = FEMUDF(center=(c, c), rad_in=rings[0], rad_out=rings[1])
    return ctx.run_udf(dataset=ds, udf=udf)["intensity"].data


def sector_masks(det, rings):
    c = (det - 1) / 2
    y, x = np.mgrid[:det, :det] - c
    r = np.hypot(x, y)
    angle = np.degrees(np.arctan2(-y, x)) % 360
    masks = []
    for r0, r1 in zip(rings[:-1], rings[1:]):
        for a0 in range(0, 360, SECTOR):
            m = (r >= r0) & (r < r1) & (angle >= a0) & (angle < a0 + SECTOR)
            masks.append((m / max(m.sum(), 1)).astype(np.float32))
    return masks


def libertem_angular_average(ctx, data, masks):
    from libertem.udf.masks import ApplyMasksUDF

    ds = ctx.load("memory", data=data, sig_dims=2)
    udf = ApplyMasksUDF(
        mask_factories=[(lambda m=m: m) for m in masks], mask_count=len(masks)
    )
    return ctx.run_udf(dataset=ds, udf=udf)["intensity"].data


# ---------------------------------------------------------------------- main


def peer_available(name):
    try:
        __import__(name)
    except ImportError as error:
        print(f"  skipped {name}: not installed ({error}); pip install '.[bench]'")
        return False
    return True


def run(nav, det):
    n = nav * nav
    n_radial = int(np.floor((det - 1) / 2))
    rings = np.round(np.array(RINGS_FRACTION) * det)
    s = lazy_scan(nav, det)
    small = lazy_scan(16, det, chunk=16)
    data, small_data = in_memory(s), in_memory(small)
    have_py4dstem = peer_available("py4DSTEM")
    have_libertem = peer_available("libertem")
    ctx = _libertem_context() if have_libertem else None
    masks = sector_masks(det, rings) if have_libertem else None

    tasks = {
        "radial variance": {
            "ours": lambda x, d: ours_radial_variance(x, n_radial),
            "pyxem": lambda x, d: pyxem_radial_variance(x, n_radial),
        },
        "angular average": {
            "ours": lambda x, d: ours_angular_average(x, rings),
            "pyxem": lambda x, d: pyxem_angular_average(x, rings),
        },
        "cepstrum": {
            "ours": lambda x, d: ours_cepstrum(x),
            "FFT floor (numpy)": lambda x, d: fft_floor(x),
        },
    }
    if have_py4dstem:
        tasks["radial variance"]["py4DSTEM"] = lambda x, d: py4dstem_radial_std(
            d, n_radial
        )
    if have_libertem:
        tasks["radial variance"]["LiberTEM FEM (1 ring)"] = lambda x, d: (
            libertem_fem_one_ring(ctx, d, rings)
        )
        tasks["angular average"]["LiberTEM masks"] = lambda x, d: (
            libertem_angular_average(ctx, d, masks)
        )
    rows = []
    for task, contenders in tasks.items():
        seconds = {}
        for name, func in contenders.items():
            func(small, small_data)  # warm-up: imports, compilation
            seconds[name] = best_time(lambda f=func: f(s, data))
        for name, t in seconds.items():
            rows.append(
                {
                    "transform": task,
                    "contender": name,
                    "patterns_per_s": n / t,
                    "ours_speedup": (t / seconds["ours"]) if name != "ours" else 1.0,
                }
            )
    if ctx is not None:
        ctx.close()
    print(f"\n{nav} x {nav} scan of {det} x {det} float32 patterns, 2 threads")
    report(f"peers_{nav}_{det}", rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, default=64)
    parser.add_argument("--det", type=int, default=128)
    args = parser.parse_args()
    run(args.nav, args.det)


if __name__ == "__main__":
    main()
