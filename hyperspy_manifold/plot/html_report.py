"""A self-contained, interactive HTML report of a clustering (Bokeh, no server).

One HTML file holds everything, BokehJS included (``bokeh.resources.INLINE``), so
it opens in any browser without a network connection and can be mailed or put
beside the data.  It shows:

* the embedding and the label map, linked: both draw from one
  ``ColumnDataSource`` (named ``"positions"``), so a selection in either (box
  select by default, lasso, tap) highlights the same scan positions in the other,
  by Bokeh's own linked selection, without custom JavaScript;
* cluster mean patterns and mean minus the global mean (Li et al. 2019, Fig. 7),
  and, with the data, one real member pattern of each cluster;
* similarity loadings (Li et al. 2019, Fig. 4), when given;
* the k-scan behind an automatic ``min_cluster_size`` with its fitted decay;
* a parameter and provenance table made from the same ``summary`` dict that
  :func:`~hyperspy_manifold.plot.report.save_results` writes to ``summary.json``
  (also embedded verbatim as JSON, ``<script id="summary-json">``).

Above ``max_points`` unmasked positions the scatter shows a seeded random sample
(the page says so) and the full label map is drawn faded underneath.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from hyperspy_manifold._checks import check_int
from hyperspy_manifold._random import as_generator
from hyperspy_manifold.learn._labels import MASKED, NOISE
from hyperspy_manifold.learn._subcluster import cluster_names
from hyperspy_manifold.plot.colours import label_rgba
from hyperspy_manifold.plot.explore import (
    axis_label,
    axis_units,
    data_of,
    embedding_points,
    log_scale,
    scan_labels,
)

#: Largest side of a detector image in the page (bigger patterns are binned).
MAX_PATTERN_SIZE = 128
#: Largest side of a navigation-shaped map in the page (similarity loadings).
MAX_MAP_SIZE = 256
#: Alpha of glyphs outside a selection.
NONSELECTION_ALPHA = 0.12
TOOLS = "box_select,lasso_select,tap,wheel_zoom,pan,reset,save"

TEMPLATE = """
{% block preamble %}
<style>
  body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1300px; }
  h1 { font-size: 1.5em; margin-bottom: 0.2em; }
  h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
  p.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
  p.help { color: #555; font-size: 0.9em; }
  table { border-collapse: collapse; font-size: 0.85em; }
  th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left;
           vertical-align: top; }
  th { background: #f4f4f4; font-weight: normal; font-family: monospace; }
  td { font-family: monospace; word-break: break-all; max-width: 60em; }
  span.swatch { display: inline-block; width: 1em; height: 1em;
                border: 1px solid #888; vertical-align: middle; }
</style>
{% endblock %}
{% block contents %}
<h1>{{ heading | e }}</h1>
<p id="headline">{{ headline | e }}</p>
{% if sampling_note %}<p class="note" id="sampling-note">{{ sampling_note | e }}</p>{% endif %}

<h2 id="linked">Embedding and label map</h2>
<p class="help">Box select (active), lasso or tap in either plot: the same scan
positions are highlighted in the other.  Shift + select adds to the selection;
the reset tool restores the view.</p>
{{ embed(roots.linked) }}
{{ cluster_table }}
{% if tree_table %}
<h2 id="hierarchy">Cluster hierarchy</h2>
<p class="help">Clusters split by ManifoldResult.subcluster: cluster "2.1" is
child 1 of cluster "2"; a split cluster has no label of its own.</p>
{{ tree_table }}
{% endif %}

<h2 id="means">Cluster mean patterns</h2>
<p class="help">Top: log(1 + mean pattern); bottom: mean minus the global mean
pattern (red = brighter than average).{{ means_note | e }}</p>
{{ embed(roots.means) }}

{% if has_typical %}
<h2 id="typical">A member pattern of each cluster</h2>
<p class="help">{{ typical_note | e }}</p>
{{ embed(roots.typical) }}
{% endif %}

{% if has_similarity %}
<h2 id="similarity">Similarity loadings</h2>
<p class="help">1 / (eps + distance of every pattern to each cluster mean)
(Li et al. 2019, Fig. 4).</p>
{{ embed(roots.similarity) }}
{% endif %}

<h2 id="k-scan">Number of clusters against min_cluster_size</h2>
{% if has_k_scan %}{{ embed(roots.k_scan) }}{% else %}
<p class="help">{{ k_scan_note | e }}</p>{% endif %}

{% if data_table %}
<h2 id="data">Data</h2>
{{ data_table }}
{% endif %}

<h2 id="provenance-heading">Parameters and provenance</h2>
<p class="help">The content of summary.json (parameters, versions, timings,
input).</p>
{{ provenance_table }}
<script type="application/json" id="summary-json">{{ summary_json }}</script>
{% endblock %}
"""


# ------------------------------------------------------------------ pure helpers


def scatter_sample(candidates, max_points: int, random_state=0) -> np.ndarray:
    """The positions drawn in the scatter: all, or a seeded sample of ``max_points``.

    ``candidates`` are flat position indices; the result is sorted.
    """
    candidates = np.asarray(candidates)
    if candidates.size <= max_points:
        return candidates
    rng = as_generator(random_state)
    return np.sort(rng.choice(candidates, max_points, replace=False))


def flatten_summary(summary: dict, prefix: str = "") -> list[tuple[str, str]]:
    """``(dotted key, text)`` rows of a nested summary dict, in its order.

    Strings are shown as they are, everything else as JSON (so ``null``,
    ``true``, ``[16, 16]``); empty dicts stay one row ``{}``.
    """
    rows = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flatten_summary(value, f"{name}."))
        elif isinstance(value, str):
            rows.append((name, value))
        else:
            rows.append((name, json.dumps(value)))
    return rows


def shrink(image: np.ndarray, max_size: int) -> tuple[np.ndarray, int]:
    """Block mean of ``image`` by the smallest integer factor that fits ``max_size``.

    Returns ``(binned image, factor)``; edge rows/columns that do not fill a
    block are dropped.
    """
    image = np.asarray(image, dtype=np.float64)
    factor = int(np.ceil(max(image.shape) / max_size))
    if factor <= 1:
        return image, 1
    fy = factor if image.shape[0] >= factor else 1  # a line scan is one row
    ny, nx = image.shape[0] // fy, image.shape[1] // factor
    binned = image[: ny * fy, : nx * factor].reshape(ny, fy, nx, factor)
    return np.nanmean(binned, axis=(1, 3)), factor


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * float(c))) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _row_names(result) -> list[str]:
    # hierarchical names ("cluster 2.1") after ManifoldResult.subcluster
    names = [f"cluster {name}" for name in cluster_names(result)]
    if result.noise_index is not None:
        names.append("noise")
    return names


def _html_table(rows, table_id: str, header=None) -> str:
    head = ""
    if header:
        head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = "".join(
        "<tr>"
        + f"<th>{html.escape(str(k))}</th>"
        + "".join(f"<td>{v}</td>" for v in values)
        + "</tr>"
        for k, *values in rows
    )
    return f'<table id="{table_id}">{head}{body}</table>'


# ------------------------------------------------------------------ Bokeh figures


def _scan_geometry(labels_signal):
    """Calibrated centres ``(x, y)`` of every position and the pixel size."""
    axes = labels_signal.axes_manager.signal_axes
    ax_x = axes[0]
    if len(axes) == 1:
        x = np.asarray(ax_x.axis, dtype=np.float64)
        return x, np.zeros_like(x), (ax_x.scale, 1.0), (ax_x, None)
    ax_y = axes[1]
    yy, xx = np.meshgrid(ax_y.axis, ax_x.axis, indexing="ij")
    return xx.ravel(), yy.ravel(), (ax_x.scale, ax_y.scale), (ax_x, ax_y)


def _frame(width_units, height_units, longest=440, shortest=160):
    """Plot width and height in pixels for a region of the given aspect."""
    aspect = width_units / height_units if height_units else 1.0
    if aspect >= 1:
        return longest, int(max(shortest, longest / aspect))
    return int(max(shortest, longest * aspect)), longest


def _image_figure(image, extent, title, palette, low=None, high=None, size=190):
    from bokeh.models import LinearColorMapper, Range1d
    from bokeh.plotting import figure

    x0, x1, y1, y0 = extent  # y1 > y0: the y axis points down, as in imshow
    width, height = _frame(abs(x1 - x0), abs(y1 - y0), longest=size, shortest=60)
    fig = figure(
        title=title,
        width=width + 10,
        height=height + 30,
        x_range=Range1d(x0, x1),
        y_range=Range1d(y1, y0),
        tools="wheel_zoom,pan,reset",
        toolbar_location=None,
        min_border=2,
    )
    finite = np.asarray(image)[np.isfinite(image)]
    if low is None:
        low = float(finite.min()) if finite.size else 0.0
    if high is None:
        high = float(finite.max()) if finite.size else 1.0
    mapper = LinearColorMapper(
        palette=palette, low=low, high=high if high > low else low + 1
    )
    fig.image(
        image=[np.asarray(image, dtype=np.float32)],
        x=min(x0, x1),
        y=min(y0, y1),
        dw=abs(x1 - x0),
        dh=abs(y1 - y0),
        color_mapper=mapper,
    )
    fig.axis.visible = False
    fig.grid.visible = False
    fig.title.text_font_size = "9pt"
    return fig


def _extent(axes, factor=1):
    """``(x0, x1, y1, y0)`` of an image on calibrated ``axes`` binned by ``factor``.

    Like :func:`~hyperspy_manifold.plot.explore.navigation_extent`, less the edge
    pixels :func:`shrink` drops; one axis (a line scan) gives a row of height 1.
    """
    ax_x = axes[0]
    x0 = ax_x.axis[0] - ax_x.scale / 2
    x1 = x0 + ax_x.size // factor * factor * ax_x.scale
    if len(axes) == 1:
        return (x0, x1, 0.5, -0.5)
    ax_y = axes[1]
    y0 = ax_y.axis[0] - ax_y.scale / 2
    return (x0, x1, y0 + ax_y.size // factor * factor * ax_y.scale, y0)


def _linked_figures(result, max_points, random_state, cmap):
    """The embedding and the label map sharing one ColumnDataSource."""
    from bokeh.layouts import row
    from bokeh.models import ColumnDataSource, HoverTool, LinearColorMapper, Range1d
    from bokeh.plotting import figure

    labels = data_of(result.labels).astype(np.int64)
    flat = labels.ravel()
    points = embedding_points(result.embedding)
    x, y, (dx, dy), (ax_x, ax_y) = _scan_geometry(result.labels)
    shown = scatter_sample(np.flatnonzero(flat != MASKED), max_points, random_state)
    columns = {
        "ex": points[shown, 0].astype(np.float32),
        "ey": points[shown, 1].astype(np.float32),
        "x": x[shown].astype(np.float32),
        "y": y[shown].astype(np.float32),
        "label": flat[shown].astype(np.int32),
        "position": shown.astype(np.int32),
    }
    tooltips = [("x, y", "@x, @y"), ("label", "@label")]
    if getattr(result, "tree", None):
        # the hierarchical name ("2.1") of every shown position
        names = np.array(cluster_names(result) + ["masked", "noise"], dtype=object)
        columns["cluster"] = names[flat[shown]].tolist()
        tooltips.append(("cluster", "@cluster"))
    tooltips.append(("position", "@position"))
    source = ColumnDataSource(data=columns, name="positions")
    palette_rgba = label_rgba(np.arange(MASKED, result.n_clusters), cmap)
    mapper = LinearColorMapper(
        palette=[_hex(c) for c in palette_rgba],
        low=MASKED - 0.5,
        high=result.n_clusters - 0.5,
    )
    color = {"field": "label", "transform": mapper}

    size = float(np.clip(600 / np.sqrt(max(shown.size, 1)), 2, 8))
    embedding = figure(
        name="embedding",
        title="Embedding",
        width=470,
        height=450,
        tools=TOOLS,
        active_drag="box_select",
        x_axis_label="component 1",
        y_axis_label="component 2",
    )
    embedding.scatter(
        "ex",
        "ey",
        source=source,
        size=size,
        fill_color=color,
        line_color=None,
        nonselection_fill_alpha=NONSELECTION_ALPHA,
        nonselection_fill_color=color,
        selection_fill_color=color,
        selection_line_color="black",
        selection_line_width=0.5 if size >= 4 else 0,
        name="embedding_points",
    )

    x_edges = (x.min() - dx / 2, x.max() + dx / 2)
    y_edges = (y.min() - dy / 2, y.max() + dy / 2)
    width, height = _frame(x_edges[1] - x_edges[0], y_edges[1] - y_edges[0])
    unit_x = axis_label(ax_x)
    unit_y = axis_label(ax_y) if ax_y is not None else ""
    label_map = figure(
        name="label_map",
        title=f"Label map ({result.n_clusters} clusters)",
        width=width + 70,
        height=height + 60,
        x_range=Range1d(*x_edges),
        y_range=Range1d(y_edges[1], y_edges[0]),  # row 0 at the top
        tools=TOOLS,
        active_drag="box_select",
        x_axis_label=unit_x,
        y_axis_label=unit_y,
    )
    label_map.yaxis.visible = ax_y is not None
    if shown.size < (flat != MASKED).sum():
        # Positions sampled away from the scatter stay visible as a faded image
        # under the glyphs.
        rgba = (label_rgba(labels, cmap) * 255).astype(np.uint8)
        rgba[..., 3] = 255
        image = rgba if labels.ndim == 2 else rgba[None]
        label_map.image_rgba(
            image=[image.view(np.uint32)[..., 0]],
            x=x_edges[0],
            y=y_edges[0],
            dw=x_edges[1] - x_edges[0],
            dh=y_edges[1] - y_edges[0],
            global_alpha=0.35,
        )
    cells = label_map.rect(
        "x",
        "y",
        width=dx,
        height=dy,
        source=source,
        fill_color=color,
        line_color=None,
        nonselection_fill_alpha=NONSELECTION_ALPHA,
        nonselection_fill_color=color,
        selection_fill_color=color,
        name="label_cells",
    )
    label_map.add_tools(
        HoverTool(
            renderers=[cells],
            tooltips=tooltips,
        )
    )
    for fig in (embedding, label_map):
        fig.toolbar.logo = None
    return row(embedding, label_map, name="linked"), shown


def _gallery(figures, name, ncols=6):
    from bokeh.layouts import gridplot

    grid = gridplot(figures, ncols=ncols, toolbar_location=None)
    grid.name = name
    return grid


def _means_figures(result):
    from bokeh.palettes import Inferno256, RdBu11

    means = data_of(result.cluster_means).astype(np.float64)
    diff = data_of(result.mean_minus_global).astype(np.float64)
    if means.ndim == 2:
        means, diff = means[None], diff[None]
    names = _row_names(result)
    counts = np.asarray(result.counts)
    shown, factor = zip(*(shrink(m, MAX_PATTERN_SIZE) for m in means))
    diffs = [shrink(d, MAX_PATTERN_SIZE)[0] for d in diff]
    extent = _extent(result.cluster_means.axes_manager.signal_axes, factor[0])
    top = [
        _image_figure(
            log_scale(m),
            extent,
            f"{names[i]} ({int(counts[i])})",
            Inferno256,
        )
        for i, m in enumerate(shown)
    ]
    bottom = []
    for i, d in enumerate(diffs):
        lim = float(np.nanmax(np.abs(d))) or 1.0  # symmetric: white = no change
        bottom.append(
            _image_figure(d, extent, f"{names[i]} - global", RdBu11[::-1], -lim, lim)
        )
    ncols = min(len(top), 6)
    figures = []
    for start in range(0, len(top), ncols):
        # Pad the last row so every difference sits under its mean.
        pad = [None] * (ncols - len(top[start : start + ncols]))
        figures += top[start : start + ncols] + pad
        figures += bottom[start : start + ncols] + pad
    note = (
        f" Patterns are shown binned {factor[0]} x {factor[0]}."
        if factor[0] > 1
        else ""
    )
    return _gallery(figures, "means", ncols), note


def _typical_positions(result, similarity) -> dict[int, int]:
    """Flat position of the member most like its cluster, for every non-empty row.

    The member with the largest similarity loading when the loadings are given,
    else the member nearest the median of the cluster in the embedding.
    """
    flat = data_of(result.labels).astype(np.int64).ravel()
    rows = np.where(flat >= 0, flat, -1)  # the rows of ``cluster_means``
    if result.noise_index is not None:
        rows[flat == NOISE] = result.noise_index
    points = embedding_points(result.embedding)
    sim = None
    if similarity is not None:
        sim = data_of(similarity).reshape(-1, flat.size)
    chosen = {}
    for row in range(len(_row_names(result))):
        members = np.flatnonzero(rows == row)
        if members.size == 0:
            continue
        if sim is not None and row < sim.shape[0]:
            chosen[row] = int(members[np.argmax(sim[row, members])])
        else:
            centre = np.median(points[members], axis=0)
            distance = np.linalg.norm(points[members] - centre, axis=1)
            chosen[row] = int(members[np.argmin(distance)])
    return chosen


def _typical_figures(result, signal, similarity):
    from bokeh.palettes import Inferno256

    from hyperspy_manifold._chunks import compute, pattern_stack

    labels = data_of(result.labels)
    chosen = _typical_positions(result, similarity)
    where = np.unravel_index(list(chosen.values()), labels.shape)
    # Only these patterns are read from a lazy signal.
    patterns = np.asarray(compute(pattern_stack(signal).vindex[where], False))
    names = _row_names(result)
    figures = []
    for (row, flat), pattern in zip(chosen.items(), patterns):
        shown, factor = shrink(pattern, MAX_PATTERN_SIZE)
        index = tuple(int(i) for i in np.unravel_index(flat, labels.shape))
        figures.append(
            _image_figure(
                log_scale(shown),
                _extent(signal.axes_manager.signal_axes, factor),
                f"{names[row]} at {index}",
                Inferno256,
            )
        )
    how = (
        "the largest similarity loading"
        if similarity is not None
        else "the point nearest the cluster's median in the embedding"
    )
    note = f"Log(1 + pattern) of the member with {how}; position in array order."
    return _gallery(figures, "typical", min(len(figures), 6)), note


def _similarity_figures(result, similarity):
    from bokeh.palettes import Viridis256

    data = data_of(similarity).astype(np.float64)
    labels = data_of(result.labels)
    data = data.reshape(
        (-1,) + (labels.shape if labels.ndim == 2 else (1, labels.size))
    )
    names = _row_names(result)
    figures = []
    for i, image in enumerate(data):
        shown, factor = shrink(image, MAX_MAP_SIZE)
        figures.append(
            _image_figure(
                shown,
                _extent(result.labels.axes_manager.signal_axes, factor),
                names[i] if i < len(names) else f"row {i}",
                Viridis256,
                size=220,
            )
        )
    return _gallery(figures, "similarity", min(len(figures), 5))


def _k_scan_figure(result):
    from bokeh.models import Span
    from bokeh.plotting import figure

    k = np.asarray(result.k_scan.axes_manager.signal_axes[0].axis, dtype=np.float64)
    counts = np.asarray(result.k_scan.data, dtype=np.float64)
    fig = figure(
        name="k_scan",
        width=520,
        height=340,
        x_axis_label="min_cluster_size k",
        y_axis_label="number of clusters",
        tools="wheel_zoom,pan,reset,save",
    )
    fig.scatter(k, counts, size=5, legend_label="clusters found")
    if result.k_model is not None:
        try:
            fitted = np.asarray(result.k_model.as_signal(show_progressbar=False).data)
            fig.line(
                k, fitted, color="darkorange", line_width=2, legend_label="fitted decay"
            )
        except Exception:  # a failed fit is already visible in the scan itself
            pass
    chosen = result.parameters.get("min_cluster_size")
    if isinstance(chosen, int | np.integer):
        fig.add_layout(
            Span(location=float(chosen), dimension="height", line_dash="dashed")
        )
        fig.title.text = f"chosen k = {chosen} ({result.parameters.get('min_cluster_size_rule', '')})"
    fig.toolbar.logo = None
    return fig


def _cluster_table(result, cmap) -> str:
    counts = np.asarray(result.counts)
    labels = data_of(result.labels)
    total = max(int((labels != MASKED).sum()), 1)
    values = list(range(result.n_clusters))
    if result.noise_index is not None:
        values.append(NOISE)
    colors = label_rgba(np.asarray(values, dtype=np.int64), cmap)
    rows = []
    for name, value, color, count in zip(_row_names(result), values, colors, counts):
        swatch = f'<span class="swatch" style="background:{_hex(color)}"></span>'
        rows.append(
            (name, swatch, str(value), str(int(count)), f"{100 * count / total:.1f} %")
        )
    return _html_table(
        rows, "clusters", ["row", "colour", "label", "patterns", "fraction"]
    )


def _tree_table(result) -> str:
    """Every node of ``result.tree`` (empty without one)."""
    tree = getattr(result, "tree", None)
    if not tree:
        return ""
    rows = [
        (
            html.escape(node["path"]),
            html.escape(node["parent"] or "-"),
            "split" if node["id"] is None else str(node["id"]),
            str(node["size"]),
            str(node["noise"]),
            html.escape(", ".join(node["children"]) or "-"),
        )
        for node in tree
    ]
    return _html_table(
        rows, "tree", ["cluster", "parent", "label", "patterns", "noise", "children"]
    )


def _data_table(signal) -> str:
    am = signal.axes_manager
    rows = [("title", html.escape(str(signal.metadata.General.title)))]
    original = signal.metadata.get_item("General.original_filename")
    if original:
        rows.append(("original_filename", html.escape(str(original))))
    rows.append(("lazy", str(bool(signal._lazy))))
    rows.append(("dtype", str(signal.data.dtype)))
    for axis in am.navigation_axes + am.signal_axes:
        kind = "navigation" if axis.navigate else "signal"
        rows.append(
            (
                f"{kind} axis {axis_label(axis)}",
                html.escape(
                    f"size {axis.size}, scale {axis.scale:g}, offset {axis.offset:g} "
                    f"{axis_units(axis)}"
                ),
            )
        )
    return _html_table(rows, "data-table")


def _headline(result) -> str:
    labels = data_of(result.labels)
    noise = int((labels == NOISE).sum())
    masked = int((labels == MASKED).sum())
    if labels.ndim == 1:
        shape = f"{labels.size}-position line"
    else:
        shape = " x ".join(str(n) for n in labels.shape[::-1])
    axes = result.labels.axes_manager.signal_axes
    size = " x ".join(f"{ax.size * ax.scale:g}" for ax in axes)
    size = f"{size} {axis_units(axes[0])}".strip()
    return (
        f"{result.n_clusters} clusters ({result.parameters.get('algorithm', '?')}), "
        f"{noise} noise positions, {masked} masked, on a {shape} scan ({size})."
    )


# ----------------------------------------------------------------------- public


def to_html(
    result,
    path,
    signal=None,
    similarity=None,
    summary: dict | None = None,
    max_points: int = 50000,
    random_state=0,
    cmap: str = "tab10",
    title: str | None = None,
) -> Path:
    """Write a self-contained interactive HTML report of ``result``.

    Parameters
    ----------
    result : ManifoldResult
        From ``manifold_decomposition(..., return_info=True)``.
    path : str or pathlib.Path
        The HTML file to write (written under a temporary name, then renamed).
    signal : BaseSignal, optional
        The clustered data: adds one real member pattern per cluster (only those
        patterns are read from a lazy signal) and a table of the data's axes.
    similarity : BaseSignal, optional
        From :func:`~hyperspy_manifold.get_similarity_loadings`.
    summary : dict, optional
        The dict returned by :func:`~hyperspy_manifold.plot.report.save_results` (the
        content of ``summary.json``), shown as the provenance table so page and
        file agree.  Default: the parameters and package versions.
    max_points : int
        Most positions drawn in the linked plots; above it a seeded random sample
        (``random_state``), and the page says so.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seed of that sample.
    cmap : str
        Matplotlib colormap of the cluster labels (as in the PNG figures).
    title : str, optional
        Page title; default from the signal's title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    from hyperspy_manifold.plot.report import _atomic_write, _jsonable, versions

    max_points = check_int("max_points", max_points, 1)
    labels = scan_labels(result, signal, "`to_html` reports")
    if summary is None:
        summary = {"parameters": result.parameters, "versions": versions()}
    summary = _jsonable(summary)
    if title is None:
        name = signal.metadata.General.title if signal is not None else ""
        title = f"Clustering report: {name}" if name else "Clustering report"

    linked, shown = _linked_figures(result, int(max_points), random_state, cmap)
    n_unmasked = int((labels != MASKED).sum())
    sampling_note = ""
    if shown.size < n_unmasked:
        sampling_note = (
            f"The linked plots show {shown.size} of the {n_unmasked} scan positions, "
            f"a random sample (seed {random_state}); the label map underneath, "
            f"faded, shows all of them."
        )
    means, means_note = _means_figures(result)
    roots = [linked, means]
    variables = {
        "heading": title,
        "headline": _headline(result),
        "sampling_note": sampling_note,
        "means_note": means_note,
        "cluster_table": _cluster_table(result, cmap),
        "tree_table": _tree_table(result),
        "has_typical": signal is not None,
        "has_similarity": similarity is not None,
        "has_k_scan": result.k_scan is not None,
        "k_scan_note": (
            "No k-scan: min_cluster_size was given, or the algorithm "
            f"({result.parameters.get('algorithm')!r}) has none."
        ),
        "data_table": _data_table(signal) if signal is not None else "",
        "provenance_table": _html_table(
            [(k, html.escape(v)) for k, v in flatten_summary(summary)], "provenance"
        ),
        # "</" would end the script element early.
        "summary_json": json.dumps(summary, indent=1).replace("</", "<\\/"),
    }
    if signal is not None:
        typical, variables["typical_note"] = _typical_figures(
            result, signal, similarity
        )
        roots.append(typical)
    if similarity is not None:
        roots.append(_similarity_figures(result, similarity))
    if result.k_scan is not None:
        roots.append(_k_scan_figure(result))
    page = file_html(
        roots, INLINE, title=title, template=TEMPLATE, template_variables=variables
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path
