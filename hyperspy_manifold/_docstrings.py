"""Parameter descriptions shared by several public functions, written once.

A docstring names one with a ``%(name)s`` line (indented like the other
parameters) and its function is decorated with :func:`fill_docstring`.
"""

from __future__ import annotations

SHARED_PARAMETERS = {
    "center": """center : (float, float), optional
        Beam centre ``(x, y)`` in pixels.  Default: pyxem's
        ``s.calibration.center``, the pixel where the calibrated detector axes
        are 0 (``-offset / scale``), the centre pyxem's own
        ``get_azimuthal_integral1d`` uses on the same signal.  Set it with
        ``s.calibration.center = (x, y)``, or ``= None`` for the detector
        centre (after ``s.center_direct_beam(...)`` the beam is on pixel
        ``(kx / 2, ky / 2)``).  Axes never centred (both offsets 0, which pyxem
        reads as the corner pixel) give the detector centre and a warning.""",
    "lazy_output": """lazy_output : bool, optional
        Return a lazy signal (computed chunk by chunk when needed) or an
        in-memory one. Default follows the input: lazy in, lazy out.""",
    "show_progressbar": """show_progressbar : bool, optional
        Show a progress bar while computing (dask's bar; under a
        ``dask.distributed`` Client, distributed's ``progress``). Default from
        HyperSpy preferences.""",
}


def fill_docstring(func):
    """Put the :data:`SHARED_PARAMETERS` named in ``func.__doc__`` in place."""
    doc = func.__doc__
    if doc:
        for name, text in SHARED_PARAMETERS.items():
            doc = doc.replace(f"%({name})s", text)
        if "%(" in doc:
            raise ValueError(f"{func.__qualname__}: unknown shared parameter in doc")
        func.__doc__ = doc
    return func
