"""Numerically stable kernels: huge inputs give finite, exact answers and gradients."""

import numpy as np
import pytest

import autograd as ag


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_of_plus_minus_1000_is_exact(backend, dtype):
    x = ag.tensor([-1000.0, 0.0, 1000.0], dtype=dtype, requires_grad=True)
    y = x.sigmoid()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25, 0.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_of_logits_plus_minus_1e4(backend, dtype):
    logits = ag.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    soft = logits.softmax()
    np.testing.assert_allclose(soft.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    log_soft = logits.log_softmax()
    np.testing.assert_allclose(log_soft.numpy(), [[0.0, -1e4, -2e4], [-np.log(3)] * 3],
                               rtol=1e-6)
    lse = logits.logsumexp(axis=1)
    np.testing.assert_allclose(lse.numpy(), [1e4, -1e4 + np.log(3)], rtol=1e-6)
    (soft.sum() + log_soft[:, 0].sum() + lse.sum()).backward()
    assert np.all(np.isfinite(logits.grad.numpy()))
    # d lse / d logits = softmax; d log_softmax[:, 0] / d logits = onehot(0) - softmax
    expected = np.array([[1, 0, 0], [1 / 3] * 3]) + np.array([[1, 0, 0], [1, 0, 0]]) \
        - np.array([[1, 0, 0], [1 / 3] * 3])
    atol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=atol)


def test_logsumexp_of_all_minus_infinity_is_minus_infinity(backend):
    x = ag.tensor([-np.inf, -np.inf], dtype="float64")
    assert x.logsumexp().item() == -np.inf
