"""PLACEHOLDER: being written (radial variance, angular average)."""


def get_radial_variance(s, *args, **kwargs):
    raise NotImplementedError


def get_angular_average(s, *args, **kwargs):
    raise NotImplementedError
