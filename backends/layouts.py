"""The one layout every compiled kernel and loop takes: C-contiguous NumPy arrays of float32
or float64. Anything else goes to the NumPy code, which takes every layout."""

import numpy


def large_float(a, min_size):
    """Whether `a` is a C-contiguous float32/float64 ndarray of at least `min_size`
    elements. (The size comes first: on small arrays this check is all a compiled path adds
    to NumPy's cost.)"""
    return (getattr(a, "size", 0) >= min_size and type(a) is numpy.ndarray
            and a.dtype.char in "fd" and a.flags.c_contiguous)


def same_layout(min_size, first, *others):
    """Whether `first` is a large float array and each of `others` is None or an array of
    its shape, dtype and (C-contiguous) layout."""
    if not large_float(first, min_size):
        return False
    for a in others:
        if a is not None and not (type(a) is numpy.ndarray and a.shape == first.shape
                                  and a.dtype == first.dtype and a.flags.c_contiguous):
            return False
    return True


def flat(a):
    """`a` as one row (a view: `a` is C-contiguous), or None."""
    return None if a is None else a.reshape(-1)
