"""
Similarity loadings and cluster mean patterns
=============================================

Li et al. (2019) embed the patterns of a 4D-STEM scan with UMAP, cluster the
embedding with HDBSCAN and then look back at the data in two ways:

- the *similarity loadings* (their Fig. 4): for every cluster mean pattern
  :math:`\\mu_i` and every pattern :math:`x_j`, :math:`1 / (\\varepsilon + \\lVert x_j -
  \\mu_i \\rVert_2)`, one map per cluster. Unlike the hard label map they are
  continuous: a grain boundary, where the probe sees two grains, is half
  similar to both;
- the mean pattern of every cluster, and the mean minus the global mean pattern
  (their Fig. 7), which shows what makes a cluster different from the rest.

The data are a small simulated silver film: four grains and an amorphous patch.
"""

# %%
# Load, centre, cluster
# ---------------------

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

from hyperspy_manifold.data import polycrystalline_film

# Progress bars would clutter the output of the examples.
hs.preferences.General.show_progressbar = False

s, truth = polycrystalline_film(shape=(24, 24), detector=64, n_grains=4, random_state=0)
s.center_direct_beam(method="center_of_mass", mask=(32, 32, 5))
s.calibration.center = None

result = s.manifold_decomposition(features="cepstrum", random_state=0, return_info=True)
result

# %%
# The embedding coloured by cluster, beside the label map (noise in grey).

fig = result.plot()

# %%
# Choosing the number of clusters automatically
# ----------------------------------------------
# In each of three UMAP runs the HDBSCAN tree is cut at every
# ``min_cluster_size`` k of a geometric scan; every candidate partition is scored
# by its silhouette in the scaled feature space, and the best over all runs and
# k is kept. The dotted line is the silhouette that structureless data with the
# same variances would reach (times 1.2): below it the scan is one cluster.

sel = result.selection
print("rule:", sel["rule"], "- silhouette", round(sel["silhouette"], 3))
fig, ax = plt.subplots(figsize=(6, 3))
for run, sil in enumerate(sel["silhouettes"]):
    ax.plot(sel["k_values"], sil, lw=2 if run == sel["run"] else 1, label=f"run {run}")
ax.axhline(
    sel["structure_ratio"] * sel["reference_silhouette"],
    color="k",
    ls=":",
    label="no-structure limit",
)
ax.axvline(result.parameters["min_cluster_size"], color="k", ls="--", label="chosen k")
ax.set_xscale("log")
ax.set_xlabel("min_cluster_size")
ax.set_ylabel("silhouette in feature space")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The confidence map: the share of runs that agree with the chosen label.

result.confidence.plot(cmap="viridis", vmin=0, vmax=1)

# %%
# Similarity loadings
# -------------------
# ``get_similarity_loadings`` takes the clusters from ``s.learning_results`` and
# reuses the cluster sums stored there, so the data are read once more only for
# the distances. HDBSCAN noise, if any, becomes its own last map.

similarity = s.get_similarity_loadings()
similarity

# %%

n_maps = similarity.axes_manager.navigation_size
fig, axes = plt.subplots(1, n_maps, figsize=(2.6 * n_maps, 2.8))
for i, ax in enumerate(np.atleast_1d(axes)):
    ax.imshow(similarity.data[i], cmap="inferno")
    name = "noise" if i == result.noise_index else f"cluster {i}"
    ax.set_title(f"similarity to {name}")
    ax.axis("off")
fig.tight_layout()

# %%
# The probe overlaps two grains near their boundary (the ground truth records
# the share of the neighbouring grain): there the similarity to the cluster of
# the grain itself drops.

labels = np.asarray(result.labels.data)
members = labels >= 0
own = np.take_along_axis(similarity.data, np.where(members, labels, 0)[None], axis=0)[0]
overlap = truth.boundary_weight[members] > 0.1
print(f"similarity to own cluster inside grains:  {own[members][~overlap].mean():.2e}")
print(f"similarity to own cluster near boundaries: {own[members][overlap].mean():.2e}")

# %%
# Cluster mean patterns, and mean minus global mean
# -------------------------------------------------
# Bright spots in the difference are reflections that belong to the cluster;
# dark ones are reflections of the other clusters it lacks. The amorphous
# cluster shows its diffuse ring and lacks every Bragg spot.

n_rows = result.cluster_means.axes_manager.navigation_size
fig, axes = plt.subplots(2, n_rows, figsize=(2.3 * n_rows, 4.8))
for i in range(n_rows):
    mean = result.cluster_means.data[i]
    diff = result.mean_minus_global.data[i]
    limit = np.abs(diff).max()
    axes[0, i].imshow(np.log1p(mean), cmap="magma")
    axes[1, i].imshow(diff, cmap="RdBu_r", vmin=-limit, vmax=limit)
    name = "noise" if i == result.noise_index else f"cluster {i}"
    axes[0, i].set_title(f"{name} ({result.counts[i]})")
for ax in axes.ravel():
    ax.axis("off")
axes[0, 0].text(-8, 32, "mean", rotation=90, va="center")
axes[1, 0].text(-8, 32, "mean − global", rotation=90, va="center")
fig.tight_layout()

# %%
# The same results stay available through HyperSpy's accessors, e.g.
# ``s.get_cluster_labels()``, ``s.get_decomposition_factors()`` (the cluster
# means) and ``s.plot_cluster_results()``. With ``loadings="similarity"``,
# ``manifold_decomposition`` writes the similarity loadings as the decomposition
# loadings.
#
# Reference: Li et al. (2019), *npj Computational Materials* 5, 5.
