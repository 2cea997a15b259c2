"""Signal methods are thin wrappers of the public functions."""

import functools


def api_method(func):
    """Make ``func(signal, ...)`` a method ``signal.func(...)`` with the same docs."""

    @functools.wraps(func)
    def method(self, *args, **kwargs):
        return func(self, *args, **kwargs)

    return method
