"""Results as registered HyperSpy signals.

:func:`make_signal` wraps a transform's array in the signal class registered for
its type, with the navigation axes and metadata of the input (never modified)
and the transform's parameters under ``metadata.HyperspyManifold``.
"""

from __future__ import annotations

import copy

import dask.array as da
from hyperspy.io import dict2signal

from hyperspy_manifold._chunks import compute, lazy_view

#: Metadata node where every transform records its parameters.
METADATA_NODE = "HyperspyManifold"


def resolve_lazy_output(s, lazy_output) -> bool:
    return bool(s._lazy) if lazy_output is None else bool(lazy_output)


def make_signal(
    s,
    data,
    signal_axes: list[dict],
    signal_type: str,
    title: str,
    parameters: dict | None = None,
    lazy_output: bool | None = None,
    show_progressbar=None,
):
    """Wrap ``data`` (navigation shape of ``s`` + signal shape) in a registered signal.

    ``signal_axes`` are axis dictionaries in array order.  The navigation axes and
    metadata of ``s`` are copied (``s`` is never modified); ``parameters`` are stored
    under ``metadata.HyperspyManifold.<title>``.
    """
    lazy = resolve_lazy_output(s, lazy_output)
    if isinstance(data, da.Array) and not lazy:
        data = compute(data, show_progressbar)
    elif lazy and not isinstance(data, da.Array):
        data = lazy_view(data)
    am = s.axes_manager
    nav_axes = [ax.get_axis_dictionary() for ax in am._axes if ax.navigate]
    for ax in signal_axes:
        ax.setdefault("navigate", False)
    metadata = copy.deepcopy(s.metadata.as_dictionary())
    metadata.setdefault("General", {})["title"] = title
    metadata.setdefault("Signal", {})["signal_type"] = signal_type
    if parameters is not None:
        node = metadata.setdefault(METADATA_NODE, {})
        node[parameters.pop("_node", title.replace(" ", "_"))] = parameters
    out = dict2signal(
        {
            "data": data,
            "axes": nav_axes + list(signal_axes),
            "metadata": metadata,
            "original_metadata": {},
        },
        lazy=lazy,
    )
    return out
