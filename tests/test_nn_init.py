"""Initialisers: the empirical mean and variance of a million draws within 3% of each
formula (PyTorch's), for both fan modes and several gains; in-place filling; fan rules."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init

# Shapes of a million elements whose fans differ, one with a receptive field:
# (500, 2000): fan_in 2000, fan_out 500. (400, 250, 10): fan_in 2500, fan_out 4000.
SHAPES = {(500, 2000): (2000, 500), (400, 250, 10): (2500, 4000)}
GAINS = [("linear", None, 1.0), ("relu", None, math.sqrt(2.0)), ("tanh", None, 5.0 / 3),
         ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2 ** 2)))]


def _check_moments(t, mean, var):
    values = t.numpy().astype(np.float64)
    std = math.sqrt(var)
    if mean == 0:
        assert abs(values.mean()) <= 0.03 * std, (values.mean(), std)
    else:
        assert values.mean() == pytest.approx(mean, rel=0.03)
    assert values.var() == pytest.approx(var, rel=0.03)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    with pytest.raises(ValueError, match="softplus"):
        init.calculate_gain("softplus")


def test_uniform_and_normal_moments(backend):
    t = ag.zeros(1000, 1000)
    _check_moments(init.uniform_(t, -2.0, 4.0), 1.0, 6.0 ** 2 / 12)
    _check_moments(init.normal_(t, 0.5, 2.0), 0.5, 4.0)
    _check_moments(init.normal_(t), 0.0, 1.0)


@pytest.mark.parametrize("shape", list(SHAPES), ids=["2d", "3d"])
@pytest.mark.parametrize("gain", [g[2] for g in GAINS], ids=[g[0] for g in GAINS])
def test_xavier_moments(backend, shape, gain):
    fan_in, fan_out = SHAPES[shape]
    var = gain ** 2 * 2.0 / (fan_in + fan_out)
    t = ag.zeros(*shape)
    _check_moments(init.xavier_uniform_(t, gain=gain), 0.0, var)
    _check_moments(init.xavier_normal_(t, gain=gain), 0.0, var)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("shape", list(SHAPES), ids=["2d", "3d"])
@pytest.mark.parametrize("nonlinearity,param,gain", GAINS, ids=[g[0] for g in GAINS])
def test_kaiming_moments(backend, shape, mode, nonlinearity, param, gain):
    fan_in, fan_out = SHAPES[shape]
    var = gain ** 2 / (fan_in if mode == "fan_in" else fan_out)
    t = ag.zeros(*shape)
    a = 0.0 if param is None else param
    _check_moments(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity),
                   0.0, var)
    _check_moments(init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity),
                   0.0, var)


def test_kaiming_default_is_leaky_relu_with_zero_slope():
    t = ag.zeros(1000, 1000)
    _check_moments(init.kaiming_normal_(t), 0.0, 2.0 / 1000)


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_orthogonal_rows_are_orthonormal_times_gain(backend, gain):
    t = ag.zeros(300, 500, dtype="float64")
    init.orthogonal_(t, gain=gain)
    q = t.numpy()
    # Fewer rows than columns: the rows are orthonormal, so each entry has variance 1/500.
    np.testing.assert_allclose(q @ q.T, gain ** 2 * np.eye(300), atol=1e-10)
    _check_moments(t, 0.0, gain ** 2 / 500)
    wide = init.orthogonal_(ag.zeros(30, 4, 5, dtype="float64"), gain=gain).numpy()
    flat = wide.reshape(30, 20)
    # More rows than columns: the columns are the orthonormal ones.
    np.testing.assert_allclose(flat.T @ flat, gain ** 2 * np.eye(20), atol=1e-10)


def test_constant_fills_and_everything_is_in_place(backend):
    t = ag.zeros(3, 4, dtype="float64")
    assert init.constant_(t, 2.5) is t
    np.testing.assert_array_equal(t.numpy(), np.full((3, 4), 2.5))
    assert init.ones_(t) is t and (t.numpy() == 1).all()
    assert init.zeros_(t) is t and (t.numpy() == 0).all()
    for fill in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
                 init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_):
        assert fill(t) is t
        assert t.dtype == "float64" and t.shape == (3, 4) and t.backend.name == backend


def test_parameters_stay_leaves_and_keep_requiring_grad():
    p = nn.Parameter(ag.zeros(4, 3))
    init.xavier_uniform_(p)
    assert p.requires_grad and p.is_leaf and isinstance(p, nn.Parameter)
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * p.numpy())


def test_draws_follow_the_seed():
    ag.manual_seed(7)
    first = init.kaiming_uniform_(ag.zeros(5, 5)).numpy()
    ag.manual_seed(7)
    second = init.kaiming_uniform_(ag.zeros(5, 5)).numpy()
    np.testing.assert_array_equal(first, second)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        init.xavier_uniform_(ag.zeros(5))
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(ag.zeros(2, 2), mode="fan_middle")
