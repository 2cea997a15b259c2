"""Lattice-vector, spacing and strain maps from the cepstrum (Padgett et al. 2020).

Cepstral peaks away from zero quefrency are real-space lattice vectors.  Reference
vectors (the brightest non-parallel peaks of the mean cepstrum of the scan or of a
reference area, or given) are tracked in every cepstrum and refined to sub-pixel
precision by :mod:`hyperspy_manifold.kernels.lattice`, chunk by chunk with dask.
Strain follows from the deformation gradient D = G G_ref^-1 in infinitesimal
theory.  For careful fits of single patterns, :func:`fit_lattice_peaks` fits the
registered :class:`~hyperspy_manifold.components.cepstral_peak2d.CepstralPeak2D`
component with a HyperSpy ``Model2D``.
"""

from __future__ import annotations

import numbers

import dask.array as da
import numpy as np

from hyperspy_manifold._axes import detector_shape, navigation_shape
from hyperspy_manifold._checks import check_int, check_pattern_signal
from hyperspy_manifold._chunks import compute, map_patterns, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import make_signal
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.kernels.lattice import (
    deformation_gradient,
    disk_offsets,
    infinitesimal_strain,
    quadratic_fit_operator,
    strongest_peaks,
    track_lattice_vectors,
)

#: Order of the maps returned by :func:`get_strain_maps`.
STRAIN_COMPONENTS = ("exx", "eyy", "exy", "theta")

#: Defaults (pixels) of the peak search, used when a radius is None.
DEFAULT_INNER_PX = 3.0
DEFAULT_SEARCH_PX = 3.0


def _quefrency_geometry(c):
    """Zero-quefrency pixel ``(row, col)``, scales ``(sx, sy)`` and units."""
    ax_x, ax_y = c.axes_manager.signal_axes
    ky, kx = detector_shape(c)
    zero = (
        int(round(-ax_y.offset / ax_y.scale)),
        int(round(-ax_x.offset / ax_x.scale)),
    )
    if not (0 <= zero[0] < ky and 0 <= zero[1] < kx):
        raise ValueError(
            "Zero quefrency lies outside the cepstrum (signal-axis offsets "
            f"{ax_x.offset:g}, {ax_y.offset:g}); `c` must come from `get_cepstrum`."
        )
    units = ax_x.units if isinstance(ax_x.units, str) else ""
    return zero, (float(ax_x.scale), float(ax_y.scale)), units


def _check_radius(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0 or None, got {value!r}.")
    return float(value)


def _navigation_weights(s, area, name: str):
    """Normalised weights of the positions where the boolean ``area`` is True."""
    area = np.asarray(_unwrap(area))
    nav = navigation_shape(s)
    if area.shape != nav:
        raise ValueError(
            f"`{name}` as a reference area must be a boolean array of the navigation "
            f"shape {nav} (True = reference positions), got shape {area.shape}."
        )
    area = area.astype(bool)
    if not area.any():
        raise ValueError(f"`{name}` selects no scan position.")
    return area / area.sum()


def _unwrap(value):
    """The data of a signal, anything else unchanged."""
    from hyperspy.signal import BaseSignal

    return value.data if isinstance(value, BaseSignal) else value


def _is_area(reference) -> bool:
    """A boolean array is a reference area; numbers are reference vectors."""
    return np.asarray(_unwrap(reference)).dtype == bool


def _mean_pattern(s, area, show_progressbar):
    data = pattern_stack(s)
    nav_ndim = data.ndim - 2
    if nav_ndim == 0:
        return np.asarray(compute(data, show_progressbar), dtype=float)
    if area is None:
        mean = data.mean(axis=tuple(range(nav_ndim)), dtype=np.float64)
    else:
        weights = _navigation_weights(s, area, "reference")
        mean = da.tensordot(weights, data, axes=nav_ndim)
    return np.asarray(compute(mean, show_progressbar), dtype=float)


@one_progress_bar("Lattice vectors")
@fill_docstring
def get_lattice_vectors(
    c,
    n_peaks: int = 2,
    inner: float | None = None,
    outer: float | None = None,
    search_radius: float | None = None,
    reference=None,
    window: int = 3,
    min_angle: float = 10.0,
    in_pixels: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Sub-pixel lattice vectors of every cepstrum, tracked across the scan.

    Reference vectors are the ``n_peaks`` brightest local maxima of the mean
    cepstrum (of the scan, or of a reference area) in the annulus ``inner <= |r|
    <= outer`` of the half plane ``qy > 0`` (one of each +/- pair), no two within
    ``min_angle`` of parallel.  In every cepstrum the brightest pixel within
    ``search_radius`` of each reference vector is refined by a least-squares fit
    of a quadratic to the log-cepstrum in a ``window`` x ``window`` stencil (a 2D
    Gaussian fit), so the same lattice vector keeps the same label everywhere.

    Parameters
    ----------
    c : Cepstrum2D
        From :func:`~hyperspy_manifold.get_cepstrum`.
    n_peaks : int
        Number of lattice vectors (2 for strain in the plane).
    inner, outer : float, optional
        Radii of the annulus searched for reference peaks, in the calibrated
        units of ``c`` (pixels with ``in_pixels=True``).  Defaults: 3 pixels (drops
        the zero-quefrency peak) and the edge of the cepstrum.
    search_radius : float, optional
        Radius around each reference vector searched in every cepstrum (default
        3 pixels): larger than the largest local displacement of a peak, smaller
        than the distance between peaks.
    reference : numpy.ndarray, optional
        None (mean cepstrum of the scan), a boolean navigation-shaped array (True =
        reference area whose mean cepstrum gives the reference) or ``(n_peaks, 2)``
        reference vectors ``(x, y)`` in calibrated units (pixels with
        ``in_pixels=True``).
    window : int
        Odd stencil of the sub-pixel fit (3: the core of the peak).
    min_angle : float
        Minimum angle in degrees between reference vectors: skips harmonics
        (2a, 3a) of vectors already chosen.
    in_pixels : bool
        Give ``inner``, ``outer``, ``search_radius`` and ``reference`` in pixels.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    hyperspy.signals.Signal2D
        Signal shape ``(2, n_peaks)``: for every vector ``(x, y)`` in the units
        of ``c`` (Å when calibrated).  The reference vectors and parameters are in
        ``metadata.HyperspyManifold.lattice_vectors``.  Use
        :func:`get_lattice_spacings` and :func:`get_strain_maps` on it.
    """
    check_pattern_signal(c, "get_lattice_vectors", require_navigation=False)
    n_peaks = check_int("n_peaks", n_peaks, 1)
    quadratic_fit_operator(window)  # validates `window`
    inner = _check_radius("inner", inner)
    outer = _check_radius("outer", outer)
    search_radius = _check_radius("search_radius", search_radius)
    if inner is not None and outer is not None and outer <= inner:
        raise ValueError(f"`outer` ({outer}) must be larger than `inner` ({inner}).")
    zero, (sx, sy), units = _quefrency_geometry(c)
    ky, kx = detector_shape(c)
    px_x, px_y = (1.0, 1.0) if in_pixels else (sx, sy)

    if search_radius is None:
        search = disk_offsets(DEFAULT_SEARCH_PX, DEFAULT_SEARCH_PX)
    else:
        search = disk_offsets(search_radius / px_y, search_radius / px_x)

    given = None
    area = None
    if reference is not None:
        if _is_area(reference):
            area = reference
        else:
            given = np.asarray(reference, dtype=float)
            if given.ndim != 2 or given.shape[1] != 2:
                raise ValueError(
                    "`reference` must be None, a boolean navigation-shaped array or "
                    f"an (n_peaks, 2) array of (x, y) vectors; got shape {given.shape}."
                )
            if given.shape[0] != n_peaks:
                raise ValueError(
                    f"`reference` holds {given.shape[0]} vectors but `n_peaks` is "
                    f"{n_peaks}."
                )
    if given is not None:
        ref_px = given / np.array([px_x, px_y])
        col, row = zero[1] + ref_px[:, 0], zero[0] + ref_px[:, 1]
        inside = (col >= 0) & (col <= kx - 1) & (row >= 0) & (row <= ky - 1)
        if not inside.all():
            raise ValueError(
                f"`reference` vectors {given[~inside].tolist()} lie outside the "
                f"cepstrum ({kx} x {ky} pixels about zero quefrency): give them in "
                "the units of the cepstrum axes, or in pixels with `in_pixels=True`."
            )
    else:
        mean = _mean_pattern(c, area, show_progressbar)
        iy, ix = np.mgrid[:ky, :kx]
        dy, dx = iy - zero[0], ix - zero[1]
        r_px = np.hypot(dy, dx)
        r = np.hypot(dy * px_y, dx * px_x)
        region = (dy > 0) | ((dy == 0) & (dx > 0))
        region &= (r_px >= DEFAULT_INNER_PX) if inner is None else (r >= inner)
        if outer is not None:
            region &= r <= outer
        edge = window // 2
        region[:edge] = region[ky - edge :] = False
        region[:, :edge] = region[:, kx - edge :] = False
        ref_px = strongest_peaks(mean, region, zero, n_peaks, min_angle, window)
        if len(ref_px) < n_peaks:
            raise ValueError(
                f"The mean cepstrum has only {len(ref_px)} peak(s) no closer than "
                f"{min_angle} degrees to parallel in the search annulus, "
                f"`n_peaks` is {n_peaks}: widen `inner`/`outer`, lower `n_peaks` or "
                "give `reference` vectors."
            )
    kernel_kwargs = dict(
        reference=ref_px, zero=zero, search=search, window=window, scale=(sx, sy)
    )
    data = map_patterns(
        c, track_lattice_vectors, (n_peaks, 2), np.float64, kernel_kwargs
    )
    axes = [
        _index_axis("vector", n_peaks),
        _index_axis("xy", 2),
    ]
    parameters = {
        "_node": "lattice_vectors",
        "n_peaks": int(n_peaks),
        "inner": inner if inner is not None else "3 px",
        "outer": outer if outer is not None else "edge",
        "search_radius": search_radius if search_radius is not None else "3 px",
        "in_pixels": bool(in_pixels),
        "window": int(window),
        "min_angle": float(min_angle),
        "reference": (ref_px * np.array([sx, sy])).tolist(),
        "reference_source": "given"
        if given is not None
        else ("reference area" if area is not None else "mean cepstrum"),
        "units": units,
        "columns": ["x", "y"],
    }
    return make_signal(
        c,
        data,
        axes,
        "",
        "Lattice vectors",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )


def _index_axis(name: str, size: int) -> dict:
    return {
        "name": name,
        "size": int(size),
        "scale": 1.0,
        "offset": 0.0,
        "units": "",
        "navigate": False,
    }


def _check_vectors(vectors, func_name: str):
    from hyperspy.signal import BaseSignal

    if (
        not isinstance(vectors, BaseSignal)
        or vectors.data.ndim < 2
        or vectors.data.shape[-1] != 2
        or vectors.axes_manager.signal_dimension != 2
    ):
        raise ValueError(
            f"`{func_name}` needs the lattice vectors from `get_lattice_vectors` "
            "(a signal of signal shape (2, n_peaks)), got "
            + (
                f"signal shape {vectors.axes_manager.signal_shape}."
                if isinstance(vectors, BaseSignal)
                else f"{type(vectors).__name__}."
            )
        )


def _stack_of_maps(vectors, data, name, labels, title, parameters):
    """``data`` (navigation shape + (n,)) as a stack of n navigation-shaped maps."""
    out = make_signal(
        vectors,
        data,
        [_index_axis(name, len(labels))],
        "",
        title,
        parameters,
        lazy_output=vectors._lazy,
    )
    return out.T if out.axes_manager.navigation_dimension else out


def get_lattice_spacings(lattice_vectors):
    """Spacing ``|r|`` of every lattice vector: a stack of navigation-shaped maps.

    Parameters
    ----------
    lattice_vectors : hyperspy.signals.Signal2D
        From :func:`get_lattice_vectors`.

    Returns
    -------
    hyperspy.signal.BaseSignal
        Navigation axis ``vector`` (one map per lattice vector), signal axes the
        scan axes; values in the units of the cepstrum (Å when calibrated).
    """
    _check_vectors(lattice_vectors, "get_lattice_spacings")
    v = lattice_vectors.data
    spacing = (v[..., 0] ** 2 + v[..., 1] ** 2) ** 0.5
    labels = [f"|r{i}|" for i in range(v.shape[-2])]
    return _stack_of_maps(
        lattice_vectors,
        spacing,
        "vector",
        labels,
        "Lattice spacings",
        {"_node": "lattice_spacings", "maps": labels},
    )


def _strain_block(block, reference):
    return infinitesimal_strain(deformation_gradient(block, reference))


def get_strain_maps(lattice_vectors, reference=None):
    """Infinitesimal strain and rotation maps from lattice-vector maps.

    With the lattice vectors of a position as the columns of G and the reference
    ones as the columns of G_ref, D = G G_ref^-1 (least squares for more than two
    vectors), the strain is eps = (D + D^T) / 2 - I and the rotation
    theta = (D_yx - D_xy) / 2.  Cepstral peaks are real-space vectors, so a
    lattice stretched by 1 % along x gives exx = 0.01.

    Parameters
    ----------
    lattice_vectors : hyperspy.signals.Signal2D
        From :func:`get_lattice_vectors`.
    reference : numpy.ndarray, optional
        None (mean vectors of the scan), a boolean navigation-shaped array (True =
        reference area, e.g. unstrained substrate) or ``(n_peaks, 2)`` reference
        vectors ``(x, y)`` in the units of ``lattice_vectors``.  With lazy
        vectors, None or an area computes them once for the reference: compute
        them first (``v.compute()``) to avoid doing it twice.

    Returns
    -------
    hyperspy.signal.BaseSignal
        Navigation axis of 4 maps in the order of :data:`STRAIN_COMPONENTS`:
        ``exx``, ``eyy``, ``exy`` (dimensionless) and ``theta`` (radians, positive
        from +x towards +y of the cepstrum axes); signal axes the scan axes with
        their calibration.  Eager or lazy like ``lattice_vectors``.
    """
    _check_vectors(lattice_vectors, "get_strain_maps")
    v = lattice_vectors.data
    n_peaks = v.shape[-2]
    nav_ndim = v.ndim - 2
    if reference is None or _is_area(reference):
        if nav_ndim == 0:
            raise ValueError("A single pattern needs explicit `reference` vectors.")
        # numpy functions dispatch to dask for lazy vectors: one pass computes them
        if reference is None:
            ref = np.nanmean(v.reshape((-1, n_peaks, 2)), axis=0)
            source = "scan mean"
        else:
            weights = _navigation_weights(lattice_vectors, reference, "reference")
            ref = np.tensordot(weights, v, axes=nav_ndim)
            source = "reference area"
        ref = np.asarray(compute(ref) if isinstance(ref, da.Array) else ref)
    else:
        ref = np.asarray(reference, dtype=float)
        if ref.shape != (n_peaks, 2):
            raise ValueError(
                f"`reference` vectors must have shape ({n_peaks}, 2) (x, y per lattice "
                f"vector), got {ref.shape}."
            )
        source = "given"
    gram = ref.T @ ref
    norm = float(np.sum(ref**2))
    if not np.isfinite(gram).all() or abs(np.linalg.det(gram)) <= 1e-10 * norm**2:
        raise ValueError(
            "The reference lattice vectors are parallel (or NaN) and do not span the "
            f"plane: {ref.tolist()}. Use at least two non-parallel vectors."
        )
    if isinstance(v, da.Array):
        v = v.rechunk({v.ndim - 2: -1, v.ndim - 1: -1})
        strain = da.map_blocks(
            _strain_block,
            v,
            reference=ref,
            dtype=np.float64,
            drop_axis=v.ndim - 1,
            chunks=v.chunks[:-2] + ((4,),),
        )
    else:
        strain = _strain_block(v, ref)
    parameters = {
        "_node": "strain_maps",
        "maps": list(STRAIN_COMPONENTS),
        "reference": ref.tolist(),
        "reference_source": source,
        "rotation_units": "rad",
    }
    return _stack_of_maps(
        lattice_vectors,
        strain,
        "component",
        STRAIN_COMPONENTS,
        "Strain maps",
        parameters,
    )


def fit_lattice_peaks(
    c, lattice_vectors, half_width: int = 2, fit_kwargs: dict | None = None
):
    """Fit :class:`CepstralPeak2D` components at the lattice vectors of one cepstrum.

    A careful per-pattern alternative to the vectorised refinement: for every
    vector a HyperSpy ``Model2D`` of the ``(2 half_width + 1)``-pixel square of
    the cepstrum around the estimate, with a ``CepstralPeak2D`` (a Gaussian whose
    centre is the lattice vector) on a plane background, fitted by least squares.

    Parameters
    ----------
    c : Cepstrum2D
        One cepstrum (navigation dimension 0) or a scan: then the cepstrum at the
        current navigation indices (``c.axes_manager.indices``) is fitted.
    lattice_vectors : hyperspy.signals.Signal2D or numpy.ndarray
        From :func:`get_lattice_vectors` (the vectors at the same indices are used)
        or an ``(n_peaks, 2)`` array of estimates ``(x, y)`` in calibrated units.
    half_width : int
        Half size of the fitted square in pixels.
    fit_kwargs : dict, optional
        Passed to ``Model2D.fit``.

    Returns
    -------
    vectors : numpy.ndarray
        ``(n_peaks, 2)`` fitted ``(x, y)`` in calibrated units.
    models : list of hyperspy.models.model2d.Model2D
        The fitted models (component ``CepstralPeak2D`` holds ``r_x``, ``r_y``).
    """
    from hyperspy._components.expression import Expression

    from hyperspy_manifold.components.cepstral_peak2d import CepstralPeak2D

    check_pattern_signal(c, "fit_lattice_peaks", require_navigation=False)
    half_width = check_int("half_width", half_width, 1)
    indices = tuple(c.axes_manager.indices)
    one = c.get_current_signal() if c.axes_manager.navigation_dimension else c
    if one._lazy:
        one.compute(show_progressbar=False)
    if _unwrap(lattice_vectors) is not lattice_vectors:
        _check_vectors(lattice_vectors, "fit_lattice_peaks")
        v = lattice_vectors.data[indices[::-1]] if indices else lattice_vectors.data
        estimates = np.asarray(
            compute(v) if isinstance(v, da.Array) else v, dtype=float
        )
    else:
        estimates = np.asarray(lattice_vectors, dtype=float)
    if estimates.ndim != 2 or estimates.shape[1] != 2:
        raise ValueError(
            f"`lattice_vectors` must be (n_peaks, 2) (x, y) vectors, got shape {estimates.shape}."
        )
    zero, (sx, sy), _ = _quefrency_geometry(one)
    ky, kx = detector_shape(one)
    fitted, models = [], []
    for x, y in estimates:
        col = int(round(zero[1] + x / sx))
        row = int(round(zero[0] + y / sy))
        c0, c1 = max(col - half_width, 0), min(col + half_width + 1, kx)
        r0, r1 = max(row - half_width, 0), min(row + half_width + 1, ky)
        patch = one.isig[c0:c1, r0:r1]
        values = np.asarray(patch.data, dtype=float)
        m = patch.create_model()
        floor = float(values.min())
        peak = CepstralPeak2D(
            A=float(values.max()) - floor,
            r_x=float(x),
            r_y=float(y),
            sigma=float(min(sx, sy)),
        )
        background = Expression(
            "b0 + bx * (x - x0) + by * (y - y0)",
            name="background",
            b0=floor,
            bx=0.0,
            by=0.0,
            x0=float(x),
            y0=float(y),
        )
        background.x0.free = False
        background.y0.free = False
        m.extend([peak, background])
        m.fit(**(fit_kwargs or {}))
        fitted.append([peak.r_x.value, peak.r_y.value])
        models.append(m)
    return np.array(fitted), models
