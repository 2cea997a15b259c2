"""``ManifoldResult``: everything :func:`manifold_decomposition` found, as signals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperspy_manifold.learn._labels import NOISE


@dataclass
class ManifoldResult:
    """Results of :func:`~hyperspy_manifold.manifold_decomposition`.

    Attributes
    ----------
    labels : BaseSignal
        Integer label map with the calibrated navigation axes of the data (its
        signal axes): 0..K-1 = clusters, -1 (``NOISE``) = HDBSCAN noise,
        -2 (``MASKED``) = positions excluded by ``navigation_mask``.
    embedding : Signal1D
        The navigation axes of the data and one signal axis "UMAP component" of
        length ``n_components``; NaN at masked positions.
    probabilities : BaseSignal
        Membership strength in [0, 1] (HDBSCAN ``probabilities_``; 0 for noise;
        1 for k-means and spectral clustering; with ``n_fit``, the share of the
        neighbours' votes won by patterns labelled by a vote); NaN at masked
        positions.
    cluster_means, cluster_stds, mean_minus_global : BaseSignal
        Stacks of patterns in data space, navigation axis "Cluster index": rows
        0..K-1 are the clusters in label order, then one last row for the noise
        patterns when there is noise (``noise_index``).
    global_mean : BaseSignal
        Mean of every unmasked pattern.
    counts : numpy.ndarray
        Number of patterns of every row.
    n_clusters : int
        K, the number of clusters (noise not counted).
    noise_index : int or None
        Row of the noise in the stacks and in ``learning_results`` (K), or None.
    k_scan, k_model : Signal1D, Model1D or None
        Number of HDBSCAN clusters against ``min_cluster_size`` (in the chosen
        run) and the fitted ``ClusterCountDecay`` model (for inspection; the
        count no longer decides k), when ``min_cluster_size="auto"``.
    confidence : BaseSignal or None
        With ``min_cluster_size="auto"``: the share of the independent UMAP runs
        whose best partition gives each position the chosen label (patterns
        labelled by ``n_fit``'s vote: the share of their neighbours' votes won);
        NaN at masked positions.
    selection : dict or None
        With ``min_cluster_size="auto"``: the evidence of the automatic choice
        (see :mod:`hyperspy_manifold.learn.selection`): ``rule``
        (``"silhouette"`` or ``"no structure"``), the chosen ``run``, its
        ``silhouette`` and the ``reference_silhouette`` of structureless data,
        ``structure``, ``refined``, and the silhouette and HDBSCAN cluster count
        of every scanned k of every run (``k_values``, ``silhouettes``,
        ``counts``).
    features : BaseSignal
        The feature signal that was clustered (lazy when computed from the data).
    estimators : dict
        The fitted ``scaler``, ``pca`` (or None), ``umap`` (list: the first fit
        and every bootstrap round), ``clusterer`` and ``embedder`` (the chosen
        run); ``reduced`` (the fitted patterns in the scaled, PCA-reduced
        feature space), their flat navigation indices ``fit_rows`` and
        ``fit_labels``: what :class:`~hyperspy_manifold.ManifoldClustering`
        predicts new scans from.
    parameters : dict
        Every parameter used, including the resolved defaults.
    tree : list of dict or None
        After :meth:`subcluster`: the hierarchy of the clusters, one node per
        cluster ever made (``path`` such as ``"2.1"``, ``parent`` path, ``id`` in
        ``labels`` or None once split, ``size``, ``children``, ``noise``); see
        :mod:`hyperspy_manifold.learn._subcluster`.  None for a flat result.
    """

    labels: object
    embedding: object
    probabilities: object
    cluster_means: object
    cluster_stds: object
    mean_minus_global: object
    global_mean: object
    counts: np.ndarray
    n_clusters: int
    noise_index: int | None
    features: object = None
    k_scan: object = None
    k_model: object = None
    confidence: object = None
    selection: dict | None = None
    estimators: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    tree: list | None = None

    def __repr__(self):
        noise = int((self.labels.data == NOISE).sum())
        return (
            f"<ManifoldResult: {self.n_clusters} clusters, {noise} noise positions, "
            f"algorithm={self.parameters.get('algorithm')!r}>"
        )

    @property
    def names(self) -> list[str]:
        """Display name of every cluster 0..K-1: its path in ``tree`` (``"2.1"``),
        or its label for a flat result."""
        from hyperspy_manifold.learn._subcluster import cluster_names

        return cluster_names(self)

    def subcluster(self, label, signal, **kwargs) -> ManifoldResult:
        """Cluster the members of one cluster again; a new result with the tree.

        The members of cluster ``label`` are clustered by
        :func:`~hyperspy_manifold.manifold_decomposition` with every other
        position masked, so their features are scaled and embedded among
        themselves.  The new result's label map is this one with the cluster
        replaced by its children: child 0 keeps the id ``label``, the others
        take the new ids K, K+1, ... (K = ``n_clusters``); members the
        sub-clustering calls noise become noise.  ``tree`` records the
        hierarchy and ``names`` the paths (``"2"`` split into ``"2.0"``,
        ``"2.1"``), used by the figures and the HTML report.  Call it again on
        the new result to go deeper.

        Parameters
        ----------
        label : int or str
            The cluster: its label in ``labels`` or its path in ``tree``
            (``"2.1"``).
        signal : BaseSignal
            The clustered scan (the result does not keep the data).  It is not
            modified: its ``learning_results`` are left as they were (the
            sub-clustering does not write them).
        **kwargs
            Passed to :func:`~hyperspy_manifold.manifold_decomposition`
            (``features``, ``algorithm``, ``n_clusters``, ``random_state`` ...),
            not ``navigation_mask`` nor ``return_info``.
            ``features=result.features`` reuses this result's features instead
            of computing them from the members.

        Returns
        -------
        ManifoldResult
            A new result (this one is not modified).  The embedding is this
            result's (the children shown where their members were); each
            sub-clustering's own result, with its embedding of the members, is
            in ``estimators["subclusters"][path]`` and its parameters in
            ``parameters["subclusters"]``.

        Examples
        --------
        >>> r = hm.manifold_decomposition(s, return_info=True)  # doctest: +SKIP
        >>> r2 = r.subcluster(1, s, algorithm="kmeans", n_clusters=2)  # doctest: +SKIP
        >>> r2.names  # doctest: +SKIP
        ['0', '1.0', '2', '1.1']
        """
        from hyperspy_manifold.learn._subcluster import subcluster

        return subcluster(self, label, signal, **kwargs)

    def explore(self, signal=None, selector: str = "lasso", cmap: str = "tab10"):
        """Linked embedding, label map and pattern panels (matplotlib).

        A lasso (or rectangle) in the embedding highlights the selected positions
        in the label map and shows their mean pattern; a click in the label map
        marks the position in the embedding and shows its pattern.  Without
        ``signal`` the cluster mean patterns stand in.  Returns the
        :class:`~hyperspy_manifold.plot.explore.ManifoldExplorer`: keep a
        reference to it while you use the figure.
        """
        from hyperspy_manifold.plot.explore import ManifoldExplorer

        return ManifoldExplorer(self, signal=signal, selector=selector, cmap=cmap)

    def to_html(self, path, **kwargs):
        """Write a self-contained interactive HTML report; see
        :func:`hyperspy_manifold.plot.html_report.to_html` for the keywords."""
        from hyperspy_manifold.plot.html_report import to_html

        return to_html(self, path, **kwargs)

    def label_colors(self, cmap="tab10") -> np.ndarray:
        """RGBA colour of every label value in ``labels`` (flattened); see
        :mod:`hyperspy_manifold.plot.colours`."""
        from hyperspy_manifold.plot.colours import label_rgba

        return label_rgba(self.labels, cmap).reshape(-1, 4)

    def plot(self, cmap="tab10", point_size=None):
        """Embedding coloured by cluster beside the real-space label map.

        Noise is light grey, masked positions white.  Returns the matplotlib figure.
        """
        from hyperspy_manifold.plot.report import figure_overview

        return figure_overview(self, cmap=cmap, point_size=point_size)
