"""One progress bar per public call.

A public call (``manifold_decomposition``, ``bragg_nmf``, a feature transform)
computes several dask graphs in turn: features, the rest of the scan chunk by
chunk, cluster statistics, similarity maps ...  Each used to print its own bar.
Inside :func:`one_progress_bar` every :func:`hyperspy_manifold.features._base.compute`
advances one shared bar instead: its total grows by the tasks of each graph as it
starts, so it ends at 100 % with the call.  Calls made from inside another
public call share the outer bar (or stay silent with it).  The bar only appears
when the call has run for ``DELAY`` seconds, so quick calls print nothing.

Under a ``dask.distributed`` Client the tasks run on the workers; the bar then
advances by whole graphs as their results arrive.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
from contextlib import contextmanager

#: Seconds a call runs before its bar appears (sub-second steps show none).
DELAY = 1.0

#: The bar of the public call in progress: a ``_Bar``, ``False`` inside a silent
#: call, ``None`` outside any.
_current: contextvars.ContextVar = contextvars.ContextVar("hm_progress", default=None)


class _Bar:
    """A tqdm bar whose total grows as graphs start."""

    def __init__(self, description: str):
        from tqdm.auto import tqdm

        self.tqdm = tqdm(
            total=0,
            desc=description,
            delay=DELAY,
            file=sys.stderr,
            unit="task",
            leave=True,
            dynamic_ncols=True,
        )

    def _refresh(self):
        # tqdm's ``delay`` holds back updates, not explicit refreshes
        if self.tqdm._time() - self.tqdm.start_t >= self.tqdm.delay:
            self.tqdm.refresh()

    def add(self, n: int):
        self.tqdm.total += int(n)
        self._refresh()

    def advance(self, n: int = 1):
        self.tqdm.update(int(n))

    def note(self, text: str):
        self.tqdm.set_postfix_str(text, refresh=False)
        self._refresh()

    def close(self):
        self.tqdm.close()


def _local_callback(bar: _Bar):
    """A dask callback that feeds ``bar`` from the local schedulers."""
    from dask.callbacks import Callback

    class _Feed(Callback):
        def _start_state(self, dsk, state):
            bar.add(sum(len(state[k]) for k in ("ready", "waiting", "running")))

        def _posttask(self, key, result, dsk, state, worker_id):
            bar.advance()

    return _Feed()


def current():
    """The active bar, ``False`` when the enclosing call is silent, else None."""
    return _current.get()


def note(text: str):
    """Show ``text`` (the stage) next to the active bar, if any."""
    bar = _current.get()
    if bar:
        bar.note(text)


@contextmanager
def progress(show: bool, description: str):
    """One bar for every compute inside (an enclosing scope wins)."""
    if _current.get() is not None:
        yield
        return
    bar = _Bar(description) if show else False
    token = _current.set(bar)
    try:
        yield
    finally:
        _current.reset(token)
        if bar:
            bar.close()


def compute_with(arrays, client, show: bool):
    """Compute ``arrays`` (a tuple of dask arrays) under the active bar; returns
    the tuple of results, or None when no scope is active."""
    import dask

    bar = _current.get()
    if bar is None:
        return None
    if bar is False or not show:
        if client is not None:
            return tuple(client.gather(client.compute(list(arrays))))
        return dask.compute(*arrays)
    if client is not None:
        from distributed import as_completed

        futures = client.compute(list(arrays))
        bar.add(len(futures))
        for _ in as_completed(futures):
            bar.advance()
        return tuple(client.gather(futures))
    with _local_callback(bar):
        return dask.compute(*arrays)


def one_progress_bar(description: str):
    """Decorate a public function with a ``show_progressbar`` argument: all its
    computes share one bar titled ``description``."""

    def decorate(func):
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            from hyperspy_manifold.features._base import show_progressbar_default

            bound = signature.bind_partial(*args, **kwargs)
            show = show_progressbar_default(bound.arguments.get("show_progressbar"))
            with progress(show, description):
                return func(*args, **kwargs)

        return wrapper

    return decorate


class _Steps:
    """The interface of a tqdm bar (``update``, ``reset``, ``set_description``)
    counting Python steps (model fits, UMAP runs) on the active bar."""

    def __init__(self, bar: _Bar):
        self.bar = bar

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1):
        self.bar.advance(n)

    def reset(self, total: int):
        self.bar.add(total)

    def set_description(self, text: str):
        self.bar.note(text)


def steps(total: int, description: str, show: bool):
    """A bar for ``total`` Python steps: the active call's bar when there is one
    (steps add to it), else a bar of its own (HyperSpy's, removed when done)."""
    bar = _current.get()
    if bar:
        return _Steps(bar)
    from hyperspy.external.progressbar import progressbar

    return progressbar(
        total=total, desc=description, disable=not show or bar is False, leave=False
    )
