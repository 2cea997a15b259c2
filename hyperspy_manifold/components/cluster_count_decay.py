"""Exponential decay of the HDBSCAN cluster count with ``min_cluster_size``.

Li et al. 2019 (npj Comput Mater 5, 5) choose ``min_cluster_size`` where the number
of clusters found has settled: they fit ``n(k) = c exp(-t (k - k0)) + b`` to the
count-versus-k curve and take k in the stable tail.
"""

import numpy as np
from hyperspy._components.expression import Expression


class ClusterCountDecay(Expression):
    r"""Cluster count against minimum cluster size, :math:`c e^{-t (k - k_0)} + b`.

    ============ =============
    Variable      Parameter
    ============ =============
    :math:`c`     c
    :math:`t`     t (decay rate, > 0)
    :math:`k_0`   k0 (fixed: first k of the scan)
    :math:`b`     b (plateau: the stable cluster count)
    ============ =============

    Parameters
    ----------
    c, t, k0, b : float
        Initial values. ``k0`` is held fixed by default because it is degenerate
        with ``c``.
    """

    def __init__(self, c=1.0, t=0.05, k0=0.0, b=1.0, module="numpy", **kwargs):
        super().__init__(
            expression="c * exp(-t * (x - k0)) + b",
            name="ClusterCountDecay",
            c=c,
            t=t,
            k0=k0,
            b=b,
            module=module,
            autodoc=False,
            **kwargs,
        )
        self.k0.free = False
        # Counts only fall with k and never go negative: c, b >= 0, t > 0.
        self.c.bmin = 0.0
        self.b.bmin = 0.0
        self.t.bmin = 1e-6
        self.t.bmax = None
        self.isbackground = False
        self.convolved = False

    def estimate_parameters(self, signal, x1=None, x2=None, only_current=True):
        """Starting values from the curve: plateau = tail median, c = first - b,
        t from the k where half of the drop has happened."""
        axis = signal.axes_manager.signal_axes[0]
        k = axis.axis
        y = np.asarray(signal._get_current_data() if only_current else signal.data)
        y = np.asarray(y, dtype=float).ravel()[: k.size]
        tail = max(1, k.size // 4)
        b = float(np.median(y[-tail:]))
        c = float(max(y[0] - b, 1e-3))
        half = np.nonzero(y - b <= c / 2)[0]
        k_half = (
            k[half[0]] - k[0] if half.size and k[half[0]] > k[0] else (k[-1] - k[0]) / 4
        )
        self.k0.value = float(k[0])
        self.b.value = b
        self.c.value = c
        self.t.value = float(np.log(2) / max(k_half, 1e-6))
        return True

    def stable_k(self, m=3.0):
        """First k where the fitted excess over the plateau has decayed by e^-m."""
        return float(self.k0.value + m / max(self.t.value, 1e-12))
