"""Automatic number of clusters: the partition that best separates the features.

UMAP with ``min_dist=0`` packs every structure into compact clumps, but how many
clumps make one structure depends on the run and on HDBSCAN's
``min_cluster_size`` (k): a small k tears a tilt series into its excitation
variants, a large k merges the small grains of a film. So k is not read off the
embedding; the candidate partitions are judged in the space the patterns live in.

1. **Candidates.** Every run (an independent UMAP seed) gives one HDBSCAN
   single-linkage tree of its embedding (``min_samples`` fixed); every k of a
   geometric scan re-condenses it into a partition. HDBSCAN noise is given the
   cluster of its nearest clustered neighbour in the embedding, so every
   candidate labels every pattern.
2. **Refinement.** Every candidate also gives a refined twin: k-means in the
   feature space below, started from the candidate's cluster means, which
   moves patterns that sit between structures (probe overlap at grain
   boundaries) to the nearer mean.
3. **Score.** The mean silhouette (Rousseeuw 1987) of every candidate in the
   scaled, PCA-reduced feature space -- not in the embedding, whose distances
   UMAP does not preserve. Splitting one structure lowers it (the pieces are
   close), merging two distinct ones lowers it (a spread-out cluster).
4. **Choice.** Over all runs, k and twins, the candidate with the most clusters
   among those within ``TOLERANCE`` (95 %) of the best silhouette: the mean
   silhouette favours the coarsest level of nested structure (two phases over
   the orientations they hold) and is a noisy estimate, so of the partitions it
   cannot tell apart the finest is kept. A run whose layout tore a structure
   loses to one that did not (consensus over runs).
5. **Is there structure at all?** The best silhouette is compared with the best
   k-means silhouette (K = 2..8) of a structureless reference: Gaussian data with
   the variances of the features along every principal axis (the reference of
   the gap statistic, Tibshirani et al. 2001). Below ``STRUCTURE_RATIO`` times
   the reference the data are called one cluster.
6. **Confidence.** The partition every run would have chosen on its own is
   matched to the chosen one (Hungarian assignment on the contingency table);
   the confidence of a position is the share of runs that give it the chosen
   label.

The rule and its evidence (silhouette of every k of every run, the reference,
the run chosen, whether the refined twin was chosen) are returned for the
result. The rule and its constants were chosen on the tuning split of
``benchmarks/accuracy`` only.
"""

from __future__ import annotations

import warnings

import numpy as np

from hyperspy_manifold import _progress
from hyperspy_manifold._random import as_generator
from hyperspy_manifold.learn._kscan import check_k_range

#: Silhouettes are computed on at most this many patterns (a seeded subsample).
MAX_SILHOUETTE = 3000
#: The best silhouette must exceed the structureless reference by this factor.
#: On the tuning scenarios: pure Poisson noise of one pattern 0.8x, the weakest
#: real structure (four zone axes at +-20 deg mistilt) 1.36x.
STRUCTURE_RATIO = 1.2
#: Candidates whose silhouette is at least this share of the best one count as
#: equally good, and the finest of them is kept (on the tuning scenarios 0.9 and
#: 0.95 did best; 0.8-0.85 over-split films with many grains).
TOLERANCE = 0.95
#: k-means cluster counts tried on the structureless reference, and its size
#: (the silhouette of k-means on Gaussian data barely depends on the size).
REFERENCE_K = range(2, 9)
REFERENCE_SIZE = 1000
#: Default HDBSCAN ``min_samples`` of the scan: small, so that the tree resolves
#: small structures (the scan's k decides what counts as a cluster).
MIN_SAMPLES = 5
#: From this many fitted patterns the seeded UMAP runs of the automatic
#: partition are shared out between this process and one worker process per
#: further core (each run is single-threaded; below, a worker's start costs
#: more than a run).
PARALLEL_RUNS_MIN = 2000
#: Seconds an idle worker process waits for the next call before it exits.
WORKER_TIMEOUT = 60


def assign_noise(emb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels with every noise point (-1) given its nearest clustered neighbour's."""
    noise = labels < 0
    if not noise.any() or noise.all():
        return labels
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=1).fit(emb[~noise])
    nearest = nn.kneighbors(emb[noise], return_distance=False)[:, 0]
    out = labels.copy()
    out[noise] = labels[~noise][nearest]
    return out


def candidate_partitions(emb: np.ndarray, k_values, min_samples: int):
    """``(tree, [(k, labels with noise, labels assigned, probabilities)])``.

    One HDBSCAN fit gives the single-linkage tree (it does not depend on k with
    ``min_samples`` fixed); every k re-condenses it.
    """
    import hdbscan
    from hdbscan._hdbscan_tree import compute_stability, condense_tree, get_clusters

    tree = hdbscan.HDBSCAN(
        min_cluster_size=int(k_values[0]), min_samples=int(min_samples)
    ).fit(emb)
    slt = tree.single_linkage_tree_.to_numpy()
    out = []
    for k in k_values:
        condensed = condense_tree(slt, int(k))
        labels, prob = get_clusters(condensed, compute_stability(condensed))[:2]
        labels = np.asarray(labels, dtype=np.int64)
        out.append((int(k), labels, assign_noise(emb, labels), np.asarray(prob)))
    return slt, out


class Silhouette:
    """Mean silhouette of partitions of one point set (distances computed once).

    Above ``MAX_SILHOUETTE`` points a seeded subsample is scored (the same rows
    for every partition, so scores compare).  Every partition costs one product
    of the distance matrix with its one-hot membership (the sum of distances
    from every point to every cluster): the exact silhouette of scikit-learn's
    ``silhouette_score`` (singletons score 0), 20-50x faster than it on a
    precomputed matrix (no validation and chunked reduction per call).
    """

    def __init__(self, Z: np.ndarray, rng: np.random.Generator):
        from scipy.spatial.distance import pdist, squareform

        n = Z.shape[0]
        self.rows = (
            np.sort(rng.choice(n, MAX_SILHOUETTE, replace=False))
            if n > MAX_SILHOUETTE
            else np.arange(n)
        )
        self.D = squareform(pdist(np.asarray(Z, dtype=np.float64)[self.rows]))

    def __call__(self, labels: np.ndarray) -> float:
        return self.many([labels])[0]

    def many(self, partitions, columns: int = 1024) -> list[float]:
        """Mean silhouettes of several partitions: the memberships of as many
        as fit in ``columns`` one-hot columns go through one product with the
        distance matrix (one read of it, a matrix product instead of
        matrix-vector products: about 10 times faster than one product per
        partition on 3000 patterns)."""
        n = self.rows.size
        coded = []
        for labels in partitions:
            ids, codes = np.unique(np.asarray(labels)[self.rows], return_inverse=True)
            coded.append((ids.size, codes))
        scores = [-1.0] * len(coded)
        todo = [i for i, (k, _) in enumerate(coded) if 2 <= k < n]
        while todo:
            batch, width = [], 0
            while todo and (not batch or width + coded[todo[0]][0] <= columns):
                batch.append(todo.pop(0))
                width += coded[batch[-1]][0]
            onehot = np.zeros((n, width))
            offsets = np.cumsum([0] + [coded[i][0] for i in batch])
            for i, start in zip(batch, offsets):
                onehot[np.arange(n), start + coded[i][1]] = 1.0
            # distance from every point to each cluster, summed
            sums = self.D @ onehot
            for i, start, stop in zip(batch, offsets, offsets[1:]):
                scores[i] = _silhouette(sums[:, start:stop], coded[i][1])
        return scores


def _silhouette(sums: np.ndarray, codes: np.ndarray) -> float:
    """Mean silhouette from the summed distances of every point to every
    cluster (``codes`` 0..k-1, every cluster present; singletons score 0)."""
    n, k = sums.shape
    counts = np.bincount(codes, minlength=k)
    own = counts[codes]
    a = sums[np.arange(n), codes] / np.maximum(own - 1, 1)
    means = sums / counts
    means[np.arange(n), codes] = np.inf
    b = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[own == 1] = 0.0
    return float(np.nan_to_num(s).mean())


def reference_silhouette(Z: np.ndarray, rng: np.random.Generator) -> float:
    """Best k-means silhouette (K in ``REFERENCE_K``) of structureless data.

    Gaussian points with the per-axis variance of ``Z`` along its principal axes
    (the gap statistic's reference): what clustering finds where there is
    nothing to find, for data of this size, dimension and variance spectrum.
    """
    from sklearn.cluster import KMeans

    Z = np.asarray(Z, dtype=np.float64)
    n = min(Z.shape[0], MAX_SILHOUETTE)
    centred = Z - Z.mean(axis=0)
    # principal-axis standard deviations (the data may not be PCA-rotated)
    sv = np.linalg.svd(
        centred[rng.choice(Z.shape[0], n, replace=False)], compute_uv=False
    )
    sd = sv / np.sqrt(max(n - 1, 1))
    G = rng.standard_normal((n, sd.size)) * sd
    score = Silhouette(G, rng)
    best = -1.0
    for k in REFERENCE_K:
        if k >= n:
            break
        with single_thread():
            labels = KMeans(
                k, n_init=1, max_iter=100, random_state=int(rng.integers(2**31))
            ).fit_predict(G)
        best = max(best, score(labels))
    return best


def refine(Z: np.ndarray, labels: np.ndarray, seed) -> np.ndarray:
    """k-means in feature space started from the means of ``labels`` (0..K-1)."""
    from sklearn.cluster import KMeans

    K = int(labels.max()) + 1
    means = np.stack([Z[labels == c].mean(axis=0) for c in range(K)])
    with single_thread():
        return KMeans(K, init=means, n_init=1, random_state=seed).fit_predict(Z)


def single_thread():
    """k-means of a few thousand points in one thread: scikit-learn's OpenMP
    threads spin against each other on a busy machine (measured 100x slower on
    2 loaded cores) for work that takes milliseconds."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def match_labels(reference: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``labels`` renamed to best agree with ``reference`` (Hungarian matching);
    clusters left unmatched get -1."""
    from scipy.optimize import linear_sum_assignment

    r_ids, r = np.unique(reference, return_inverse=True)
    l_ids, lab = np.unique(labels, return_inverse=True)
    table = np.zeros((l_ids.size, r_ids.size), dtype=np.int64)
    np.add.at(table, (lab, r), 1)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.full(l_ids.size, -1, dtype=np.int64)
    mapping[rows] = r_ids[cols]
    return mapping[lab]


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Consecutive labels 0..K-1, the largest cluster first (ties: first seen)."""
    ids, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse].astype(np.int64)


def finest_near_best(items, best_sil):
    """The candidate with the most clusters among those whose silhouette is within
    ``TOLERANCE`` of the best (ties: the higher silhouette).

    The mean silhouette favours the coarsest level of nested structure (two
    phases over the six orientations they hold: merging two close clusters
    costs little), and it is a noisy estimate; among the partitions it cannot
    tell from the best, the finest keeps every structure it can resolve.
    """
    floor = best_sil - (1 - TOLERANCE) * abs(best_sil)  # also for a negative best
    near = [item for item in items if item[0] >= floor]
    return max(near, key=lambda item: (item[1], item[0]))


def select_partition(Z, embeddings, k_values, min_samples, rng) -> dict:
    """Choose the partition of the patterns (rows of ``Z``) over runs and k.

    Parameters
    ----------
    Z : (n, d) array
        Scaled (and PCA-reduced) features: the space partitions are judged in.
    embeddings : list of (n, m) arrays
        One UMAP embedding per run.
    k_values : array of int
        The ``min_cluster_size`` values scanned.
    min_samples : int
        HDBSCAN ``min_samples`` (fixed over the scan).
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``labels`` (0..K-1, every pattern), ``hdbscan_labels`` and
        ``probabilities`` (the chosen candidate before noise assignment, -1 =
        noise, and HDBSCAN's membership strengths), ``run``,
        ``min_cluster_size``, ``silhouette`` (of the chosen partition),
        ``best_silhouette`` (of all candidates), ``reference_silhouette``,
        ``structure`` (bool), ``refined`` (bool), ``confidence`` (share of runs
        agreeing, per pattern), ``counts`` and ``silhouettes`` (per run, per k),
        ``k_values``, ``rule``.
    """
    Z = np.asarray(Z, dtype=np.float64)
    score = Silhouette(Z, rng)
    seed = int(rng.integers(2**31))
    counts = np.zeros((len(embeddings), len(k_values)), dtype=int)
    sils = np.full((len(embeddings), len(k_values)), np.nan)
    items = []  # (silhouette, K, run, k, hdbscan labels, labels, probabilities, refined)
    for run, emb in enumerate(embeddings):
        _, candidates = candidate_partitions(emb, k_values, min_samples)
        first = {}  # distinct partitions of this run: first candidate giving each
        for j, (_, raw, labels, _) in enumerate(candidates):
            counts[run, j] = int(raw.max()) + 1 if raw.size else 0
            first.setdefault(labels.tobytes(), j)
        distinct = [candidates[j] for j in first.values()]
        # every distinct partition of two clusters or more and its refined twin,
        # scored together
        split = [c for c in distinct if c[2].max() >= 1]
        moved = [refine(Z, c[2], seed) for c in split]
        scores = score.many([c[2] for c in distinct] + moved)
        seen = dict(zip(first, scores))
        for (k, raw, labels, prob), twin, twin_score in zip(
            split, moved, scores[len(distinct) :]
        ):
            sil = seen[labels.tobytes()]
            items.append((sil, labels.max() + 1, run, k, raw, labels, prob, False))
            items.append((twin_score, twin.max() + 1, run, k, raw, twin, prob, True))
        for j, candidate in enumerate(candidates):
            sils[run, j] = seen[candidate[2].tobytes()]
    if items:
        best_sil = max(item[0] for item in items)
        chosen = finest_near_best(items, best_sil)
        sil, _, run, k, raw, labels, prob, refined = chosen
    else:  # every candidate of every run is one cluster (or all noise)
        best_sil = sil = -1.0
        run, k, refined = 0, int(k_values[-1]), False
        raw = np.zeros(Z.shape[0], dtype=np.int64)
        labels, prob = raw.copy(), np.ones(Z.shape[0])
    reference = reference_silhouette(Z, rng)
    structure = bool(labels.max() >= 1 and best_sil > STRUCTURE_RATIO * reference)
    if not structure:
        labels = np.zeros_like(labels)
    labels = relabel_by_size(labels)
    agree = np.zeros(labels.size)
    for other_run in range(len(embeddings)):
        own = [item for item in items if item[2] == other_run]
        if not structure or not own:
            agree += 1 if not structure else 0
            continue
        other = finest_near_best(own, max(item[0] for item in own))[5]
        agree += match_labels(labels, other) == labels
    return {
        "labels": labels,
        "hdbscan_labels": raw,
        "probabilities": prob,
        "run": int(run),
        "min_cluster_size": int(k),
        "silhouette": float(sil),
        "best_silhouette": float(best_sil),
        "reference_silhouette": float(reference),
        "structure": structure,
        "refined": refined,
        "confidence": agree / len(embeddings),
        "counts": counts,
        "silhouettes": sils,
        "k_values": np.asarray(k_values),
        "rule": "silhouette" if structure else "no structure",
    }


def _fit_run(embedder, X, reduced, knn):
    """One UMAP run (in a worker process): its embedding and fitted embedder."""
    return embedder.fit_transform(X, reduced=reduced, knn=knn), embedder


def run_workers(embedders, n: int) -> int:
    """Worker processes for the UMAP runs: one per core beyond this process's,
    at most one per run after the first; none for fewer than
    ``PARALLEL_RUNS_MIN`` patterns, for unseeded runs (UMAP then uses every core
    itself) or inside a daemonic process (a dask worker: no children)."""
    import multiprocessing

    from joblib import cpu_count

    if (
        len(embedders) < 2
        or n < PARALLEL_RUNS_MIN
        or any(seed is None for e in embedders for seed in e.umap_seeds)
        or multiprocessing.current_process().daemon
    ):
        return 0
    return max(0, min(cpu_count() - 1, len(embedders) - 1))


def fit_runs(embedders, X, reduced, knn, steps=None) -> list:
    """The embeddings of the UMAP runs (each embedder fitted in place).

    With worker processes (:func:`run_workers`) run ``i`` goes to a worker
    unless ``i`` is a multiple of ``workers + 1``; this process fits the others
    meanwhile (three runs on two cores: two here, one in the worker, whose
    start in a new process is hidden behind them).  A seeded run gives the same
    embedding in either process.
    """
    workers = run_workers(embedders, reduced[2].shape[0])
    futures = {}
    if workers:
        from joblib.externals.loky import get_reusable_executor

        one_thread = dict.fromkeys(
            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"
        )
        executor = get_reusable_executor(
            max_workers=workers, timeout=WORKER_TIMEOUT, env=one_thread
        )
        for run, embedder in enumerate(embedders):
            if run % (workers + 1):
                # (the features are not sent: a run with ``reduced`` never reads them)
                futures[run] = executor.submit(_fit_run, embedder, None, reduced, knn)
    embeddings = [None] * len(embedders)
    for run, embedder in enumerate(embedders):
        if run not in futures:
            if steps is not None:
                steps.set_description(f"UMAP run {run + 1}/{len(embedders)}")
            embeddings[run] = embedder.fit_transform(X, reduced=reduced, knn=knn)
            if steps is not None:
                steps.update(1)
    for run, future in futures.items():
        try:
            embedding, fitted = future.result()
        except Exception as error:  # noqa: BLE001 (a broken pool: run it here)
            warnings.warn(
                f"UMAP run {run + 1} failed in a worker process ({error!r}); "
                "running it in this process.",
                RuntimeWarning,
                stacklevel=3,
            )
            embeddings[run] = embedders[run].fit_transform(X, reduced=reduced, knn=knn)
        else:
            vars(embedders[run]).update(vars(fitted))
            embeddings[run] = embedding
        if steps is not None:
            steps.update(1)
    return embeddings


def choose_partition(embedders, X, k_range, min_samples, seed):
    """Automatic partition over the runs (see the module docstring).

    Returns ``(labels, probabilities, embedder of the chosen run, its
    embedding, Z, k_info)``.
    """
    from hyperspy_manifold.learn._kscan import fit_count_decay, k_scan_signal

    first = embedders[0]
    Z = first.fit_reduce(X)
    reduced = (first.scaler_, first.pca_, Z)
    # one neighbour search for every run (they differ only in their seeds)
    knn = first.neighbours(Z) if len(embedders) > 1 else None
    with _progress.steps(len(embedders) + 1, "UMAP", False) as steps:
        steps.reset(total=len(embedders) + 1)
        embeddings = fit_runs(embedders, X, reduced, knn, steps)
        steps.set_description("choosing the partition")
    n = Z.shape[0]
    k_values = check_k_range(k_range, n)
    if min_samples is None:
        min_samples = max(1, min(MIN_SAMPLES, n - 1, int(k_values[0])))
    # one BLAS thread: two spin against each other on busy cores (an SVD of
    # 3000 x 50: 0.2-0.3 s with two threads, 3 ms with one; the 64 x 64 film's
    # whole choice 4.0-4.7 s against 3.7-3.9 s, the same partition and
    # silhouettes to the last bit)
    with single_thread():
        info = select_partition(
            Z, embeddings, k_values, min_samples, as_generator(seed)
        )
    steps.update(1)
    run = info["run"]
    if not info["structure"]:
        warnings.warn(
            "No cluster structure found: the best partition's silhouette "
            f"({info['silhouette']:.3f}) is not above {STRUCTURE_RATIO:g} x that of structureless "
            f"data with the same variances ({info['reference_silhouette']:.3f}); "
            "every pattern is put in one cluster.",
            UserWarning,
        )
    ks = k_scan_signal(k_values, info["counts"][run])
    model, ok = fit_count_decay(ks)
    info.update(k_scan=ks, k_model=model, fit_ok=ok, min_samples=int(min_samples))
    prob = np.where(info["hdbscan_labels"] >= 0, info["probabilities"], 0.0).astype(
        np.float64
    )
    return info["labels"], prob, embedders[run], embeddings[run], Z, info
