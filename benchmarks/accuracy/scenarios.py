"""Labelled 4D-STEM scenarios of the accuracy benchmark, split into tune and report.

Three independent sources:

- ``package``: the package's own simulations (``polycrystalline_film``,
  ``zone_axis_tilt_series``), truth = ``truth.labels``;
- ``pyxem``: ``pyxem.data.si_grains``, ``si_grains_simple`` and
  ``fe_multi_phase_grains`` (noise-free, one pattern per grain), truth = the
  distinct patterns; made realistic here (dose, diffuse background, beam shifts,
  Poisson noise);
- ``independent``: :mod:`independent`, a separate renderer on diffsims spot lists.

Split rule: every family appears in both splits, with tune seeds in
[1000, 5000) and report seeds in [5000, 9000), and (where it makes sense) other
generator parameters (numbers of grains, phases, doses, tilt ranges). Tune only
on ``tune``; run ``report`` once to report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

try:  # imported as part of the benchmarks.accuracy namespace package
    from . import independent
except ImportError:  # run as a script from this folder
    import independent

SOURCES = ("package", "pyxem", "independent")
SPLITS = ("tune", "report")
TUNE_SEEDS = range(1000, 5000)
REPORT_SEEDS = range(5000, 9000)
#: Two pyxem labels whose noise-free patterns at the scenario dose differ by less
#: than this many Poisson standard deviations (per pattern) are merged.
MERGE_SEPARATION = 5.0


@dataclass(frozen=True)
class Scenario:
    """One labelled scan: ``make(scenario)`` renders it."""

    name: str
    source: str
    params: dict = field(hash=False)
    seed: int
    split: str

    @property
    def family(self) -> str:
        """Generator within the source (film, tilt, si_grains, voronoi, ...)."""
        return self.params.get("kind", self.params.get("layout_kind", ""))


def _pkg(split, name, seed, **params):
    return Scenario(f"pkg-{name}", "package", params, seed, split)


def _px(split, name, seed, **params):
    base = {"dose": 3000.0, "background": 0.1, "jitter": 0.3, "descan": 1.0}
    return Scenario(f"px-{name}", "pyxem", {**base, **params}, seed, split)


def _ind(split, name, seed, **params):
    params.setdefault("orientations", "zone")
    return Scenario(f"ind-{name}", "independent", params, seed, split)


def _film(split, name, seed, shape, detector, n_grains, amorphous_fraction, **kw):
    return _pkg(
        split,
        f"film-{name}",
        seed,
        kind="film",
        shape=shape,
        detector=detector,
        n_grains=n_grains,
        amorphous_fraction=amorphous_fraction,
        **kw,
    )


def _tilt(split, name, seed, shape, detector, tilt_range, n_orientations, **kw):
    return _pkg(
        split,
        f"tilt-{name}",
        seed,
        kind="tilt",
        shape=shape,
        detector=detector,
        tilt_range=tilt_range,
        n_orientations=n_orientations,
        **kw,
    )


R, T = "report", "tune"
ALCU, FEAU, ALFESI = ("Al", "Cu"), ("Fe", "Au"), ("Al", "Fe", "Si")
AUCU, FESI, CUSI, CUFE = ("Au", "Cu"), ("Fe", "Si"), ("Cu", "Si"), ("Cu", "Fe")
SI, PXFE = "si_grains", "fe_multi_phase_grains"

# fmt: off
SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------ report split
    # package: polycrystalline_film(shape, detector, n_grains, amorphous_fraction)
    _film(R, "n2", 5001, (32, 32), 64, 2, 0.0, dose=5e3),
    _film(R, "n5-amorph-lowdose", 5002, (48, 48), 64, 5, 0.15, dose=300.0),
    _film(R, "n10-overlap", 5003, (48, 48), 128, 10, 0.1, boundary_width=4.0,
          scan_step=1.0, dose=3e3),
    _film(R, "n20-mistilt", 5004, (48, 48), 64, 20, 0.0, misorientation=2.0,
          bending=1.0, dose=1e4),
    _film(R, "n40-96x96", 5005, (96, 96), 64, 40, 0.1, dose=2e3),
    _film(R, "n6-line", 5006, (1, 200), 128, 6, 0.1, dose=1e5),
    # package: zone_axis_tilt_series(shape, detector, tilt_range, n_orientations)
    _tilt(R, "r2-n3", 5011, (32, 32), 64, 2.0, 3, dose=5e3),
    _tilt(R, "r10-n6", 5012, (48, 48), 128, 10.0, 6, dose=1e4),
    _tilt(R, "r30-n4", 5013, (40, 40), 64, 30.0, 4, thickness=1.0, dose=1e3),
    # pyxem.data grains, made realistic here
    _px(R, "si-n5", 5021, function=SI, num_grains=5, size=32, recip_pixels=128,
        dose=3e3),
    _px(R, "si-n10", 5022, function=SI, num_grains=10, size=48, recip_pixels=128,
        dose=1e4),
    _px(R, "si-n4-256px", 5023, function=SI, num_grains=4, size=20,
        recip_pixels=256, dose=2e3),
    _px(R, "si-simple", 5024, function="si_grains_simple", size=32,
        recip_pixels=128, dose=1e3),
    _px(R, "fe-n3", 5025, function=PXFE, num_grains=3, size=40, recip_pixels=128,
        dose=5e3, background=0.15),
    _px(R, "fe-n6-256px", 5027, function=PXFE, num_grains=6, size=24,
        recip_pixels=256, dose=2e4, jitter=0.5),
    # independent renderer
    _ind(R, "voronoi-alcu6", 5031, shape=(48, 48), detector=128,
         layout_kind="voronoi", n_regions=6, phases=ALCU, dose=3e3),
    _ind(R, "stripes-feau4", 5032, shape=(40, 40), detector=64,
         layout_kind="stripes", n_regions=4, phases=FEAU, dose=1e3),
    _ind(R, "blobs-si5-amorph", 5033, shape=(48, 48), detector=128,
         layout_kind="blobs", n_regions=5, phases=("Si",), amorphous_fraction=0.12,
         dose=5e3),
    _ind(R, "voronoi-random12", 5034, shape=(48, 48), detector=64,
         layout_kind="voronoi", n_regions=12, phases=ALFESI, orientations="random",
         dose=1e4),
    _ind(R, "blobs-cufe5-line", 5035, shape=(1, 200), detector=128,
         layout_kind="blobs", n_regions=5, phases=CUFE, amorphous_fraction=0.1,
         dose=2e3),
    _ind(R, "voronoi-15-64x64", 5036, shape=(64, 64), detector=64,
         layout_kind="voronoi", n_regions=15, phases=ALFESI, dose=2e3),
    _ind(R, "blobs-aufe3-256px", 5037, shape=(24, 24), detector=256,
         layout_kind="blobs", n_regions=3, phases=("Au", "Fe"), dose=1e4),
    _ind(R, "stripes-cu3-lowdose", 5038, shape=(48, 48), detector=64,
         layout_kind="stripes", n_regions=3, phases=("Cu",), dose=200.0,
         kikuchi=1.0),
    _ind(R, "voronoi-alsi4-dynamic", 5039, shape=(32, 32), detector=128,
         layout_kind="voronoi", n_regions=4, phases=("Al", "Si"),
         orientations="random", dynamic_sigma=0.8, bend=0.4, dose=5e4),
    # -------------------------------------------------------------- tune split
    _film(T, "n3", 1001, (32, 32), 64, 3, 0.2, dose=2e4),
    _film(T, "n7-lowdose", 1002, (40, 40), 128, 7, 0.0, dose=150.0),
    _film(T, "n15-mistilt", 1003, (48, 48), 64, 15, 0.05, misorientation=1.5,
          bending=0.7, dose=3e3),
    _film(T, "n30-overlap", 1004, (48, 48), 64, 30, 0.0, boundary_width=3.0,
          scan_step=1.5, dose=3e4),
    _film(T, "n25-96x96", 1005, (96, 96), 64, 25, 0.05, dose=1e4),
    _film(T, "n8-line", 1006, (1, 240), 64, 8, 0.15, dose=500.0),
    _tilt(T, "r1-n2", 1011, (32, 32), 64, 1.0, 2, dose=2e3),
    _tilt(T, "r5-n5", 1012, (40, 40), 128, 5.0, 5, dose=3e4),
    _tilt(T, "r20-n3", 1013, (48, 48), 64, 20.0, 3, thickness=1.5, dose=300.0),
    _px(T, "si-n3", 1021, function=SI, num_grains=3, size=40, recip_pixels=128,
        dose=1e4),
    _px(T, "si-n8", 1022, function=SI, num_grains=8, size=48, recip_pixels=128,
        dose=6e3),
    _px(T, "si-n6-256px", 1023, function=SI, num_grains=6, size=20,
        recip_pixels=256, dose=5e3),
    _px(T, "si-simple", 1024, function="si_grains_simple", size=40,
        recip_pixels=128, dose=5e3),
    _px(T, "fe-n2", 1025, function=PXFE, num_grains=2, size=48, recip_pixels=128,
        dose=2e3, background=0.15),
    _px(T, "fe-n5", 1026, function=PXFE, num_grains=5, size=32, recip_pixels=128,
        dose=1e4, jitter=0.5),
    _ind(T, "voronoi-aucu4", 1031, shape=(40, 40), detector=128,
         layout_kind="voronoi", n_regions=4, phases=AUCU, dose=1e4),
    _ind(T, "stripes-fesi6", 1032, shape=(48, 48), detector=64,
         layout_kind="stripes", n_regions=6, phases=FESI, dose=500.0),
    _ind(T, "blobs-fe3-amorph", 1033, shape=(40, 40), detector=128,
         layout_kind="blobs", n_regions=3, phases=("Fe",), amorphous_fraction=0.2,
         dose=2e3),
    _ind(T, "voronoi-random8", 1034, shape=(48, 48), detector=64,
         layout_kind="voronoi", n_regions=8, phases=CUSI, orientations="random",
         dose=3e3),
    _ind(T, "stripes-alfe4-line", 1035, shape=(1, 240), detector=64,
         layout_kind="stripes", n_regions=4, phases=("Al", "Fe"),
         amorphous_fraction=0.15, dose=1e4),
    _ind(T, "voronoi-20-64x64", 1036, shape=(64, 64), detector=64,
         layout_kind="voronoi", n_regions=20, phases=CUFE, dose=5e3),
    _ind(T, "voronoi-alsi3-256px", 1037, shape=(20, 20), detector=256,
         layout_kind="voronoi", n_regions=3, phases=("Al", "Si"), dose=3e3),
    _ind(T, "blobs-ausi4-lowdose", 1038, shape=(48, 48), detector=64,
         layout_kind="blobs", n_regions=4, phases=("Au", "Si"), dose=250.0),
    _ind(T, "stripes-cufe5-dynamic", 1039, shape=(32, 32), detector=128,
         layout_kind="stripes", n_regions=5, phases=CUFE, orientations="random",
         dynamic_sigma=0.7, bend=0.3, dose=2e4),
]
# fmt: on


def _check_grid(scenarios) -> None:
    for s in scenarios:
        if s.source not in SOURCES or s.split not in SPLITS:
            raise ValueError(f"bad source or split in {s}")
        seeds = TUNE_SEEDS if s.split == "tune" else REPORT_SEEDS
        if s.seed not in seeds:
            raise ValueError(f"{s.name}: seed {s.seed} outside the {s.split} seeds")
    for split in SPLITS:
        names = [s.name for s in scenarios if s.split == split]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate scenario names in split {split}")
    families = {
        split: {(s.source, s.family) for s in scenarios if s.split == split}
        for split in SPLITS
    }
    if families["tune"] != families["report"]:
        raise ValueError(
            "every family must be in both splits: "
            f"{families['tune'] ^ families['report']}"
        )


_check_grid(SCENARIOS)


def scenarios(split=None, contains=None) -> list[Scenario]:
    """Scenarios of one split (or all) whose name contains any of ``contains``."""
    if isinstance(contains, str):
        contains = [contains]
    return [
        s
        for s in SCENARIOS
        if (split is None or s.split == split)
        and (not contains or any(c in s.name for c in contains))
    ]


def get(name: str, split: str | None = None) -> Scenario:
    """The scenario called ``name`` (names repeat across splits: give ``split``)."""
    found = [s for s in SCENARIOS if s.name == name and split in (None, s.split)]
    if len(found) != 1:
        raise KeyError(f"{len(found)} scenarios called {name!r} (split={split})")
    return found[0]


# ------------------------------------------------------------------ making data


def make(scenario: Scenario):
    """``(signal, truth_labels)``: a ``manifold`` signal (eager float32, signal axes
    in 1/Å) and an int label map of its navigation shape, labels 0..K-1."""
    s, truth, _ = make_with_info(scenario)
    return s, truth


def make_with_info(scenario: Scenario):
    """:func:`make` plus a dict of facts about the truth (label names, merged or
    dropped labels, separation of the label means)."""
    maker = {"package": _package, "pyxem": _pyxem, "independent": _independent}
    s, truth, info = maker[scenario.source](dict(scenario.params), scenario.seed)
    truth = np.asarray(truth)
    present = np.unique(truth)
    if present[0] < 0:
        raise ValueError(f"{scenario.name}: negative truth labels")
    if present.size != present[-1] + 1:
        info["dropped_labels"] = sorted(
            set(range(int(present[-1]) + 1)) - set(present.tolist())
        )
        truth = np.searchsorted(present, truth)
    truth = truth.astype(np.int64)
    if s.axes_manager.navigation_shape[::-1] != truth.shape:
        raise AssertionError(
            f"{scenario.name}: truth {truth.shape} vs navigation "
            f"{s.axes_manager.navigation_shape[::-1]}"
        )
    if s.data.dtype != np.float32:
        s.data = s.data.astype(np.float32)
    s.set_signal_type("manifold")
    s.metadata.General.title = scenario.name
    info["n_labels"] = int(truth.max()) + 1
    info["min_label_size"] = int(np.bincount(truth.ravel()).min())
    info.update(separation(s.data, truth))
    return s, truth, info


def separation(data, truth) -> dict:
    """Smallest distance between two label means, in Poisson standard deviations
    of one pattern: ``sqrt(sum (a - b)^2 / ((a + b) / 2 + 1))`` over pixels.

    A diagnostic of how separable the labels are in principle (within-label
    variation such as tilt is not counted): below ~5 a single pattern can not
    tell the two labels apart reliably.
    """
    lab = np.asarray(truth).ravel()
    k = int(lab.max()) + 1
    X = np.asarray(data).reshape(lab.size, -1)
    means = np.stack([X[lab == i].mean(axis=0, dtype=np.float64) for i in range(k)])
    if k < 2:
        return {"min_separation": None, "closest_pair": None}
    best = (np.inf, None)
    for i in range(k):
        for j in range(i + 1, k):
            d = _poisson_distance(means[i], means[j])
            if d < best[0]:
                best = (d, (i, j))
    return {"min_separation": round(float(best[0]), 2), "closest_pair": best[1]}


def _poisson_distance(a, b) -> float:
    return float(np.sqrt(np.sum((a - b) ** 2 / ((a + b) / 2 + 1))))


def _package(params, seed):
    from hyperspy_manifold.data import polycrystalline_film, zone_axis_tilt_series

    kind = params.pop("kind")
    shape = tuple(params.pop("shape"))
    func = {"film": polycrystalline_film, "tilt": zone_axis_tilt_series}[kind]
    s, truth = func(shape=shape, random_state=seed, **params)
    labels = np.asarray(truth.labels)
    if shape[0] == 1:  # line scan: drop the y axis of length 1
        s = s.inav[:, 0]
        labels = labels[0]
    info = {"label_names": truth.label_names}
    return s, labels, info


def _pyxem(params, seed):
    """pyxem's noise-free grain scans made realistic; truth = distinct patterns."""
    import pyxem.data as pxd
    from scipy.ndimage import shift as nd_shift

    function = params.pop("function")
    dose = float(params.pop("dose"))
    background = float(params.pop("background"))
    jitter = float(params.pop("jitter"))
    descan = float(params.pop("descan"))
    # pyxem draws its orientations from numpy's global generator.
    np.random.seed(seed)
    s = getattr(pxd, function)(seed=seed, **params)
    data = np.asarray(s.data)
    ny, nx, dy, dx = data.shape
    flat = data.reshape(ny * nx, dy * dx)
    # Label the distinct patterns in order of first appearance in the scan.
    first_of = {}
    labels = np.empty(ny * nx, dtype=np.int64)
    for p, row in enumerate(flat):
        key = hashlib.blake2b(row.tobytes(), digest_size=16).digest()
        labels[p] = first_of.setdefault(key, len(first_of))
    firsts = np.array([np.argmax(labels == u) for u in range(len(first_of))])
    patterns = flat[firsts]

    ax_x, ax_y = s.axes_manager.signal_axes
    scale = float(ax_x.scale)
    cy, cx = np.unravel_index(np.argmax(patterns.sum(axis=0)), (dy, dx))
    yy, xx = np.mgrid[:dy, :dx]
    k = np.hypot(yy - cy, xx - cx) * scale
    diffuse = 1 / (1 + (k / 0.3) ** 2) ** 1.5
    diffuse /= diffuse.sum()
    totals = patterns.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError(f"{function}: an empty pattern")
    expected = dose * (
        (1 - background) * patterns / totals + background * diffuse.ravel()
    )

    # Merge labels whose patterns one can not tell apart at this dose.
    n = len(expected)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    merged = []
    for i in range(n):
        for j in range(i + 1, n):
            d = _poisson_distance(expected[i], expected[j])
            if d < MERGE_SEPARATION and root(i) != root(j):
                parent[root(j)] = root(i)
                merged.append((i, j, round(d, 2)))
    roots = np.array([root(i) for i in range(n)])
    truth = np.unique(roots, return_inverse=True)[1].ravel()[labels]

    rng = np.random.default_rng(seed)
    fy = (np.arange(ny) / max(ny - 1, 1) - 0.5)[:, None] * np.ones(nx)
    fx = np.ones(ny)[:, None] * (np.arange(nx) / max(nx - 1, 1) - 0.5)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = descan * (np.cos(direction) * fx + np.sin(direction) * fy).ravel()
    shifts = np.stack([ramp, 0.5 * ramp], axis=1) + jitter * rng.standard_normal(
        (ny * nx, 2)
    )
    expected = expected.reshape(n, dy, dx).astype(np.float32)
    out = np.empty((ny * nx, dy, dx), dtype=np.float32)
    for p in range(ny * nx):
        moved = nd_shift(expected[labels[p]], shifts[p], order=1, mode="nearest")
        out[p] = rng.poisson(np.clip(moved, 0, None))
    s.data = out.reshape(ny, nx, dy, dx)
    for ax, c, name in ((ax_x, cx, "kx"), (ax_y, cy, "ky")):
        ax.offset = -c * scale
        ax.name = name
    info = {
        "label_names": [f"pattern {i}" for i in range(int(truth.max()) + 1)],
        "n_distinct_patterns": n,
        "merged_patterns": merged,
        "units": ax_x.units,
        "scale": scale,
    }
    return s, truth.reshape(ny, nx), info


def _independent(params, seed):
    s, labels, info = independent.simulate(seed=seed, **params)
    info["regions"] = info.pop("labels")
    info["label_names"] = [
        label["phase"]
        + (f" {list(label['zone_axis'])}" if label.get("zone_axis") else "")
        for label in info["regions"]
    ]
    return s, labels, info
