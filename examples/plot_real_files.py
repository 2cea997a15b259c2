"""
Real detector files: Merlin .mib and NanoMegas .blo
===================================================

Anything rosettasciio reads as a stack of 2D patterns works: load it lazily,
make it a ``ManifoldDiffraction2D`` with ``set_signal_type("manifold")`` and every
transform of this package (and every pyxem method) is there. This example uses
two tiny real files from rosettasciio's test suite (see
``tests/data/ATTRIBUTION.md``): a 4 x 2 scan from a Quantum Detectors Merlin
(Medipix3, 6 bit, 256 x 256 pixels) and a 2 x 3 NanoMegas ASTAR blockfile with a
zone-axis spot pattern. Scans this small are for checking formats, not for
clustering.
"""

# %%
# Find the files
# --------------
# The files live in the repository's ``tests/data``. sphinx-gallery runs the
# examples from their own folder and without ``__file__``.

from pathlib import Path

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

# Progress bars would clutter the output of the examples.
hs.preferences.General.show_progressbar = False

try:
    HERE = Path(__file__).resolve().parent
except NameError:
    HERE = Path.cwd()
DATA = HERE.parent / "tests" / "data"

# %%
# Merlin .mib
# -----------
# rosettasciio reads the ``.mib`` lazily (memory-mapped), so this works the same
# for a scan of many gigabytes. Merlin files store no calibration.

s = hs.load(DATA / "merlin_4x2" / "001_4x2_6bit.mib", lazy=True)
print(s)
s.set_signal_type("manifold")
s

# %%
# The direct beam sits near the left edge of this detector. pyxem's
# ``get_direct_beam_position`` returns, for every pattern, the shift that would
# move the beam to the detector centre; the beam is at centre minus shift.
# ``s.calibration.center`` stores it (as the offsets of the signal axes), where
# the polar transforms find it.

shifts = s.get_direct_beam_position(method="blur", sigma=5, lazy_output=False)
ky, kx = s.axes_manager.signal_shape[::-1]
beam = np.array([kx / 2, ky / 2]) - np.asarray(shifts.data).reshape(-1, 2).mean(axis=0)
print(f"direct beam at x = {beam[0]:.1f}, y = {beam[1]:.1f} pixels")
s.calibration.center = beam.tolist()

# %%
# Polar transforms only use rings that lie fully inside the detector, so with
# the beam this close to the edge the radial variance stops at the nearest edge
# of the detector, some 25 pixels out. The
# cepstrum needs no centre at all: shifting a pattern only changes the phase of
# its Fourier transform.

rv = s.get_radial_variance()
print(rv, "up to", rv.axes_manager.signal_axes[0].axis[-1], "pixels")

c = s.get_cepstrum()
c

# %%
# Every result is lazy like the input; ``compute()`` (or plotting) evaluates it.

c.compute()
pattern = np.asarray(s.inav[0, 0].data)
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
axes[0].imshow(np.log1p(pattern), cmap="magma")
axes[0].plot(*beam, "c+", ms=14)
axes[0].set_title("Merlin pattern (log), beam +")
centre = c.axes_manager.signal_shape[0] // 2
crop = np.log(c.data[0, 0][centre - 40 : centre + 41, centre - 40 : centre + 41])
axes[1].imshow(crop, cmap="viridis", extent=(-40.5, 40.5, 40.5, -40.5))
axes[1].set_title("centre of its cepstrum (log, pixels)")
axes[0].axis("off")
fig.tight_layout()

# %%
# NanoMegas .blo
# --------------
# The blockfile carries the scan step (12.8 nm) and a camera-plane calibration;
# with the detector in camera units (not 1/Å) the cepstrum comes out in pixels.
# Calibrate with ``s.calibration.scale`` and ``s.calibration.units = "1/Å"`` to
# get lattice vectors in Å.

b = hs.load(DATA / "nanomegas_test1.blo", lazy=True)
b.set_signal_type("manifold")
b

# %%
# Here the beam is close to the detector centre.

shifts = b.get_direct_beam_position(method="blur", sigma=2, lazy_output=False)
ky, kx = b.axes_manager.signal_shape[::-1]
beam = np.array([kx / 2, ky / 2]) - np.asarray(shifts.data).reshape(-1, 2).mean(axis=0)
b.calibration.center = beam.tolist()
print(f"direct beam at x = {beam[0]:.1f}, y = {beam[1]:.1f} pixels")

# %%
# The features of every pattern: the angular average in 10-degree sectors of
# three rings (in pixels), the radial variance, and an annulus of the cepstrum.
# These are what ``manifold_decomposition`` and ``bragg_nmf`` learn from.

aa = b.get_angular_average(rings=[8, 30, 50, 70], angle_step=10, in_pixels=True)
rv = b.get_radial_variance(radial_range=(8, 70), in_pixels=True)
ring = b.get_cepstrum().get_ring_features(3, 30, in_pixels=True)
for features in (aa, rv, ring):
    print(
        f"{features.metadata.General.title}: {features.axes_manager.signal_size} values"
    )

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
axes[0].imshow(np.log1p(np.asarray(b.inav[0, 0].data)), cmap="magma")
axes[0].set_title("ASTAR pattern (log)")
axes[0].axis("off")
features = np.asarray(aa.data).reshape(-1, aa.axes_manager.signal_size)
axes[1].imshow(features, aspect="auto", cmap="viridis")
axes[1].set_xlabel("ring sector (3 rings x 36)")
axes[1].set_ylabel("scan position")
axes[1].set_title("angular average")
radius_axis = rv.axes_manager.signal_axes[0]
for profile in np.asarray(rv.data).reshape(-1, radius_axis.size):
    axes[2].plot(radius_axis.axis, profile, lw=1)
axes[2].set_xlabel(f"radius ({radius_axis.units}, camera plane)")
axes[2].set_title("radial variance, every position")
fig.tight_layout()

# %%
# The same works for TopSpin ``.app5``, EMPAD, MRC, DM4 and ``.hspy``/``.zspy``
# files; for a file holding several signals, pick the 4D-STEM one from the list
# ``hs.load`` returns.
