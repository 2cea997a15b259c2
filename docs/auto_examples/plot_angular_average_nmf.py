"""
Angular average + iterative NMF: grain mapping in a polycrystalline film
========================================================================

Bruefach, Ophus & Scott (2022) map the grains of a polycrystalline film without
labels: every pattern becomes its *angular average* (the mean intensity in
azimuthal sectors of each diffraction ring, so a grain's spots light up a few
sectors), the features are factorised by non-negative matrix factorisation with
deliberately too many components, and components whose maps correlate are merged
until no two do (Allen et al. 2021). The maps are then split into connected
regions, one per grain, with an area and a Feret diameter each.

The data are a simulated, labelled silver film: eight grains near low-index zone
axes, an amorphous patch, bending, thickness variation, probe overlap at grain
boundaries and descan.
"""

# %%
# Load the data
# -------------

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

import hyperspy_manifold as hm
from hyperspy_manifold.data import polycrystalline_film

# Progress bars would clutter the output of the examples.
hs.preferences.General.show_progressbar = False

s, truth = polycrystalline_film(shape=(32, 32), detector=64, n_grains=8, random_state=0)
s

# %%
# Centre the direct beam
# ----------------------
# The polar features are taken about the beam centre, which here drifts by a
# pixel across the scan (descan) plus random jitter. pyxem finds the direct beam
# in every pattern (centre of mass inside a disk of 5 pixels around the detector
# centre) and shifts the patterns so that it sits on the detector centre. pyxem
# keeps the centre in the offsets of the signal axes: ``calibration.center =
# None`` puts it on the detector centre, where the beam now is.

s.center_direct_beam(method="center_of_mass", mask=(32, 32, 5))
s.calibration.center = None

# %%
# Transform: radial variance and angular average
# ----------------------------------------------
# The radial variance (variance of the intensity over azimuth at each radius)
# is large for spots on a ring and close to zero for an amorphous pattern: it
# finds the amorphous patch, but not the orientation of the grains.

rv = s.get_radial_variance(normalize=True)
crystallinity = rv.sum(axis=-1).T  # a navigation-shaped image
crystallinity.metadata.General.title = "Integrated radial variance"
crystallinity.plot(cmap="viridis")

# %%
# The angular average sees orientations: a grain's spots light up a few sectors
# of a ring. The rings are cut at minima of the radial profile of the maximum
# pattern of the scan. ``rings="auto"`` looks for such minima itself and stores
# the profile in the metadata; on this small scan it finds only the deep minimum
# outside the direct beam, so the ring edges are given here: the first ring holds
# the {111} and {200} reflections of silver, the second {220} and beyond.

auto = s.get_angular_average()
profile = auto.metadata.HyperspyManifold.angular_average.max_pattern_profile
k = (np.arange(profile.size) + 0.5) * s.axes_manager.signal_axes[0].scale
rings = [0.25, 0.57, 1.35]

fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(k, profile)
for edge in rings:
    ax.axvline(edge, color="k", ls="--")
ax.set_xlabel("k (1/Å)")
ax.set_ylabel("max-pattern intensity")
ax.set_title("radial profile and ring edges")
fig.tight_layout()

aa = s.get_angular_average(rings=rings, angle_step=5)
aa

# %%
# Learn: iterative NMF with merging
# ---------------------------------
# NMF starts from deliberately too many components (here 24, three per expected
# grain; by default three times the elbow of the PCA scree); maps with a Pearson
# correlation of at least ``merge_threshold`` (0.4-0.5 for the angular average in
# the paper) are merged and the data factorised again. Of ``n_models`` random
# starts per round the one with the lowest reconstruction error is kept.

info = s.bragg_nmf(
    features=aa,
    n_components=24,
    merge_threshold=0.4,
    n_models=5,
    random_state=0,
    return_info=True,
)
print(
    "components per round:", " -> ".join(str(h["n_components"]) for h in info.history)
)

# %%
# The result is an ordinary HyperSpy decomposition: the loadings are the
# component maps, the factors the mean pattern of every component.

s.plot_decomposition_loadings(cmap="viridis", per_row=5)

# %%
# Spatial separation and the grain-size table
# -------------------------------------------
# Two grains with the same orientation share a component, so every map is
# thresholded (Yen's method), small gaps are closed and connected regions become
# classes of their own. The component whose mean pattern has the lowest radial
# variance is the amorphous one and is not a grain.

patterns = s.get_decomposition_factors()
patterns.set_signal_type("manifold")
pattern_rv = patterns.get_radial_variance(normalize=True).data.sum(axis=-1)
amorphous = int(np.argmin(pattern_rv))
regions = hm.separate_regions(
    s.get_decomposition_loadings(), min_size=5, exclude_components=[amorphous]
)

print(f"component {amorphous} is amorphous; {len(regions.table)} grains found")
print(f"{'grain':>5} {'comp.':>5} {'area':>12} {'Feret diameter':>15}")
for row in regions.table:
    print(
        f"{row['region']:5d} {row['component']:5d} "
        f"{row['area']:8.0f} {regions.units}² {row['feret_diameter_max']:11.1f} {regions.units}"
    )

# %%
# Score against the ground truth
# ------------------------------
# The scores of Bruefach et al.: precision of "some grain" against "no grain"
# (precision_A), and for every true grain the true positive rate of the region
# that overlaps it most (TPR_G). Positions where the probe overlaps two grains
# are left out of TPR_G.

single = np.where(truth.boundary_weight == 0, truth.labels, -2)
precision = hm.precision_any(
    regions.labels, truth.labels, truth_background=truth.amorphous_label
)
table, mean_tpr = hm.tpr_per_grain(
    regions.labels, single, truth_background=truth.amorphous_label
)
print(f"precision_A = {precision:.3f}, mean TPR_G = {mean_tpr:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
grains = np.ma.masked_equal(truth.labels, truth.amorphous_label)
axes[0].imshow(grains, cmap="tab20", interpolation="nearest")
axes[0].set_title("ground truth (white: amorphous)")
found = np.asarray(regions.labels.data)
axes[1].imshow(np.ma.masked_less(found, 0), cmap="tab20", interpolation="nearest")
axes[1].set_title("NMF regions (white: none)")
for ax in axes:
    ax.axis("off")
fig.tight_layout()

# %%
# References: Bruefach, Ophus & Scott (2022), *Microscopy and Microanalysis* 28,
# 1998; Allen et al. (2021), iterative NMF for grain mapping.
