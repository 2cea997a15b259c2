"""Look at scenarios: truth label map, mean pattern per label, one pattern per label.

python benchmarks/accuracy/show.py --split tune --scenarios film px-fe
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scenarios as grid  # noqa: E402


def figure(signal, truth, path, title="") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.asarray(truth)
    data = np.asarray(signal.data)
    X = data.reshape(labels.size, *data.shape[-2:])
    flat = labels.ravel()
    k = int(flat.max()) + 1
    cols = k + 1
    fig, ax = plt.subplots(2, cols, figsize=(2.0 * cols, 4.2), squeeze=False)
    if labels.ndim == 2:
        ax[0, 0].imshow(labels, cmap="tab20", interpolation="nearest")
    else:
        ax[0, 0].imshow(
            labels[None, :].repeat(max(1, labels.size // 10), axis=0),
            cmap="tab20",
            interpolation="nearest",
        )
    ax[0, 0].set_title(title, fontsize=7)
    ax[1, 0].imshow(np.log1p(X.mean(axis=0)), cmap="inferno")
    ax[1, 0].set_title("mean of all", fontsize=7)
    rng = np.random.default_rng(0)
    for i in range(k):
        members = np.flatnonzero(flat == i)
        ax[0, i + 1].imshow(np.log1p(X[members].mean(axis=0)), cmap="inferno")
        ax[0, i + 1].set_title(f"label {i} mean (n={members.size})", fontsize=7)
        ax[1, i + 1].imshow(np.log1p(X[rng.choice(members)]), cmap="inferno")
        ax[1, i + 1].set_title(f"label {i}, one pattern", fontsize=7)
    for a in ax.ravel():
        a.set_xticks([])
        a.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=grid.SPLITS, required=True)
    parser.add_argument("--scenarios", nargs="+")
    parser.add_argument(
        "--outdir", type=Path, default=HERE.parent / "results" / "accuracy_png"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    args.outdir.mkdir(parents=True, exist_ok=True)
    for s in grid.scenarios(args.split, args.scenarios):
        signal, truth = grid.make(s)
        path = args.outdir / f"{s.split}_{s.name}.png"
        figure(signal, truth, path, s.name)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
