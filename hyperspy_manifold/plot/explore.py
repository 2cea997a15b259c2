"""Interactive explorer of a clustering: embedding, label map and patterns, linked.

Three matplotlib panels: the embedding coloured by cluster, the label map in
calibrated real-space coordinates, and a diffraction pattern.  A lasso (or a
rectangle) drawn in the embedding highlights the selected scan positions in the
label map and shows the mean pattern of the selection; a click in the label map
marks that position's point in the embedding and shows its pattern.  Without the
data signal, cluster mean patterns stand in for the patterns.

The linking is done by the pure functions of this module
(:func:`select_in_embedding`, :func:`position_at`, :func:`highlight_image`,
:func:`mean_of_selection`, :func:`cluster_mean_of_selection`); the
:class:`ManifoldExplorer` only wires them to matplotlib events.
:func:`mean_of_selection` reads only the navigation chunks of a lazy signal that
hold selected positions, so exploring a scan much larger than memory stays fast.
"""

from __future__ import annotations

import numpy as np

from hyperspy_manifold.learn._labels import MASKED, NOISE
from hyperspy_manifold.plot.colours import label_rgba

#: Fraction of the colour kept by positions outside a selection.
FADE = 0.25
SELECTORS = ("lasso", "rectangle")


def data_of(data) -> np.ndarray:
    """The numpy data of a signal or of anything array-like."""
    return np.asarray(getattr(data, "data", data))


def scan_labels(result, signal, what: str) -> np.ndarray:
    """The label map of ``result``, checked to have one or two navigation axes and
    the navigation shape of ``signal`` (if given); ``what`` names the caller."""
    labels = data_of(result.labels)
    if labels.ndim > 2:
        raise ValueError(
            f"{what} scans with one or two navigation axes, got {labels.ndim}."
        )
    if signal is not None and tuple(signal.data.shape[:-2]) != labels.shape:
        raise ValueError(
            f"`signal` must have the navigation shape of the result {labels.shape}, "
            f"got {tuple(signal.data.shape[:-2])}."
        )
    return labels


def embedding_points(embedding) -> np.ndarray:
    """``(n_positions, 2)`` plot coordinates of a navigation-shaped embedding.

    ``embedding`` is the ``ManifoldResult.embedding`` signal or its data, shaped
    ``(*navigation, n_components)``; positions are in C order of the navigation
    shape.  A one-component embedding gets y = 0.
    """
    emb = data_of(embedding)
    emb = emb.reshape(-1, emb.shape[-1]).astype(np.float64)
    if emb.shape[1] == 1:
        return np.column_stack([emb[:, 0], np.zeros(len(emb))])
    return emb[:, :2]


def select_in_embedding(embedding, selection) -> np.ndarray:
    """Navigation-shaped boolean mask of the positions whose point is in ``selection``.

    Parameters
    ----------
    embedding : BaseSignal or numpy.ndarray
        ``(*navigation, n_components)``; the first two components are the plot axes.
    selection : tuple, numpy.ndarray or matplotlib.path.Path
        A rectangle ``(xmin, xmax, ymin, ymax)`` (the order of
        ``RectangleSelector.extents``; edges included), or a polygon: an
        ``(m, 2)`` array of vertices with m >= 3 (a lasso) or a ``Path``.

    Returns
    -------
    numpy.ndarray
        True where the position is selected; masked positions (NaN in the
        embedding) never are.
    """
    from matplotlib.path import Path

    emb = data_of(embedding)
    nav_shape = emb.shape[:-1]
    points = embedding_points(emb)
    finite = np.isfinite(points).all(axis=1)
    inside = np.zeros(len(points), dtype=bool)
    if isinstance(selection, Path):
        path = selection
    else:
        sel = np.asarray(selection, dtype=np.float64)
        if sel.shape == (4,):
            xmin, xmax, ymin, ymax = sel
            x, y = points[finite, 0], points[finite, 1]
            inside[finite] = (
                (x >= min(xmin, xmax))
                & (x <= max(xmin, xmax))
                & (y >= min(ymin, ymax))
                & (y <= max(ymin, ymax))
            )
            return inside.reshape(nav_shape)
        if sel.ndim != 2 or sel.shape[1] != 2 or sel.shape[0] < 3:
            raise ValueError(
                "`selection` must be a rectangle (xmin, xmax, ymin, ymax), an (m, 2) "
                f"array of m >= 3 polygon vertices or a matplotlib Path, got shape "
                f"{sel.shape}."
            )
        path = Path(sel)
    inside[finite] = path.contains_points(points[finite])
    return inside.reshape(nav_shape)


def position_at(labels, x: float, y: float | None = None) -> tuple | None:
    """Array index of the scan position at calibrated coordinates ``(x, y)``.

    ``labels`` is a navigation-shaped signal (``ManifoldResult.labels``) whose
    signal axes carry the scan calibration.  Returns the index in the order of
    the data (``(iy, ix)`` for a 2D scan, ``(ix,)`` for a line scan) or None
    outside the scan.
    """
    axes = labels.axes_manager.signal_axes
    values = (x,) if len(axes) == 1 else (x, y)
    if len(axes) > 2 or (len(axes) == 2 and y is None):
        raise ValueError(
            f"`position_at` needs one coordinate per scan axis ({len(axes)})."
        )
    index = []
    for axis, value in zip(axes, values):
        try:
            index.append(int(axis.value2index(value)))
        except ValueError:  # outside the axis
            return None
    return tuple(index[::-1])


def _text(value) -> str:
    """A HyperSpy axis name or unit, "" when unset (traits ``Undefined``)."""
    return value if isinstance(value, str) and value != "<undefined>" else ""


def axis_units(axis) -> str:
    """Units of a HyperSpy axis, "" when unset."""
    return _text(axis.units)


def axis_label(axis) -> str:
    """``"x (nm)"`` for a calibrated HyperSpy axis; unset names and units left out."""
    name, units = _text(axis.name) or "axis", axis_units(axis)
    return f"{name} ({units})" if units else name


def show_label_map(ax, image, labels):
    """Draw the RGBA ``image`` of the label map ``labels`` (a signal) on ``ax``:
    calibrated extent and axis labels for one or two scan axes, a line scan
    stretched into a visible strip without y ticks.  Returns the ``AxesImage``."""
    axes = labels.axes_manager.signal_axes
    calibrated = len(axes) in (1, 2)
    shown = ax.imshow(
        image,
        extent=navigation_extent(labels) if calibrated else None,
        interpolation="nearest",
        aspect="auto" if len(axes) == 1 else None,
    )
    if calibrated:
        ax.set_xlabel(axis_label(axes[0]))
    if len(axes) == 2:
        ax.set_ylabel(axis_label(axes[1]))
    elif len(axes) == 1:
        ax.set_yticks([])
        ax.set_box_aspect(0.15)
    return shown


def navigation_extent(labels) -> tuple[float, float, float, float]:
    """``imshow`` extent of a label map in calibrated units (pixel edges, y down)."""
    axes = labels.axes_manager.signal_axes
    ax_x = axes[0]
    x0, x1 = ax_x.axis[0] - ax_x.scale / 2, ax_x.axis[-1] + ax_x.scale / 2
    if len(axes) == 1:
        return (x0, x1, 0.5, -0.5)
    ax_y = axes[1]
    return (x0, x1, ax_y.axis[-1] + ax_y.scale / 2, ax_y.axis[0] - ax_y.scale / 2)


def fade(rgba: np.ndarray, keep: np.ndarray | None, amount: float = FADE):
    """Colours with the entries outside ``keep`` blended towards white.

    ``keep`` None or all False leaves every colour as it is (nothing selected).
    """
    out = np.array(rgba, dtype=np.float64)
    if keep is None or not np.any(keep):
        return out
    outside = ~np.asarray(keep, dtype=bool)
    out[outside, :3] = 1 - amount * (1 - out[outside, :3])
    return out


def highlight_image(labels, mask=None, cmap: str = "tab10") -> np.ndarray:
    """RGBA label map with the positions of ``mask`` in full colour, others faded.

    A line scan gives one row of pixels, ``(1, n, 4)``; a 2D scan ``(ny, nx, 4)``.
    """
    lab = data_of(labels)
    if mask is not None and np.shape(mask) != lab.shape:
        raise ValueError(
            f"`mask` must have the navigation shape {lab.shape}, got {np.shape(mask)}."
        )
    image = fade(label_rgba(lab, cmap), mask)
    return image[None] if image.ndim == 2 else image


def _check_mask(signal, mask) -> np.ndarray:
    nav_shape = tuple(signal.data.shape[:-2])
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != nav_shape:
        raise ValueError(
            f"`mask` must have the navigation shape {nav_shape}, got {mask.shape}."
        )
    if not mask.any():
        raise ValueError("`mask` selects no scan position.")
    return mask


def mean_of_selection(signal, mask) -> np.ndarray:
    """Mean pattern of the scan positions where ``mask`` is True.

    For a lazy signal only the navigation chunks that hold a selected position
    enter the dask graph: each contributes the sum of its selected patterns, one
    chunk in memory at a time, and the other chunks are never read.

    Parameters
    ----------
    signal : BaseSignal
        The 4D-STEM data (two signal axes), eager or lazy.
    mask : numpy.ndarray of bool
        Navigation-shaped (in array order), True = selected.

    Returns
    -------
    numpy.ndarray
        ``(ky, kx)`` float64 mean pattern.
    """
    import dask.array as da

    from hyperspy_manifold._chunks import compute, pattern_stack

    mask = _check_mask(signal, mask)
    detector = signal.data.shape[-2:]
    if not isinstance(signal.data, da.Array):
        patterns = np.asarray(signal.data).reshape((-1,) + detector)
        return patterns[np.flatnonzero(mask)].mean(axis=0, dtype=np.float64)
    stack = pattern_stack(signal)
    nav_chunks = stack.chunks[:-2]
    bounds = [np.cumsum((0,) + c) for c in nav_chunks]
    sums = []
    for block in np.ndindex(*stack.numblocks[:-2]):
        region = tuple(
            slice(b[i], b[i + 1]) for b, i in zip(bounds, block, strict=True)
        )
        chosen = np.flatnonzero(mask[region])
        if chosen.size == 0:
            continue
        patterns = stack.blocks[block + (0, 0)].reshape((-1,) + detector)
        sums.append(patterns[chosen].sum(axis=0, dtype=np.float64))
    total = compute(da.stack(sums).sum(axis=0), show_progressbar=False)
    return np.asarray(total) / mask.sum()


def cluster_row(label: int, noise_index: int | None) -> int | None:
    """Row of ``cluster_means`` for a label: the cluster, the noise row, or None."""
    if label >= 0:
        return int(label)
    if label == NOISE:
        return noise_index
    return None


def cluster_mean_of_selection(result, mask) -> np.ndarray:
    """Stand-in for :func:`mean_of_selection` when the data are not at hand.

    The cluster mean patterns of ``result`` weighted by how many selected
    positions each cluster (and the noise) holds: exact when the selection is
    made of whole clusters.
    """
    labels = data_of(result.labels).astype(np.int64)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != labels.shape:
        raise ValueError(
            f"`mask` must have the navigation shape {labels.shape}, got {mask.shape}."
        )
    means = data_of(result.cluster_means).astype(np.float64)
    if means.ndim == 2:  # one row only
        means = means[None]
    weights = np.zeros(means.shape[0])
    for label, count in zip(*np.unique(labels[mask], return_counts=True)):
        row = cluster_row(int(label), result.noise_index)
        if row is not None:
            weights[row] += count
    if weights.sum() == 0:
        raise ValueError("`mask` selects no clustered position (only masked ones).")
    return np.tensordot(weights / weights.sum(), means, axes=1)


def _pattern_extent(signal) -> tuple[float, float, float, float]:
    ax_x, ax_y = signal.axes_manager.signal_axes[:2]
    return (
        ax_x.axis[0] - ax_x.scale / 2,
        ax_x.axis[-1] + ax_x.scale / 2,
        ax_y.axis[-1] + ax_y.scale / 2,
        ax_y.axis[0] - ax_y.scale / 2,
    )


def log_scale(pattern: np.ndarray) -> np.ndarray:
    """Log scale, so the direct beam does not hide the diffraction."""
    pattern = np.nan_to_num(np.asarray(pattern, dtype=np.float64))
    return np.log1p(pattern - min(0.0, float(pattern.min())))


class ManifoldExplorer:
    """Linked embedding, label map and pattern panels of a :class:`ManifoldResult`.

    Draw a lasso (or a rectangle, ``selector="rectangle"``) in the embedding: the
    selected positions stay in full colour in the label map and the pattern panel
    shows their mean pattern.  Click in the label map: the position's point is
    marked in the embedding and its pattern is shown.  Keep a reference to the
    explorer (matplotlib widgets stop responding when it is garbage collected).

    Parameters
    ----------
    result : ManifoldResult
        From ``manifold_decomposition(..., return_info=True)``.
    signal : BaseSignal, optional
        The clustered data (eager or lazy) to show real patterns; without it the
        cluster mean patterns stand in (see :func:`cluster_mean_of_selection`).
    selector : {"lasso", "rectangle"}
        Selection tool of the embedding panel.
    cmap : str
        Matplotlib colormap of the cluster labels.
    """

    def __init__(self, result, signal=None, selector: str = "lasso", cmap="tab10"):
        import matplotlib.pyplot as plt
        from matplotlib.widgets import LassoSelector, RectangleSelector

        if selector not in SELECTORS:
            raise ValueError(
                f"`selector` must be one of {', '.join(map(repr, SELECTORS))}, "
                f"got {selector!r}."
            )
        labels = scan_labels(result, signal, "`explore` shows")
        self.result = result
        self.signal = signal
        self.cmap = cmap
        self.mask = np.zeros(labels.shape, dtype=bool)
        self.position = None

        self.figure, (self.ax_embedding, self.ax_map, self.ax_pattern) = plt.subplots(
            1, 3, figsize=(14, 4.6)
        )
        points = embedding_points(result.embedding)
        self._shown = np.flatnonzero(labels.ravel() != MASKED)
        self._colors = label_rgba(labels, cmap).reshape(-1, 4)[self._shown]
        size = max(1.0, min(20.0, 4000.0 / max(self._shown.size, 1)))
        self._points = points[self._shown]
        self._scatter = self.ax_embedding.scatter(
            self._points[:, 0],
            self._points[:, 1],
            c=self._colors,
            s=size,
            linewidths=0,
        )
        (self._embedding_marker,) = self.ax_embedding.plot(
            [], [], "x", color="k", ms=10, mew=2
        )
        self.ax_embedding.set_xlabel("component 1")
        self.ax_embedding.set_ylabel("component 2")
        self.ax_embedding.set_title(f"Embedding ({selector}: select)")

        self._map = show_label_map(
            self.ax_map, highlight_image(labels, None, cmap), result.labels
        )
        (self._map_marker,) = self.ax_map.plot(
            [], [], "s", mfc="none", mec="k", ms=8, mew=1.5
        )
        self.ax_map.set_title("Label map (click: pattern)")

        reference = signal if signal is not None else result.cluster_means
        global_mean = data_of(result.global_mean)
        self._pattern = self.ax_pattern.imshow(
            log_scale(global_mean),
            extent=_pattern_extent(reference),
            cmap="inferno",
            interpolation="nearest",
        )
        ax_kx, ax_ky = reference.axes_manager.signal_axes[:2]
        self.ax_pattern.set_xlabel(axis_label(ax_kx))
        self.ax_pattern.set_ylabel(axis_label(ax_ky))
        self.ax_pattern.set_title("Global mean pattern (log)")

        if selector == "lasso":
            self.selector = LassoSelector(
                self.ax_embedding, onselect=self._on_lasso, useblit=False
            )
        else:
            self.selector = RectangleSelector(
                self.ax_embedding, onselect=self._on_rectangle, useblit=False
            )
        self._click_id = self.figure.canvas.mpl_connect(
            "button_press_event", self._on_click
        )
        self.figure.tight_layout()

    # ------------------------------------------------------------ programmatic API

    def select(self, selection) -> np.ndarray:
        """Select like the mouse does; returns the navigation mask.

        ``selection`` as in :func:`select_in_embedding` (rectangle or polygon).
        """
        mask = select_in_embedding(self.result.embedding, selection)
        self.mask = mask
        self._map.set_data(highlight_image(self.result.labels, mask, self.cmap))
        self._scatter.set_facecolors(fade(self._colors, mask.ravel()[self._shown]))
        n = int(mask.sum())
        if n:
            if self.signal is not None:
                pattern = mean_of_selection(self.signal, mask)
                title = f"Mean of {n} selected patterns (log)"
            else:
                pattern = cluster_mean_of_selection(self.result, mask)
                title = f"Cluster means weighted by {n} selected positions (log)"
            self._set_pattern(pattern, title)
        self.figure.canvas.draw_idle()
        return mask

    def show_position(self, index) -> np.ndarray | None:
        """Mark the scan position ``index`` (array order) and show its pattern."""
        labels = data_of(self.result.labels)
        index = tuple(int(i) for i in np.atleast_1d(index))
        if len(index) != labels.ndim:
            raise ValueError(
                f"`index` must have {labels.ndim} entries (array order), got {index}."
            )
        self.position = index
        label = int(labels[index])
        flat = np.ravel_multi_index(index, labels.shape)
        point = embedding_points(self.result.embedding)[flat]
        self._embedding_marker.set_data([point[0]], [point[1]])
        axes = self.result.labels.axes_manager.signal_axes
        x = axes[0].axis[index[-1]]
        y = axes[1].axis[index[0]] if len(axes) > 1 else 0.0
        self._map_marker.set_data([x], [y])
        pattern = None
        if self.signal is not None:
            one = np.zeros(labels.shape, dtype=bool)
            one[index] = True
            pattern = mean_of_selection(self.signal, one)
            title = f"Pattern at {index}, label {label} (log)"
        else:
            row = cluster_row(label, self.result.noise_index)
            if row is not None:
                means = data_of(self.result.cluster_means)
                pattern = means[row] if means.ndim == 3 else means
                from hyperspy_manifold.learn._subcluster import cluster_names

                # the hierarchical name ("2.1") after ManifoldResult.subcluster
                name = (
                    "noise"
                    if label == NOISE
                    else f"cluster {cluster_names(self.result)[label]}"
                )
                title = f"Mean of {name} (position {index}) (log)"
        if pattern is not None:
            self._set_pattern(pattern, title)
        self.figure.canvas.draw_idle()
        return pattern

    # ---------------------------------------------------------------- callbacks

    def _set_pattern(self, pattern, title):
        shown = log_scale(pattern)
        self._pattern.set_data(shown)
        self._pattern.set_clim(float(shown.min()), float(shown.max()) or 1.0)
        self.ax_pattern.set_title(title, fontsize=9)

    def _on_lasso(self, vertices):
        if len(vertices) >= 3:
            self.select(np.asarray(vertices))

    def _on_rectangle(self, press, release):
        self.select(tuple(self.selector.extents))

    def _on_click(self, event):
        toolbar = getattr(self.figure.canvas, "toolbar", None)
        if getattr(toolbar, "mode", "") or event.button != 1:
            return  # zooming or panning
        if event.inaxes is not self.ax_map or event.xdata is None:
            return
        index = position_at(self.result.labels, event.xdata, event.ydata)
        if index is not None:
            self.show_position(index)


def explore(result, signal=None, selector: str = "lasso", cmap: str = "tab10"):
    """Open a :class:`ManifoldExplorer` on ``result`` and return it."""
    return ManifoldExplorer(result, signal=signal, selector=selector, cmap=cmap)
