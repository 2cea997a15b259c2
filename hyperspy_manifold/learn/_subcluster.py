"""Sub-clustering: one cluster of a result clustered again, its labels kept in a tree.

:func:`subcluster` runs :func:`~hyperspy_manifold.manifold_decomposition` on the
members of one cluster only (every other position masked), so the features are
scaled and embedded among those patterns alone and the differences inside the
cluster are not drowned by the differences between clusters.

Numbering of the flat label map (the ``labels`` of the new result stay
``0..K-1``, the convention of :mod:`~hyperspy_manifold.learn._labels`): when a
result with K clusters has cluster ``L`` split into ``m`` children, child 0
keeps the id ``L`` and children 1..m-1 take the new ids ``K, K+1, ..., K+m-2``;
every other cluster keeps its id.  Members the sub-clustering calls noise
(HDBSCAN) become noise (-1).

The tree is a list of nodes, one dict each, in the order they were made:

- ``path``: the hierarchical name, ``"2"`` for cluster 2 of the first
  clustering, ``"2.0"``, ``"2.1"`` for its children, ``"2.1.0"`` ...;
- ``parent``: the ``path`` of the parent node (None at the top level);
- ``id``: the node's label in the flat label map, None once it is split;
- ``size``: number of its patterns (children and noise of a split node);
- ``children``: the paths of its children (empty for a leaf);
- ``noise``: the members the sub-clustering left as noise (split nodes).

The leaves are exactly the clusters of the label map, so ``names[i]`` (the path
of the leaf with id ``i``) names every cluster in figures and reports.
"""

from __future__ import annotations

import numbers

import numpy as np

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold.learn._labels import MASKED, NOISE

#: Fewest members a cluster needs to be sub-clustered (the minimum of
#: ``manifold_decomposition``).
MIN_MEMBERS = 3


def base_tree(result) -> list[dict]:
    """The tree of a result: its own, or one top-level leaf per cluster."""
    tree = getattr(result, "tree", None)
    if tree is not None:
        return [dict(node, children=list(node["children"])) for node in tree]
    counts = np.asarray(result.counts)
    return [
        {
            "path": str(i),
            "parent": None,
            "id": i,
            "size": int(counts[i]),
            "children": [],
            "noise": 0,
        }
        for i in range(result.n_clusters)
    ]


def cluster_names(result) -> list[str]:
    """Display name of every cluster 0..K-1: its tree path, or its label."""
    tree = getattr(result, "tree", None)
    names = [str(i) for i in range(result.n_clusters)]
    for node in tree or ():
        if node["id"] is not None and 0 <= node["id"] < len(names):
            names[node["id"]] = node["path"]
    return names


def _leaf_id(result, label, tree) -> int:
    """The flat label of ``label`` (a cluster id or the path of a leaf)."""
    n = result.n_clusters
    known = f"0..{n - 1}" if n else "none: the result has no cluster"
    if isinstance(label, str):
        for node in tree:
            if node["path"] == label:
                if node["id"] is None:
                    raise ValueError(
                        f"`label` {label!r} is already split into "
                        f"{node['children']}: sub-cluster one of those."
                    )
                return int(node["id"])
        leaves = [node["path"] for node in tree if node["id"] is not None]
        raise ValueError(
            f"`label` {label!r} is no cluster path of the result; the clusters are "
            f"{leaves}."
        )
    if isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise TypeError(
            "`label` must be a cluster label (int) or a cluster path (str, e.g. "
            f"'2.1'), got {type(label).__name__}."
        )
    label = int(label)
    if label == NOISE:
        raise ValueError(
            f"`label` {NOISE} is noise (no cluster), it can not be sub-clustered: "
            f"give a cluster label ({known})."
        )
    if label == MASKED:
        raise ValueError(
            f"`label` {MASKED} marks masked positions, not a cluster: give a "
            f"cluster label ({known})."
        )
    if not 0 <= label < n:
        raise ValueError(
            f"`label` must be a cluster label of the result ({known}), got {label}."
        )
    return label


def subcluster(result, label, signal, **kwargs):
    """Cluster the members of one cluster again; see :meth:`ManifoldResult.subcluster`."""
    from hyperspy_manifold.learn.manifold import cluster_result, manifold_decomposition

    for name in ("return_info", "navigation_mask"):
        if name in kwargs:
            raise TypeError(
                f"`{name}` is set by `subcluster` (the members of the cluster are "
                "clustered, every other position is masked): leave it out."
            )
    tree = base_tree(result)
    leaf = _leaf_id(result, label, tree)
    parent_labels = np.asarray(result.labels.data, dtype=np.int64)
    if navigation_shape(signal) != parent_labels.shape:
        raise ValueError(
            "`signal` must be the clustered scan, with the navigation shape of the "
            f"result {parent_labels.shape}, got {navigation_shape(signal)}."
        )
    node = next(n for n in tree if n["id"] == leaf)
    members = parent_labels == leaf
    n_members = int(members.sum())
    if n_members < MIN_MEMBERS:
        raise ValueError(
            f"Cluster {node['path']!r} has {n_members} member(s); `subcluster` "
            f"needs at least {MIN_MEMBERS}: choose a larger cluster."
        )
    before = signal.learning_results
    try:
        child = manifold_decomposition(
            signal, navigation_mask=~members, return_info=True, **kwargs
        )
    finally:
        # the signal is the caller's: its learning_results stay as they were
        signal.learning_results = before
    child_labels = np.asarray(child.labels.data, dtype=np.int64)
    m = child.n_clusters
    if m == 0:
        raise ValueError(
            f"Sub-clustering cluster {node['path']!r} found no cluster (every member "
            "is noise): try other settings, e.g. a smaller `min_cluster_size` or "
            "algorithm='kmeans' with `n_clusters`."
        )

    k = result.n_clusters
    new_ids = np.array([leaf] + list(range(k, k + m - 1)), dtype=np.int64)
    labels = parent_labels.copy()
    code = child_labels[members]
    labels[members] = np.where(code >= 0, new_ids[np.maximum(code, 0)], NOISE)

    probabilities = np.array(result.probabilities.data, dtype=np.float64)
    probabilities[members] = np.asarray(child.probabilities.data)[members]

    node["id"] = None
    node["noise"] = int((code == NOISE).sum())
    for j in range(m):
        path = f"{node['path']}.{j}"
        node["children"].append(path)
        tree.append(
            {
                "path": path,
                "parent": node["path"],
                "id": int(new_ids[j]),
                "size": int((code == j).sum()),
                "children": [],
                "noise": 0,
            }
        )

    # the label map keeps ids 0..K+m-2 unless the parent had an empty cluster
    ids = np.unique(labels[labels >= 0])
    labels = np.where(labels >= 0, np.searchsorted(ids, labels), labels)
    for n in tree:
        if n["id"] is not None:
            n["id"] = int(np.searchsorted(ids, n["id"]))

    parameters = dict(result.parameters)
    parameters["n_clusters"] = int(ids.size)
    parameters["tree"] = [dict(n, children=list(n["children"])) for n in tree]
    parameters["subclusters"] = list(parameters.get("subclusters", [])) + [
        {"path": node["path"], "parameters": child.parameters}
    ]
    parameters.pop("cluster_ids", None)
    estimators = {
        "parent": result.estimators,
        "subclusters": {
            **result.estimators.get("subclusters", {}),
            node["path"]: child,
        },
    }
    new = cluster_result(
        signal,
        labels,
        embedding=np.asarray(result.embedding.data),
        probabilities=probabilities,
        parameters=parameters,
        features=result.features,
        estimators=estimators,
        show_progressbar=kwargs.get("show_progressbar"),
    )
    new.tree = tree
    return new
