"""
The pyxem workflow: centre, calibrate, integrate, then learn
============================================================

The steps of pyxem's tutorials, followed by this package's features and
learning on the same signal: a raw scan (counts, no calibration) -> find and
centre the direct beam with ``center_direct_beam`` -> calibrate the detector in
1/Å -> pyxem's azimuthal integration -> this package's angular average, which
takes the beam centre from the same calibration and so agrees with pyxem's
integration -> manifold clustering and iterative NMF -> HyperSpy's
``plot_cluster_results``.

The data are simulated (nothing is downloaded): a labelled silver film with
eight grains, an amorphous patch and a direct beam that drifts across the scan
(descan) plus random jitter.
"""

# %%
# A raw scan
# ----------
# :func:`~hyperspy_manifold.data.polycrystalline_film` returns a calibrated
# signal; its counts are put in a new, uncalibrated pyxem
# ``ElectronDiffraction2D``, as a detector file loads (a measured scan would be
# ``hs.load("scan.mib", lazy=True)``). The film's detector scale stands in for a
# calibration measured on a standard.

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
import pyxem as pxm

from hyperspy_manifold.data import polycrystalline_film
from hyperspy_manifold.learn.metrics import adjusted_rand

# Progress bars would clutter the output of the examples.
hs.preferences.General.show_progressbar = False

film, truth = polycrystalline_film(shape=(20, 20), detector=64, random_state=0)
k_scale = film.axes_manager.signal_axes[0].scale  # 1/Å per pixel
s = pxm.signals.ElectronDiffraction2D(np.asarray(film.data))
s

# %%
# Centre the direct beam
# ----------------------
# pyxem finds the beam in every pattern (here the centre of mass inside 5 pixels
# of the detector centre) and shifts each pattern so that the beam lands on
# pixel ``(kx / 2, ky / 2)``. The shifts are the descan.

shifts = s.get_direct_beam_position(method="center_of_mass", mask=(32, 32, 5))
s.center_direct_beam(shifts=shifts)
shifts.plot()

# %%
# Calibrate
# ---------
# pyxem keeps the beam centre in the offsets of the signal axes: the centre is
# the pixel where the calibrated axes are 0, ``s.calibration.center``.
# ``center_direct_beam`` moves the data, not the axes, so the centre is set
# here: the pixel the beam was moved to. (``s.calibration.center = None``, the
# detector centre ``((kx - 1) / 2, (ky - 1) / 2)``, is half a pixel away.) Setting
# ``s.calibration.scale`` afterwards keeps the centre; the units follow pyxem's
# spelling of 1/Å.

s.calibration.center = [n / 2 for n in s.axes_manager.signal_shape]
s.calibration.scale = k_scale
s.calibration.units = "$\\AA^{-1}$"
print("beam centre (x, y) in pixels:", s.calibration.center)

# %%
# pyxem's azimuthal integration
# -----------------------------
# The mean intensity at every radius about the calibrated centre. The direct
# beam, the {111}/{200} and the {220}/{311} rings of silver show as peaks.

r_max = 30 * k_scale  # 30 pixels: every ring lies fully on the detector
npt = 30
profile = s.get_azimuthal_integral1d(npt=npt, radial_range=(0, r_max), mean=True)
mean_profile = profile.mean(axis=(0, 1))

# %%
# This package's features on the same signal
# ------------------------------------------
# ``set_signal_type("manifold")`` adds this package's methods and keeps the
# calibration. The angular average with one 360-degree sector per ring of one
# pixel is the azimuthal mean at every radius: the same numbers as pyxem's
# integration, because both take the centre from ``s.calibration.center``.

s.set_signal_type("manifold")
edges = np.linspace(0, r_max, npt + 1)
ring_means = s.get_angular_average(rings=edges, angle_step=360).mean(axis=(0, 1))
print(
    "largest difference from pyxem:",
    f"{np.abs(ring_means.data - mean_profile.data).max() / mean_profile.data.max():.1%}",
)

fig, ax = plt.subplots(figsize=(6, 3))
# pyxem labels each radial bin with its inner edge, this package with its centre
centres = edges[:-1] + 0.5 * (edges[1] - edges[0])
ax.semilogy(centres, mean_profile.data, "o", mfc="none", label="pyxem")
ax.semilogy(centres, ring_means.data, "-", label="hyperspy_manifold")
rings = [0.25, 0.57, 1.35]
for edge in rings:
    ax.axvline(edge, color="k", ls="--", lw=0.8)
ax.set_xlabel("k (1/Å)")
ax.set_ylabel("mean intensity")
ax.legend()
fig.tight_layout()

# %%
# The features for learning: the angular average in 5-degree sectors of the two
# rings between the dashed lines, where a grain's spots light up a few sectors.

aa = s.get_angular_average(rings=rings, angle_step=5)
aa

# %%
# Manifold clustering
# -------------------
# UMAP + HDBSCAN on the angular average (one UMAP run, to keep the example
# quick). The clusters are written to ``s.learning_results`` the way HyperSpy's
# ``cluster_analysis`` writes them, so HyperSpy's cluster tools work unchanged.

result = s.manifold_decomposition(
    features=aa, n_runs=1, random_state=0, return_info=True
)
print(
    f"{result.n_clusters} clusters, adjusted Rand index against the truth "
    f"{adjusted_rand(result.labels, truth.labels):.2f}"
)

# %%
# HyperSpy's ``plot_cluster_results``: the label map, the mean pattern of every
# cluster and the distance of every position to each cluster.

s.plot_cluster_results()

# %%
# Iterative NMF
# -------------
# The same features factorised with iterative NMF (components whose maps
# correlate are merged); the result is an ordinary HyperSpy decomposition.

s.bragg_nmf(
    features=aa, n_components=24, merge_threshold=0.4, n_models=3, random_state=0
)
s.plot_decomposition_loadings(cmap="viridis", per_row=6)
