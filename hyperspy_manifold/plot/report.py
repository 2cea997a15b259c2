"""Save a clustering result the way a microscopist wants to find it on disk.

:func:`save_results` writes, into one folder and atomically (a temporary name,
then a rename, so an interrupted run never leaves a half-written result):

* ``results.zspy``: the label map, with the embedding, cluster means, mean minus
  global mean, similarity loadings, the k-scan and the parameters stored as
  signals and values in its metadata (``hs.load`` restores them all; no pickle);
* PNG figures: label map with a calibrated scale bar, the embedding coloured by
  label, cluster mean patterns and mean minus global mean, similarity loadings,
  the k-scan with its fitted decay;
* ``summary.json``: parameters, versions, timings and cluster sizes.

Each figure is a function of this module (``figure_label_map``,
``figure_embedding`` ...), as are :func:`figure_overview`, the figure of
``ManifoldResult.plot``, and :func:`figure_dendrogram`, that of
``Hierarchy.plot_dendrogram``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from hyperspy_manifold.learn._labels import MASKED, NOISE
from hyperspy_manifold.learn._subcluster import cluster_names
from hyperspy_manifold.plot.colours import label_rgba, legend_handles
from hyperspy_manifold.plot.explore import (
    _pattern_extent,
    axis_label,
    navigation_extent,
    show_label_map,
)

FIGURES = (
    "labels.png",
    "embedding.png",
    "cluster_means.png",
    "similarity_loadings.png",
    "k_scan.png",
)


def versions() -> dict:
    """Versions of the packages a result depends on."""
    import importlib.metadata as md

    out = {}
    for name in (
        "hyperspy_manifold",
        "hyperspy",
        "pyxem",
        "rosettasciio",
        "numpy",
        "scipy",
        "scikit-learn",
        "umap-learn",
        "hdbscan",
        "dask",
        "matplotlib",
        "bokeh",
    ):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"array{value.shape}"
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def _scale_bar(ax, axis, width_px):
    """A scale bar of a round calibrated length (about a fifth of the image width)
    just below the image, so it hides no scan position."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    target = 0.2 * width_px * axis.scale
    if target <= 0:
        return
    power = 10 ** np.floor(np.log10(target))
    length = max(v * power for v in (1, 2, 5) if v * power <= target)
    bar = AnchoredSizeBar(
        ax.transData,
        length / axis.scale,
        f"{length:g} {axis.units}",
        "upper right",
        pad=0.3,
        color="black",
        frameon=False,
        size_vertical=max(width_px / 100, 0.3),
        bbox_to_anchor=(1, 0),
        bbox_transform=ax.transAxes,
        borderpad=0.2,
    )
    ax.add_artist(bar)


def _nav_image(signal) -> np.ndarray:
    data = np.asarray(signal.data)
    return data[None] if data.ndim == 1 else data


def figure_label_map(result):
    import matplotlib.pyplot as plt

    labels = _nav_image(result.labels).astype(int)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(label_rgba(labels), interpolation="nearest")
    ax.set_axis_off()
    axes = result.labels.axes_manager.signal_axes
    _scale_bar(ax, axes[0], labels.shape[-1])
    ax.set_title(f"Label map ({result.n_clusters} clusters)")
    # hierarchical names ("2.1") after ManifoldResult.subcluster
    ax.legend(
        handles=legend_handles(result),
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def figure_embedding(result):
    import matplotlib.pyplot as plt

    labels = np.asarray(result.labels.data).ravel().astype(int)
    emb = np.asarray(result.embedding.data).reshape(labels.size, -1)
    keep = labels != MASKED
    fig, ax = plt.subplots(figsize=(5, 4.5))
    y = emb[keep, 1] if emb.shape[1] > 1 else np.zeros(keep.sum())
    size = max(1.0, min(20.0, 4000.0 / max(keep.sum(), 1)))
    ax.scatter(emb[keep, 0], y, c=label_rgba(labels[keep]), s=size, linewidths=0)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.set_title("Embedding coloured by cluster")
    fig.tight_layout()
    return fig


def figure_overview(result, cmap: str = "tab10", point_size=None):
    """``ManifoldResult.plot``: the embedding coloured by cluster beside the label
    map on its calibrated scan axes, one legend naming the colours."""
    import matplotlib.pyplot as plt

    labels = np.asarray(result.labels.data)
    rgba = label_rgba(labels, cmap).reshape(-1, 4)
    emb = np.asarray(result.embedding.data).reshape(labels.size, -1)
    keep = labels.ravel() != MASKED
    fig, (ax_e, ax_m) = plt.subplots(1, 2, figsize=(10, 4.5))
    x = emb[keep, 0]
    y = emb[keep, 1] if emb.shape[1] > 1 else np.zeros_like(x)
    size = point_size or max(1.0, min(20.0, 4000.0 / max(keep.sum(), 1)))
    ax_e.scatter(x, y, c=rgba[keep], s=size, linewidths=0)
    ax_e.set_xlabel("UMAP 1")
    ax_e.set_ylabel("UMAP 2" if emb.shape[1] > 1 else "")
    ax_e.set_title("Embedding")
    # a line scan is one row of pixels; beyond two navigation axes the outer
    # ones are stacked as rows
    image = rgba.reshape((-1,) + (labels.shape[-1:] or (1,)) + (4,))
    show_label_map(ax_m, image, result.labels)
    ax_m.set_title("Label map")
    handles = legend_handles(result, cmap)
    if handles:
        ax_m.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8
        )
    fig.tight_layout()
    return fig


def figure_dendrogram(hierarchy, ax=None):
    """``Hierarchy.plot_dendrogram``: the Ward tree of ``hierarchy`` as a
    dendrogram (scipy), the automatic cut marked; on ``ax`` if given."""
    import matplotlib.pyplot as plt
    from scipy.cluster.hierarchy import dendrogram

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    n_leaves = hierarchy.n_leaves
    # scipy counts leaves under a node; the tree's 4th column is patterns
    counts = np.ones(n_leaves + len(hierarchy.tree))
    tree = hierarchy.tree.copy()
    for row, (a, b, _, _) in enumerate(tree):
        counts[n_leaves + row] = counts[int(a)] + counts[int(b)]
        tree[row, 3] = counts[n_leaves + row]
    dendrogram(tree, ax=ax, no_labels=True, color_threshold=0)
    k = hierarchy.n_clusters
    if 1 < k <= len(hierarchy.tree):
        low, high = hierarchy.tree[-k, 2], hierarchy.tree[-k + 1, 2]
        ax.axhline(
            0.5 * (low + high),
            color="C3",
            ls="--",
            lw=1,
            label=f"automatic cut: {k} clusters",
        )
        ax.legend(fontsize=8)
    ax.set_xlabel(f"{n_leaves} k-means clusters")
    ax.set_ylabel("Ward merge height")
    return ax.figure


#: Panels per row of the pattern grids (more clusters wrap onto further rows).
GRID_COLUMNS = 6
#: Gamma of the cluster-mean panels: the direct beam and the faint diffraction
#: are both visible on one linear colour bar of intensity.
MEAN_GAMMA = 0.3


def _signal_extent(signal):
    """``imshow`` extent and axis labels of the two signal axes (calibrated)."""
    axes = signal.axes_manager.signal_axes
    if len(axes) != 2:
        return None, ("", "")
    return _pattern_extent(signal), (axis_label(axes[0]), axis_label(axes[1]))


def direct_beam_mask(pattern: np.ndarray) -> np.ndarray:
    """Pixels of the direct beam in a (global mean) pattern: the connected region
    around the brightest pixel above half its intensity, grown by a few pixels
    (its tail), so that it does not set the colour scale of differences."""
    from scipy import ndimage

    img = np.nan_to_num(np.asarray(pattern, dtype=np.float64))
    if img.ndim != 2 or not np.isfinite(img).all() or img.max() <= img.min():
        return np.zeros(img.shape, dtype=bool)
    floor = np.median(img)
    bright = img - floor >= 0.5 * (img.max() - floor)
    regions, _ = ndimage.label(bright)
    peak = regions[np.unravel_index(np.argmax(img), img.shape)]
    grow = max(1, round(max(img.shape) / 64))
    return ndimage.binary_dilation(regions == peak, iterations=grow)


def _pattern_grid(stacks, titles, row_names, styles, extent=None, axis_names=None):
    """Panels of several stacks of images, ``GRID_COLUMNS`` per row, one colour bar
    per stack (one shared scale, so panels compare).

    ``styles`` holds, per stack, ``(cmap, norm, colour bar label)``; masked
    array values are drawn light grey.  With ``extent`` the panels are in
    calibrated units, labelled on the first column and the last row.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    n = stacks[0].shape[0]
    cols = min(n, GRID_COLUMNS)
    rows_per = -(-n // cols)
    n_rows = rows_per * len(stacks)
    # panel height follows the images' aspect (wide maps of line-like scans)
    aspect = min(1.0, max(0.15, stacks[0].shape[-2] / max(stacks[0].shape[-1], 1)))
    fig, axes = plt.subplots(
        n_rows,
        cols,
        figsize=(2.3 * cols + 1.4, (2.1 * aspect + 0.6) * n_rows + 0.3),
        squeeze=False,
        layout="constrained",
    )
    for r, (stack, (cmap, norm, label)) in enumerate(zip(stacks, styles)):
        block = axes[r * rows_per : (r + 1) * rows_per]
        colormap = matplotlib.colormaps[cmap].with_extremes(bad=(0.85, 0.85, 0.85))
        shown = None
        for i, ax in enumerate(block.ravel()):
            if i >= n:
                ax.set_axis_off()
                continue
            shown = ax.imshow(
                stack[i],
                cmap=colormap,
                norm=norm,
                extent=extent,
                interpolation="nearest",
            )
            first_col, last_row = i % cols == 0, i // cols == rows_per - 1
            if extent is None or not first_col:
                ax.set_yticks([])
            elif axis_names is not None:
                ax.set_ylabel(axis_names[1], fontsize=8)
            if extent is None or not (last_row or i + cols >= n):
                ax.set_xticks([])
            elif axis_names is not None:
                ax.set_xlabel(axis_names[0], fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_title(
                f"{titles[i]}" if i else f"{row_names[r]}\n{titles[i]}", fontsize=9
            )
        bar = fig.colorbar(shown, ax=block.ravel().tolist(), shrink=0.9)
        bar.set_label(label, fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return fig


def _finite_limit(values, quantile=99.5) -> float:
    values = np.abs(np.asarray(values, dtype=np.float64))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1.0
    return float(np.percentile(values, quantile)) or float(values.max()) or 1.0


def figure_cluster_means(result):
    """Cluster mean patterns (gamma scale) over mean minus the global mean (the
    direct beam masked, a symmetric scale), calibrated axes, one colour bar each."""
    from matplotlib.colors import Normalize, PowerNorm

    means = np.asarray(result.cluster_means.data, dtype=float)
    diff = np.asarray(result.mean_minus_global.data, dtype=float)
    if means.ndim == 2:  # a single row
        means, diff = means[None], diff[None]
    titles = [f"cluster {name}" for name in cluster_names(result)]
    if result.noise_index is not None:
        titles.append("noise")
    shown = np.clip(np.nan_to_num(means), 0, None)
    top = float(shown.max()) or 1.0
    # every row's mean minus the global mean gives the global mean back
    beam = direct_beam_mask(means[0] - diff[0])
    masked = np.ma.masked_array(diff, np.broadcast_to(beam, diff.shape))
    lim = _finite_limit(diff[:, ~beam] if (~beam).any() else diff)
    extent, names = _signal_extent(result.cluster_means)
    return _pattern_grid(
        [shown, masked],
        titles,
        ["cluster mean", "mean - global mean"],
        [
            ("inferno", PowerNorm(MEAN_GAMMA, vmin=0, vmax=top), "intensity"),
            (
                "RdBu_r",
                Normalize(-lim, lim),
                "difference (direct beam masked)" if beam.any() else "difference",
            ),
        ],
        extent=extent,
        axis_names=names,
    )


def figure_similarity(result, similarity):
    """Similarity maps of every cluster on the calibrated scan, one colour bar."""
    from matplotlib.colors import Normalize

    data = np.asarray(similarity.data, dtype=float)
    if data.ndim == 1:
        data = data[None, None]
    elif data.ndim == 2:
        data = (
            data[:, None]
            if len(similarity.axes_manager.signal_axes) == 1
            else data[None]
        )
    titles = [f"cluster {name}" for name in cluster_names(result)]
    if result.noise_index is not None:
        titles.append("noise")
    axes = similarity.axes_manager.signal_axes
    extent = navigation_extent(similarity) if len(axes) in (1, 2) else None
    names = (axis_label(axes[0]), axis_label(axes[1]) if len(axes) == 2 else "")
    finite = data[np.isfinite(data)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0, 1)
    return _pattern_grid(
        [np.ma.masked_invalid(data)],
        titles[: data.shape[0]],
        ["similarity"],
        [("viridis", Normalize(low, high if high > low else low + 1), "similarity")],
        extent=extent,
        axis_names=names,
    )


def k_at_edge(result) -> str | None:
    """Which edge of the scanned range the chosen ``min_cluster_size`` sits on
    ("lower" or "upper"), or None.  The lower edge only counts where the scan
    could have gone lower (above HDBSCAN's ``min_samples``)."""
    if result.k_scan is None:
        return None
    chosen = result.parameters.get("min_cluster_size")
    if not isinstance(chosen, int | np.integer):
        return None
    k = np.asarray(result.k_scan.axes_manager.signal_axes[0].axis)
    min_samples = result.parameters.get("min_samples") or 1
    if k.size > 1 and chosen >= k.max():
        return "upper"
    if k.size > 1 and chosen <= k.min() and k.min() > min_samples:
        return "lower"
    return None


def figure_k_scan(result):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.8))
    if result.k_scan is None:
        ax.text(
            0.5,
            0.5,
            "no k-scan: min_cluster_size was given\n"
            f"(algorithm {result.parameters.get('algorithm')!r})",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    k = result.k_scan.axes_manager.signal_axes[0].axis
    ax.plot(k, np.asarray(result.k_scan.data), "o", ms=3, label="clusters found")
    model = result.k_model
    if model is not None:
        try:
            ax.plot(k, model.as_signal().data, "-", label="fitted decay")
        except Exception:  # a failed fit is reported by the k-scan itself
            pass
    chosen = result.parameters.get("min_cluster_size")
    if isinstance(chosen, int | np.integer):
        ax.axvline(chosen, color="k", ls="--", lw=1, label=f"chosen k = {chosen}")
    ax.set_xlabel("min_cluster_size k")
    ax.set_ylabel("number of clusters")
    handles, names = ax.get_legend_handles_labels()
    selection = getattr(result, "selection", None)
    if selection is not None:
        # The silhouette in feature space decides k: one curve per UMAP run.
        ax2 = ax.twinx()
        for run, sil in enumerate(np.asarray(selection["silhouettes"])):
            (line,) = ax2.plot(
                selection["k_values"],
                sil,
                "-",
                lw=1.2 if run == selection["run"] else 0.7,
                alpha=1.0 if run == selection["run"] else 0.5,
                color="C3",
            )
        ax2.axhline(
            selection["structure_ratio"] * selection["reference_silhouette"],
            color="C3",
            ls=":",
            lw=1,
        )
        ax2.set_ylabel("silhouette in feature space", color="C3")
        handles += [line, ax2.lines[-1]]
        names += ["silhouette (bold: chosen run)", "no-structure limit"]
    ax.set_xscale("log")
    ax.legend(handles, names, fontsize=7, loc="lower left")
    edge = k_at_edge(result)
    if edge is not None:
        message = (
            f"chosen k = {chosen} is at the {edge} edge of the scanned range: "
            "a wider k_range may find a better partition"
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        ax.set_title(message.replace(": ", ":\n"), fontsize=8, color="C3")
    fig.tight_layout()
    return fig


def _results_signal(result, similarity, parameters):
    """The label map with every other result stored as signals in its metadata."""
    labels = result.labels.deepcopy()
    labels.metadata.General.title = "Cluster labels"
    node = "HyperspyManifold.results"
    for name in (
        "embedding",
        "probabilities",
        "cluster_means",
        "cluster_stds",
        "mean_minus_global",
        "global_mean",
        "k_scan",
        "confidence",
    ):
        value = getattr(result, name, None)
        if value is not None:
            value = value.deepcopy()
            if value._lazy:
                value.compute(show_progressbar=False)
            labels.metadata.set_item(f"{node}.{name}", value)
    if similarity is not None:
        sim = similarity.deepcopy()
        if sim._lazy:
            sim.compute(show_progressbar=False)
        labels.metadata.set_item(f"{node}.similarity_loadings", sim)
    labels.metadata.set_item(f"{node}.counts", np.asarray(result.counts))
    labels.metadata.set_item(f"{node}.n_clusters", int(result.n_clusters))
    labels.metadata.set_item(f"{node}.parameters", json.dumps(_jsonable(parameters)))
    return labels


def _atomic_write(target: Path, write):
    """Call ``write(tmp_path)`` then move the result onto ``target``."""
    target = Path(target)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tmp = tmp_dir / target.name
        write(tmp)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old.{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def save_results(
    result,
    out_dir,
    similarity=None,
    summary: dict | None = None,
    figures: bool = True,
) -> dict:
    """Write ``results.zspy``, the PNG figures and ``summary.json`` into ``out_dir``.

    Parameters
    ----------
    result : ManifoldResult
        From ``manifold_decomposition(..., return_info=True)``.
    out_dir : str or pathlib.Path
        Created if needed.  Each file is written under a temporary name and
        renamed, so an interrupted call never leaves a partial file.
    similarity : Signal2D, optional
        From :func:`~hyperspy_manifold.get_similarity_loadings`.
    summary : dict, optional
        Extra entries for ``summary.json`` (input file, timings ...).

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    # The caller's matplotlib backend is left alone: every figure is saved to a
    # file by its format and closed (none is shown), whatever the backend.
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parameters = dict(result.parameters)
    labels = np.asarray(result.labels.data)
    sizes = {str(i): int((labels == i).sum()) for i in range(result.n_clusters)}
    info = {
        "n_clusters": int(result.n_clusters),
        "cluster_sizes": sizes,
        "noise_positions": int((labels == NOISE).sum()),
        "masked_positions": int((labels == MASKED).sum()),
        "navigation_shape": list(labels.shape),
        "parameters": _jsonable(parameters),
        "versions": versions(),
        "files": ["results.zspy", *FIGURES, "summary.json"] if figures else None,
    }
    info.update(_jsonable(summary or {}))
    results = _results_signal(result, similarity, parameters)
    _atomic_write(out / "results.zspy", lambda p: results.save(p, overwrite=True))
    if figures:
        makers = {
            "labels.png": lambda: figure_label_map(result),
            "embedding.png": lambda: figure_embedding(result),
            "cluster_means.png": lambda: figure_cluster_means(result),
            "k_scan.png": lambda: figure_k_scan(result),
        }
        if similarity is not None:
            makers["similarity_loadings.png"] = lambda: figure_similarity(
                result, similarity
            )
        for name, make in makers.items():
            fig = make()
            _atomic_write(
                out / name, lambda p, fig=fig: fig.savefig(p, dpi=100, format="png")
            )
            plt.close(fig)
    text = json.dumps(info, indent=2)
    _atomic_write(out / "summary.json", lambda p: p.write_text(text))
    return info
