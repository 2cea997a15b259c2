"""The colours of a label map, the same in every drawing.

Cluster ``i`` (the i-th smallest cluster id, see
:func:`~hyperspy_manifold.learn._labels.canonical_labels`) takes colour ``i`` of
a matplotlib colormap (``"tab10"`` unless the caller chooses another), cycling
when there are more clusters than colours; noise is light grey
(:data:`NOISE_COLOR`) and masked positions are white (:data:`MASKED_COLOR`).
The static figures, ``ManifoldResult.plot``, the explorer and the HTML report
all colour through :func:`label_rgba` and name the colours through
:func:`legend_handles`, so a cluster has one colour everywhere.

matplotlib is imported inside the functions, not by this module.
"""

from __future__ import annotations

import numpy as np

from hyperspy_manifold.learn._labels import MASKED, NOISE, canonical_labels

#: Colour of noise points and pixels (light grey).
NOISE_COLOR = (0.75, 0.75, 0.75, 1.0)
#: Colour of masked (excluded) pixels (white).
MASKED_COLOR = (1.0, 1.0, 1.0, 1.0)
#: Colormap of the clusters when the caller does not choose one.
DEFAULT_CMAP = "tab10"
#: Most clusters a legend names (the first ones, in label order).
LEGEND_MAX_CLUSTERS = 20


def cluster_colours(n_clusters: int, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """``(n_clusters, 4)`` RGBA of the clusters 0..n_clusters-1.

    The colours cycle: with ten colours (``"tab10"``) cluster 10 is coloured
    like cluster 0.

    >>> colours = cluster_colours(12)
    >>> colours.shape
    (12, 4)
    >>> bool((colours[10] == colours[0]).all())
    True
    """
    import matplotlib

    colormap = matplotlib.colormaps[cmap]
    return np.asarray(colormap(np.arange(n_clusters) % getattr(colormap, "N", 256)))


def label_rgba(labels, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """RGBA of every label: clusters from ``cmap`` (the i-th smallest id gets
    colour i), noise (any negative label but -2) grey, masked (-2) white.

    ``labels`` is a label map (a signal or an array); the result has its shape
    and one more axis of length 4.

    >>> rgba = label_rgba([[7, -1], [-2, 7]])
    >>> rgba.shape
    (2, 2, 4)
    >>> rgba[0, 1].tolist(), rgba[1, 0].tolist()  # noise grey, masked white
    ([0.75, 0.75, 0.75, 1.0], [1.0, 1.0, 1.0, 1.0])
    >>> bool((rgba[0, 0] == cluster_colours(1)[0]).all())  # cluster 7: colour 0
    True
    """
    codes, ids = canonical_labels(np.asarray(getattr(labels, "data", labels)))
    rgba = np.empty(codes.shape + (4,))
    rgba[:] = MASKED_COLOR
    rgba[codes == NOISE] = NOISE_COLOR
    members = codes >= 0
    rgba[members] = cluster_colours(ids.size, cmap)[codes[members]]
    return rgba


def legend_handles(result, cmap: str = DEFAULT_CMAP) -> list:
    """matplotlib legend handles naming the colours of ``result``'s label map.

    One square per cluster in label order, named by ``result.names`` (the tree
    path after ``subcluster``, such as ``"2.1"``; at most
    :data:`LEGEND_MAX_CLUSTERS`), then ``"noise"`` and ``"masked"`` when the map
    has noise or masked positions.
    """
    from matplotlib.patches import Patch

    from hyperspy_manifold.learn._subcluster import cluster_names

    codes, _ = canonical_labels(
        np.asarray(getattr(result.labels, "data", result.labels))
    )
    names = cluster_names(result)[:LEGEND_MAX_CLUSTERS]
    colours = cluster_colours(len(names), cmap)
    handles = [Patch(color=c, label=name) for c, name in zip(colours, names)]
    if (codes == NOISE).any():
        handles.append(Patch(color=NOISE_COLOR, label="noise"))
    if (codes == MASKED).any():
        handles.append(Patch(facecolor=MASKED_COLOR, edgecolor="k", label="masked"))
    return handles
