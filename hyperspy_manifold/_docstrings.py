"""Parameter descriptions shared by several public functions, written once.

A docstring names one with a ``%(name)s`` line (indented like the other
parameters) and its function is decorated with :func:`fill_docstring`.
"""

from __future__ import annotations

SHARED_PARAMETERS = {
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
