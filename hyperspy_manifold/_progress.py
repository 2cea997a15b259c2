"""One progress bar per public call.

A public call (``manifold_decomposition``, ``bragg_nmf``, a feature transform)
computes several dask graphs in turn: features, the rest of the scan chunk by
chunk, cluster statistics, similarity maps ...  Each used to print its own bar.
Inside :func:`one_progress_bar` every :func:`hyperspy_manifold._chunks.compute`
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


class ReadCounter:
    """How many passes over the scan's data the computes of one public call (or
    CLI run) made: every compute adds the share of the data's chunks it reads
    (a full pass 1, the few patterns of the cluster centroids a small fraction).
    The number of passes is what out-of-core speed is made of."""

    def __init__(self):
        self.sources: dict[str, int] = {}  # dask name -> number of chunks
        self.reads = 0.0


_reads: contextvars.ContextVar = contextvars.ContextVar("hm_reads", default=None)


def register_source(array) -> None:
    """Count later computes that depend on the dask ``array`` (the scan's data)."""
    counter = _reads.get()
    if counter is None or not getattr(array, "name", None):
        return
    layers = set(getattr(array.__dask_graph__(), "layers", ())) - {array.name}
    if layers & set(counter.sources):
        return  # computed from a registered source (a masked copy): no new data
    counter.sources[array.name] = int(array.npartitions)


def count_reads(arrays) -> None:
    """Add the passes over registered sources that computing ``arrays`` makes."""
    counter = _reads.get()
    if counter is None or not counter.sources:
        return
    from dask.core import flatten

    touched: dict[str, set] = {}  # chunks of each source read by this compute
    for array in arrays:
        hlg = getattr(array, "__dask_graph__", lambda: None)()
        layers = getattr(hlg, "layers", None)
        if layers is None or not set(layers) & set(counter.sources):
            continue
        # cull layer by layer (no whole-graph materialisation per compute)
        culled = hlg.cull(set(flatten(array.__dask_keys__()))).layers
        # (culled layers get a suffix; their task keys keep the array's name)
        for layer_name, layer in culled.items():
            for name in counter.sources:
                if layer_name.startswith(name):
                    keys = (k for k in layer.keys() if k[0] == name)
                    touched.setdefault(name, set()).update(keys)
    for name, keys in touched.items():
        counter.reads += len(keys) / max(counter.sources[name], 1)


def reads() -> float | None:
    """Passes over the scan's data so far in the enclosing call (2 decimals), or
    None outside one."""
    counter = _reads.get()
    return None if counter is None else round(counter.reads, 2)


@contextmanager
def progress(show: bool, description: str):
    """One bar for every compute inside (an enclosing scope wins); yields the
    scope's :class:`ReadCounter`."""
    if _current.get() is not None:
        yield _reads.get()
        return
    bar = _Bar(description) if show else False
    token = _current.set(bar)
    try:
        with count_data_reads() as counter:
            yield counter
    finally:
        _current.reset(token)
        if bar:
            bar.close()


@contextmanager
def count_data_reads():
    """Count the reads of the scan's data inside (an enclosing count wins):
    yields the :class:`ReadCounter`."""
    counter = _reads.get()
    if counter is not None:
        yield counter
        return
    counter = ReadCounter()
    token = _reads.set(counter)
    try:
        yield counter
    finally:
        _reads.reset(token)


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
            from hyperspy_manifold._chunks import show_progressbar_default

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
