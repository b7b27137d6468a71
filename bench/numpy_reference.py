"""Math shared by the hand-written NumPy comparators, in the numerically stable forms the
backends use, so a comparison measures the engine and not a cheaper formula."""

import numpy


def sigmoid(x):
    """1 / (1 + exp(-x)) computed from exp(-|x|), which never overflows."""
    e = numpy.exp(-numpy.abs(x))
    return numpy.where(x >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(logits):
    """Row-wise log-softmax, shifted by each row's maximum."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - numpy.log(numpy.exp(shifted).sum(axis=1, keepdims=True))
