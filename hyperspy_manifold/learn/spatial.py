"""Spatial separation of component maps into regions (grains).

The last step of iterative NMF grain mapping (Allen et al. 2021; Bruefach, Ophus
& Scott 2022): threshold every component map (Yen's or Otsu's method, or a fixed
fraction of the map's maximum), close gaps of a pixel or two (binary closing),
label the connected regions, drop those smaller than ``min_size``, and make every
remaining region its own class.  Two grains of the same orientation share an NMF
component but are separate regions here.  Each region is described by
:func:`skimage.measure.regionprops` in the calibrated units of the scan axes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu, threshold_yen
from skimage.measure import label, regionprops

from hyperspy_manifold._output import METADATA_NODE
from hyperspy_manifold.learn.metrics import MASK_LABEL, NOISE_LABEL

THRESHOLD_METHODS = {"yen": threshold_yen, "otsu": threshold_otsu}

#: dtype of :attr:`Regions.table`.
REGION_TABLE_DTYPE = np.dtype(
    [
        ("region", np.int64),
        ("component", np.int64),
        ("n_pixels", np.int64),
        ("area", np.float64),
        ("feret_diameter_max", np.float64),
        ("centroid_y", np.float64),
        ("centroid_x", np.float64),
        ("mean_weight", np.float64),
        ("max_weight", np.float64),
    ]
)


class Regions(NamedTuple):
    """Result of :func:`separate_regions`.

    Attributes
    ----------
    labels : numpy.ndarray or Signal2D
        Scan-shaped map: at every position the region whose component map is
        largest there, -1 where no region covers it, -2 at masked (NaN) positions.
        A signal with the scan axes when the maps were a signal.
    masks : numpy.ndarray or BaseSignal
        ``(n_regions, ny, nx)`` boolean region masks (a signal stack when the maps
        were a signal).
    table : numpy.ndarray
        Structured array, one row per region: ``region``, ``component``,
        ``n_pixels``, ``area`` (``units``²), ``feret_diameter_max`` (``units``),
        ``centroid_y``, ``centroid_x`` (``units``, axis offsets included),
        ``mean_weight`` and ``max_weight`` of the component map inside the region.
        Save with ``np.save(path, table)`` or as CSV with
        ``np.savetxt(path, table, delimiter=",", header=",".join(table.dtype.names),
        comments="", fmt="%g")``.  When ``maps`` is a signal the table and the
        parameters are also in ``labels.metadata.HyperspyManifold.separate_regions``,
        so ``labels.save("regions.zspy")`` (or ``.hspy``) keeps them.
    units : str
        Units of the scan axes.
    """

    labels: object
    masks: object
    table: np.ndarray
    units: str


def _maps_and_calibration(maps, scale, offset, units):
    """``(k, ny, nx)`` float maps, ``(sy, sx)``, ``(oy, ox)``, units, the map signal."""
    from hyperspy.signal import BaseSignal

    signal = None
    if isinstance(maps, BaseSignal):
        am = maps.axes_manager
        if am.signal_dimension != 2:
            raise ValueError(
                "`maps` must have two signal axes (the scan axes of each map), got "
                f"signal dimension {am.signal_dimension}. For a stack of maps with the "
                "scan axes as navigation axes use `maps.transpose(signal_axes=2)`."
            )
        signal = maps
        ax_x, ax_y = am.signal_axes
        if ax_x.is_uniform and ax_y.is_uniform:
            cal_scale = (float(ax_y.scale), float(ax_x.scale))
            cal_offset = (float(ax_y.offset), float(ax_x.offset))
        elif scale is None or offset is None:
            raise ValueError(
                "`maps` have non-uniform scan axes, but areas and centroids need a "
                "pixel size: give `scale` and `offset`, or convert the axes with "
                "`axis.convert_to_uniform_axis()`."
            )
        cal_units = ax_x.units if isinstance(ax_x.units, str) else ""
        data = maps.data
        if hasattr(data, "compute"):
            data = data.compute()
    else:
        data = maps
        cal_scale, cal_offset, cal_units = (1.0, 1.0), (0.0, 0.0), "px"
    data = np.asarray(data, dtype=np.float64)
    if data.ndim < 2 or data.size == 0:
        raise ValueError(
            "`maps` must be one map (ny, nx) or a stack (n_maps, ny, nx), got shape "
            f"{np.shape(getattr(maps, 'data', maps))}."
        )
    if np.isinf(data).any():
        raise ValueError(
            "`maps` contain infinite values; only NaN has a meaning (a masked "
            "position). Replace them, e.g. with NaN to mask those positions."
        )
    # Leading axes (a component index, or several) all count as maps.
    data = data.reshape((-1,) + data.shape[-2:])
    if scale is not None:
        cal_scale = tuple(float(v) for v in np.broadcast_to(scale, 2))
        if min(cal_scale) <= 0:
            raise ValueError(f"`scale` must be positive, got {scale!r}.")
    if offset is not None:
        cal_offset = tuple(float(v) for v in np.broadcast_to(offset, 2))
    if units is not None:
        cal_units = str(units)
    return data, cal_scale, cal_offset, cal_units, signal


def _threshold(values: np.ndarray, threshold) -> float | None:
    """Threshold of one map's finite values; None for a flat map."""
    lo, hi = values.min(), values.max()
    if not hi > lo:
        return None
    if isinstance(threshold, str):
        return float(THRESHOLD_METHODS[threshold](values))
    return float(lo + threshold * (hi - lo))


def _drop_small(mask: np.ndarray, min_size: int) -> np.ndarray:
    """``mask`` without its connected parts of fewer than ``min_size`` pixels."""
    parts = label(mask)
    sizes = np.bincount(parts.ravel())
    sizes[0] = 0
    return (sizes >= min_size)[parts]


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius**2


def _close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary closing that does not erode regions touching the scan edge."""
    if radius == 0:
        return mask
    padded = np.pad(mask, radius, mode="edge")
    closed = ndimage.binary_closing(padded, structure=_disk(radius))
    return closed[radius:-radius, radius:-radius]


def separate_regions(
    maps,
    threshold="yen",
    min_size: int = 5,
    closing: int = 1,
    scale=None,
    offset=None,
    units: str | None = None,
    exclude_components=None,
) -> Regions:
    """Split component maps into connected regions, each its own class.

    Every map is thresholded, specks smaller than ``min_size`` pixels are
    removed, gaps are closed, connected regions are labelled (8-connectivity),
    and regions with fewer than ``min_size`` pixels are dropped.

    Parameters
    ----------
    maps : BaseSignal or array-like
        A stack of scan-shaped maps, e.g. ``s.get_decomposition_loadings()`` after
        :func:`~hyperspy_manifold.bragg_nmf` (calibration from its signal axes), or
        an array ``(n_maps, ny, nx)`` / ``(ny, nx)``.  NaN marks masked positions.
    threshold : {"yen", "otsu"} or float
        Threshold method of :mod:`skimage.filters`, or a fraction in (0, 1) of
        each map's range (``min + threshold * (max - min)``).
    min_size : int
        Smallest region kept, in scan pixels.
    closing : int
        Radius in pixels of the disk used to close gaps; 0 disables closing.
    scale, offset : float or (float, float), optional
        Scan calibration ``(y, x)`` for array maps (default 1 and 0), or to override
        that of a signal.
    units : str, optional
        Units of ``scale`` (default: those of the signal axes, or "px").
    exclude_components : sequence of int, optional
        Maps that do not become classes, e.g. an amorphous or background
        component; their positions stay -1 unless another region covers them.

    Returns
    -------
    Regions
        Named tuple ``(labels, masks, table, units)``.

    Examples
    --------
    >>> maps = np.zeros((1, 8, 8))
    >>> maps[0, 1:4, 1:4] = 1.0
    >>> maps[0, 5:8, 5:8] = 0.8
    >>> regions = separate_regions(maps, min_size=2, scale=0.5, units="nm")
    >>> regions.table["area"].tolist(), regions.table["component"].tolist()
    ([2.25, 2.25], [0, 0])
    """
    if isinstance(threshold, str):
        if threshold not in THRESHOLD_METHODS:
            raise ValueError(
                f"`threshold` must be 'yen', 'otsu' or a fraction in (0, 1), got {threshold!r}."
            )
    elif not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ValueError(
            f"`threshold` must be 'yen', 'otsu' or a fraction in (0, 1), got {threshold!r}."
        )
    if not (isinstance(min_size, (int, np.integer)) and min_size >= 1):
        raise ValueError(
            f"`min_size` must be a positive integer (pixels), got {min_size!r}."
        )
    if not (isinstance(closing, (int, np.integer)) and closing >= 0):
        raise ValueError(
            f"`closing` must be a non-negative integer radius in pixels, got {closing!r}."
        )
    data, (sy, sx), (oy, ox), units, signal = _maps_and_calibration(
        maps, scale, offset, units
    )
    excluded = (
        set() if exclude_components is None else set(np.ravel(exclude_components))
    )
    if not excluded <= set(range(data.shape[0])):
        raise ValueError(
            f"`exclude_components` must be map indices below {data.shape[0]}, "
            f"got {sorted(excluded)}."
        )
    masked = np.isnan(data).all(axis=0)
    rows, masks, region_maps = [], [], []
    for component, cmap in enumerate(data):
        valid = np.isfinite(cmap)
        if component in excluded:
            continue
        if not valid.any():
            continue
        t = _threshold(cmap[valid], threshold)
        if t is None:
            continue
        values = np.where(valid, cmap, -np.inf)
        # Specks of noise above the threshold go before closing, which could
        # otherwise join them into a region.
        mask = _drop_small(values > t, min_size)
        mask = _close(mask, int(closing)) & valid
        regions = label(mask)
        props = regionprops(
            regions, intensity_image=np.where(valid, cmap, 0), spacing=(sy, sx)
        )
        for p in props:
            if p.num_pixels < min_size:
                continue
            cy, cx = p.centroid
            rows.append(
                (
                    len(rows),
                    component,
                    p.num_pixels,
                    p.area,
                    p.feret_diameter_max,
                    cy + oy,
                    cx + ox,
                    p.intensity_mean,
                    p.intensity_max,
                )
            )
            masks.append(regions == p.label)
            region_maps.append(cmap)
    table = np.array(rows, dtype=REGION_TABLE_DTYPE)
    nav_shape = data.shape[1:]
    masks = np.array(masks, dtype=bool).reshape((len(rows),) + nav_shape)

    labels = np.full(nav_shape, NOISE_LABEL, dtype=np.int64)
    if len(rows):
        weight = np.where(
            masks, np.nan_to_num(np.array(region_maps), nan=-np.inf), -np.inf
        )
        best = weight.argmax(axis=0)
        labels = np.where(masks.any(axis=0), best, NOISE_LABEL)
    labels[masked] = MASK_LABEL
    if signal is not None:
        parameters = {
            "threshold": threshold,
            "min_size": int(min_size),
            "closing": int(closing),
            "exclude_components": sorted(int(c) for c in excluded),
            "units": units,
            "table": table,
        }
        labels, masks = _as_signals(signal, labels, masks, parameters)
    return Regions(labels=labels, masks=masks, table=table, units=units)


def _as_signals(signal, labels, masks, parameters):
    """Label map and mask stack as signals with the scan axes of ``signal``; the
    label map keeps ``parameters`` (with the table) in its metadata, which
    ``.zspy`` and ``.hspy`` files store without pickling."""
    from hyperspy.signals import Signal2D

    scan_axes = []
    for ax in signal.axes_manager.signal_axes[::-1]:
        d = ax.get_axis_dictionary()
        d.pop("navigate", None)
        scan_axes.append(d)
    title = signal.metadata.General.title
    label_signal = Signal2D(labels, axes=scan_axes)
    label_signal.metadata.General.title = f"Region labels of {title}"
    label_signal.metadata.set_item(f"{METADATA_NODE}.separate_regions", parameters)
    mask_signal = Signal2D(
        masks, axes=[{"size": masks.shape[0], "name": "Region index"}] + scan_axes
    )
    mask_signal.metadata.General.title = f"Region masks of {title}"
    return label_signal, mask_signal
