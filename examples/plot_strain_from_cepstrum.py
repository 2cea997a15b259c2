"""
Lattice vectors and strain maps from the cepstrum
=================================================

The peaks of the exit-wave power cepstrum (Padgett et al. 2020) away from zero
quefrency are real-space lattice vectors: a pattern of spots on the reciprocal
lattice :math:`g` gives cepstral peaks at the vectors :math:`r` with
:math:`r \\cdot g` integer. Tracking two of them across a scan with sub-pixel
precision gives the lattice at every position; comparing it with a reference
lattice gives the deformation gradient :math:`D = G\\,G_\\mathrm{ref}^{-1}`, and
from it the infinitesimal strain :math:`\\varepsilon = (D + D^T)/2 - I` and the
rotation. Because spot *intensities* hardly move the cepstral peaks, this works
on thick, slightly mistilted crystals where disk-position fitting struggles.

The data here are made in a few lines: a square lattice (a = 4 Å) stretched by
up to 2 % along x in the right part of the scan, with a region rotated by 1°,
recorded as spot patterns with Poisson noise.
"""

# %%
# Simulate a strained crystal
# ---------------------------
# Every scan position has its own deformation ``D = R(theta) (I + eps)`` of the
# real-space lattice; its spots sit on the reciprocal lattice ``inv(D A).T``.

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

import hyperspy_manifold as hm

# Progress bars would clutter the output of the examples.
hs.preferences.General.show_progressbar = False

NY, NX = 24, 24  # scan positions
N = 64  # detector pixels
A0 = 4.0  # lattice parameter, Å
DK = 1 / (6.4 * A0)  # 1/Å per detector pixel: spots every 6.4 pixels
rng = np.random.default_rng(0)

y, x = np.mgrid[:NY, :NX]
true_exx = 0.02 * np.clip((x - 8) / (NX - 9), 0, 1)  # left third unstrained
true_theta = np.radians(1.0) * (np.hypot(x - 15, y - 7) < 4.5)
deformation = np.zeros((NY, NX, 2, 2))
deformation[..., 0, 0] = np.cos(true_theta) * (1 + true_exx)
deformation[..., 0, 1] = -np.sin(true_theta)
deformation[..., 1, 0] = np.sin(true_theta) * (1 + true_exx)
deformation[..., 1, 1] = np.cos(true_theta)

# Reciprocal lattice vectors (columns) of every position, in detector pixels.
reciprocal = np.linalg.inv(A0 * deformation).swapaxes(-1, -2) / DK
hk = np.stack(np.meshgrid(np.arange(-6, 7), np.arange(-6, 7))).reshape(2, -1)
spots = np.einsum("...ij,js->...si", reciprocal, hk)  # (NY, NX, n_spots, (x, y))
amplitude = np.exp(-np.sum((hk.T * 6.4) ** 2, axis=1) / (2 * 14.0**2))
pixels = np.arange(N) - N // 2
sigma = 1.0
gx = np.exp(-((pixels - spots[..., :1]) ** 2) / (2 * sigma**2))  # (..., spot, kx)
gy = np.exp(-((pixels - spots[..., 1:]) ** 2) / (2 * sigma**2))  # (..., spot, ky)
patterns = np.einsum("...sy,...sx->...yx", gy * amplitude[:, None], gx) + 0.02
patterns = rng.poisson(5e4 * patterns / patterns.sum(axis=(-2, -1), keepdims=True))

s = hs.signals.Signal2D(patterns.astype(np.float32))
for ax, name in zip(s.axes_manager.navigation_axes, "xy"):
    ax.name, ax.scale, ax.units = name, 1.0, "nm"
for ax, name in zip(s.axes_manager.signal_axes, ("kx", "ky")):
    ax.name, ax.scale, ax.offset, ax.units = name, DK, -N // 2 * DK, "1/Å"
s.set_signal_type("manifold")
s

# %%
# The cepstrum and its lattice peaks
# ----------------------------------
# With the detector in 1/Å the cepstrum axes are in Å.

c = s.get_cepstrum()
mean = np.log(c.data.mean(axis=(0, 1)))
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.imshow(mean, extent=c.axes_manager.signal_extent, cmap="viridis")
ax.set_xlabel("x (Å)")
ax.set_ylabel("y (Å)")
ax.set_title("mean log-cepstrum")
fig.tight_layout()

# %%
# ``get_lattice_vectors`` takes the brightest non-parallel peaks of the mean
# cepstrum as references and follows each of them in every cepstrum, refined to
# sub-pixel precision by a quadratic fit of the log-cepstrum.

vectors = c.get_lattice_vectors(n_peaks=2)
print("reference vectors (x, y) in Å:")
print(np.round(vectors.metadata.HyperspyManifold.lattice_vectors.reference, 3))
spacings = hm.get_lattice_spacings(vectors)
spacings

# %%
# For a careful fit of one pattern, ``fit_lattice_peaks`` fits the registered
# ``CepstralPeak2D`` component (a Gaussian whose centre is the lattice vector)
# with a HyperSpy ``Model2D`` around each vector.

c.axes_manager.indices = (20, 12)
fitted, models = hm.fit_lattice_peaks(c, vectors)
print("at x = 20, y = 12, vectorised:", np.round(vectors.data[12, 20], 3).tolist())
print("                  model fit:  ", np.round(fitted, 3).tolist())

# %%
# Strain maps
# -----------
# The reference lattice is the mean of the unstrained left columns of the scan.

reference_area = x < 6
strain = hm.get_strain_maps(vectors, reference=reference_area)
strain

# %%

truth = {
    "exx": true_exx,
    "eyy": np.zeros_like(true_exx),
    "exy": np.zeros_like(true_exx),
    "theta": true_theta,
}
fig, axes = plt.subplots(2, 4, figsize=(11, 5.6))
for i, (name, true_map) in enumerate(truth.items()):
    limit = 0.025 if name != "theta" else np.radians(1.5)
    for row, image in enumerate((true_map, strain.data[i])):
        im = axes[row, i].imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, i].set_title(f"{name} ({'true' if row == 0 else 'cepstrum'})")
        axes[row, i].axis("off")
    fig.colorbar(im, ax=axes[:, i], shrink=0.7)
for i, name in enumerate(truth):
    error = np.sqrt(np.mean((strain.data[i] - truth[name]) ** 2))
    print(f"{name}: rms error {error:.2e}")

# %%
# Reference: Padgett et al. (2020), *Ultramicroscopy* 214, 112994.
