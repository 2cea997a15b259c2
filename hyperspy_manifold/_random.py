"""The one ``random_state`` policy of the package.

Every public function with a random step takes ``random_state`` as None, an int,
a :class:`numpy.random.RandomState` or a :class:`numpy.random.Generator`
(scikit-learn's and numpy's conventions together), and turns it here, and only
here, into what its steps need:

- :func:`integer_seeds`: independent integer seeds for libraries that take one
  (UMAP, HDBSCAN, scikit-learn), derived with :class:`numpy.random.SeedSequence`
  so that the same int always gives the same seeds;
- :func:`as_generator`: a :class:`numpy.random.Generator` for numpy sampling;
- :func:`as_random_state`: a :class:`numpy.random.RandomState` for code written
  against scikit-learn's ``check_random_state``;
- :func:`seed_sequences`: independent :class:`numpy.random.SeedSequence` children.

None draws fresh entropy from the operating system (not reproducible; UMAP then
runs multi-threaded). A ``Generator`` or ``RandomState`` is consumed like
scikit-learn consumes one: a fresh object made from the same seed gives the same
result, the same object passed twice gives two different results. Anything else
(a float, a string, a bool) raises a ``TypeError`` naming ``random_state``.
"""

from __future__ import annotations

import numbers

import numpy as np

#: What a ``random_state`` may be, for docstrings and error messages.
ACCEPTED = "None, an int, a numpy.random.RandomState or a numpy.random.Generator"

#: Entropy drawn from a ``Generator``/``RandomState`` to seed what it becomes.
_ENTROPY_BITS = 63


def check_random_state(random_state):
    """``random_state`` validated: None, a non-negative int, a ``RandomState`` or a
    ``Generator`` (returned as given, ints as Python ints)."""
    if random_state is None or isinstance(
        random_state, (np.random.RandomState, np.random.Generator)
    ):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, (bool, np.bool_)
    ):
        if random_state < 0:
            raise ValueError(
                f"`random_state` must be a non-negative integer, got {random_state}."
            )
        return int(random_state)
    raise TypeError(
        f"`random_state` must be {ACCEPTED}, got {type(random_state).__name__} "
        f"({random_state!r})."
    )


def _entropy(random_state) -> int | None:
    """An int (or None) standing for ``random_state``; generators are drawn from."""
    random_state = check_random_state(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**_ENTROPY_BITS))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**_ENTROPY_BITS, dtype=np.int64))
    return random_state


def seed_sequences(random_state, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent ``SeedSequence`` children of ``random_state``."""
    return np.random.SeedSequence(_entropy(random_state)).spawn(n)


def integer_seeds(random_state, n: int) -> list[int | None]:
    """``n`` independent integer seeds in [0, 2**32) (None stays ``n`` Nones, so
    every library draws its own entropy)."""
    entropy = _entropy(random_state)
    if entropy is None:
        return [None] * n
    return [int(x) for x in np.random.SeedSequence(entropy).generate_state(n)]


def as_generator(random_state) -> np.random.Generator:
    """A ``Generator``: the one given, ``default_rng(int)``, or one seeded from a
    ``RandomState`` (or from fresh entropy for None)."""
    random_state = check_random_state(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(_entropy(random_state))


def as_random_state(random_state) -> np.random.RandomState:
    """A ``RandomState``: the one given, ``RandomState(int)`` (scikit-learn's
    ``check_random_state``), or one seeded from a ``Generator`` (or from fresh
    entropy for None)."""
    random_state = check_random_state(random_state)
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, int) and random_state < 2**32:
        return np.random.RandomState(random_state)
    return np.random.RandomState(np.random.MT19937(_entropy(random_state)))
